"""The converter's fast path for pair layouts (icdar, wordbox): the shared checks, the task and the ms-swift jsonl
row of a chunk of freshly read samples at once, for the samples that are *plain*.

Reference: the careful per-item path, :func:`swift_ocr.convert.outcome.item_outcome` (after
:func:`~swift_ocr.formats.checks.finish_sample`). Equivalence test: ``tests/test_batch.py`` (both paths, byte for byte,
on the real data of ``../shared/data`` and on generated odd inputs). Chosen by ``ConvertOptions.fast_path`` (default
on; ``False`` converts every item by the reference path).

A sample is plain when the careful per-item path -- :func:`~swift_ocr.formats.checks.finish_sample`, then
:func:`~swift_ocr.tasks.core.run_task`, then the row -- finds nothing to change, flag or reject in it:

* the reader made no fix (e.g. a GB18030 label file is counted; so is an ICDAR label file read in a variant other
  than ICDAR 2015 -- MLT, polygon, 2013 -- which therefore always takes the careful path) and the sample has exactly
  one image file;
* the image passes the image check (:func:`~swift_ocr.images.probe_image_opaque` at the reader's level) and is
  certainly opaque (a JPEG, or a header with no alpha channel or transparent colour: images with transparency are
  composited on white by the careful path);
* every text (the sample's and each region's) is valid UTF-8 and, with NFKC on, already in NFKC;
* every region is a 4-point polygon that :func:`~swift_ocr.formats.geometry.plain_quad_inside` accepts (strictly
  convex, clockwise, inside the image: counter-clockwise quads are re-ordered by the careful path) -- decided
  for all regions of the chunk by one vectorised :func:`~swift_ocr.formats.geometry.plain_quads_inside`;
* the task keeps the page whole: ``rec`` -- a non-empty target; ``det`` -- one untiled target with no region
  rejected (:func:`~swift_ocr.tasks.det.plain_target`).

For a plain sample both paths write the same line, byte for byte. Every other item gets None here and goes through the
careful path, which records its fixes, flags and rejections.
"""
from __future__ import annotations

import os
import unicodedata
from functools import lru_cache
from typing import Callable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from swift_ocr.codecs.grid import BoxFormat, box_grid_array
from swift_ocr.tasks.det import box_format, codec_record, plain_target
from swift_ocr.tasks.order import single_region_lines
from swift_ocr.tasks.tiling import untiled_meta_json
from swift_ocr.errors import OcrFormatError
from swift_ocr.formats.checks import ReadOptions
from swift_ocr.formats.geometry import plain_quads_inside
from swift_ocr.writers.swift_jsonl import one_image_rows
from swift_ocr.images import probe_image_opaque
from swift_ocr.sample import Region, Sample
from swift_ocr.tasks.core import TaskConfig

#: The tasks the fast path writes (``line`` crops images: always the careful path).
FAST_TASKS = ("rec", "det")


def _plain_text(text: str, nfkc: bool) -> bool:
    """``text`` passes :func:`~swift_ocr.formats.text_io.check_text` and is left unchanged by NFKC (when on)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not nfkc or unicodedata.is_normalized("NFKC", text)


def _plain_texts(texts: Sequence[str], nfkc: bool) -> bool:
    """:func:`_plain_text` for every one of ``texts``, decided on the texts joined by NUL characters: the join is
    ASCII, or UTF-8-encodable, exactly when every text is; and NUL is a stable character for NFKC (combining class 0,
    no decomposition, never composes), so the join is in NFKC exactly when every text is (Unicode Standard Annex
    #15, "Stable Code Points": normalisation commutes with concatenation at such a character)."""
    return _plain_text("\0".join(texts), nfkc)


def plain_lines(samples: Sequence[Optional[Sample]], task: TaskConfig, query: str, system: Optional[str],
                options: ReadOptions, image_ref: Callable[[str], str] = os.path.abspath) -> List[Optional[str]]:
    """The ms-swift jsonl line (ending in ``\\n``) of each plain sample, None for the others (see module docstring).

    Args:
        samples: samples as a folder reader's ``read_pair`` gives them (regions: polygons of ``(x, y)`` floats in
            pixels of the image; ``image_size`` not yet read), or None for an item whose reading failed. They are
            not modified.
        task: the task (``rec`` or ``det``; anything else gives all None).
        query: the user turn (``<image>`` tag + instruction, :func:`~swift_ocr.families.prompts.build_query`).
        system: the system prompt, or None.
        options: the reader's checks (image check level, pixel limit, NFKC).
        image_ref: how a row names an image file (default: its absolute path; the converter's
            :meth:`~swift_ocr.convert.outcome.Context.image_ref`).

    Raises:
        ValueError: a det family or order the codecs do not know (a problem with the options).
    """
    out: List[Optional[str]] = [None] * len(samples)
    if task.task not in FAST_TASKS:
        return out
    pages = []  # (position, sample, size, first row in coords)
    counts: List[int] = []  # regions per page
    flat: List[float] = []  # x0, y0, ..., x3, y3 of every region of those pages
    nfkc, check, max_pixels = options.nfkc, options.check_images, options.max_image_pixels
    for k, s in enumerate(samples):
        if s is None or s.fixes or s.image_bytes is not None or len(s.images) != 1:
            continue
        regions = s.regions
        if not _plain_texts([s.text, *[r.text for r in regions]], nfkc):
            continue
        start = len(flat)
        try:
            for r in regions:
                (x0, y0), (x1, y1), (x2, y2), (x3, y3) = r.polygon
                flat += (x0, y0, x1, y1, x2, y2, x3, y3)
        except (TypeError, ValueError):  # not 4 points of (x, y)
            del flat[start:]
            continue
        try:
            size, opaque = probe_image_opaque(s.images[0], check, max_pixels, name=str(s.images[0]))
        except OcrFormatError:
            opaque = False
        if not opaque:  # a bad image, or one that may be composited on white: the careful path
            del flat[start:]
            continue
        pages.append((k, s, size, start // 8))
        counts.append(len(regions))
    if not pages:
        return out
    coords = np.fromiter(flat, np.float64, len(flat)).reshape(-1, 8)
    sizes = np.array([p[2] for p in pages], dtype=np.float64).reshape(-1, 2)
    ok = plain_quads_inside(coords, np.repeat(sizes[:, 0], counts), np.repeat(sizes[:, 1], counts))
    # a page is plain when none of its regions is refused: refusals before each page's first and after its last row
    refused = np.concatenate(([0], np.cumsum(~ok)))
    starts = np.array([p[3] for p in pages])
    plain = [p for p, bad in zip(pages, (refused[starts + counts] - refused[starts]).tolist()) if not bad]
    row = one_image_rows(query, system)
    if task.task == "rec":
        for k, s, size, _ in plain:
            if s.text.strip():
                out[k] = row(s.text, image_ref(s.images[0]))
        return out
    record = codec_record(task.family, task.codec_params())  # the codec settings each row records (or None)
    for (k, s, size, _), target in zip(plain, _det_targets(plain, coords, task)):
        if target is not None:
            image = os.path.abspath(s.images[0])
            out[k] = row(target, image_ref(image), untiled_meta_json(size, image, record))
    return out


def _det_targets(plain, coords: np.ndarray, task: TaskConfig) -> List[Optional[str]]:
    """The det target of each plain page (``(position, sample, size, first row in coords)``), or None where
    :func:`~swift_ocr.tasks.det.plain_target` declines. Box objects of families with a
    :class:`~swift_ocr.codecs.grid.BoxFormat` are rendered for the whole chunk at once (:func:`_render`); other
    families encode region by region."""
    x0, y0, x1, y1, x2, y2, x3, y3 = np.ascontiguousarray(coords.T)
    minimum, maximum = np.minimum, np.maximum
    # bounding boxes in pixels: equal to region_bbox's, up to the sign of a zero (no grid value, line grouping or
    # reading order depends on it)
    bbox = np.stack([minimum(minimum(x0, x1), minimum(x2, x3)), minimum(minimum(y0, y1), minimum(y2, y3)),
                     maximum(maximum(x0, x1), maximum(x2, x3)), maximum(maximum(y0, y1), maximum(y2, y3))], axis=1)
    params = task.codec_params()
    family, order, max_boxes = task.family, task.order, task.max_boxes
    pages: List[_Page] = []
    # size -> BoxFormat for this chunk: box_format's own cache builds a (codec, size, types) key per call, which
    # measurably costs on this hot path (about 1.5 % of a det conversion); sizes from probe_image are ints
    formats = {}
    for _, s, size, start in plain:
        regions = s.regions
        care = [r for r in regions if not r.dont_care]
        rows = list(range(start, start + len(regions))) if len(care) == len(regions) else [
            i for i, r in enumerate(regions, start) if not r.dont_care]
        fmt = None
        if care and (max_boxes is None or len(care) <= max_boxes):
            fmt = formats.get(size)
            if fmt is None:
                fmt = formats[size] = box_format(family, size, params)
        pages.append(_Page(care, rows, size, fmt))
    objects = _render([p for p in pages if p.fmt is not None], bbox)
    # reading sequences of the pages whose lines hold one region each, at once (the others: group_boxes)
    sequences = (single_region_lines(bbox[[i for p in pages for i in p.rows]], [len(p.rows) for p in pages])
                 if order != "source" else [None] * len(pages))
    targets: List[Optional[str]] = []
    for (care, rows, size, fmt), sequence in zip(pages, sequences):
        page_objects = next(objects) if fmt is not None else None
        if fmt is not None and page_objects is None:  # a text the family cannot carry: careful path
            targets.append(None)
            continue
        # the boxes are only read when objects or sequence are missing
        boxes = bbox[rows].tolist() if page_objects is None or sequence is None else ()
        targets.append(plain_target(care, boxes, size, family, order, max_boxes, params, objects=page_objects,
                                    sequence=sequence))
    return targets


class _Page(NamedTuple):
    """A plain page of the det task."""

    care: List[Region]  #: its care regions, in source order
    rows: List[int]  #: their rows in the chunk's coordinates and bounding boxes
    size: Tuple[int, int]  #: the image's (width, height), pixels
    fmt: Optional[BoxFormat]  #: the family's box format for that size; None: encoded region by region, or declined


def _render(pages: List[_Page], bbox: np.ndarray) -> Iterator[Optional[List[str]]]:
    """The box objects of each page (all with a ``fmt``), in source order, or None for a page with a text its format
    refuses (``ValueError``). ``bbox``: ``(m, 4)`` bounding boxes of the chunk's rows, pixels.

    When every format checks its texts by :attr:`~swift_ocr.codecs.grid.BoxFormat.forbidden` strings, shares one
    template, and no text holds them (nor a NUL character), the objects of all pages come from a single ``%`` over
    the templates joined by NULs, split at the NULs; otherwise page by page, object by object."""
    if not pages:
        return iter(())
    counts = [len(p.rows) for p in pages]
    values = box_grid_array(bbox[[i for p in pages for i in p.rows]], [p.fmt.grid for p in pages], counts)
    fmt = pages[0].fmt
    texts = [r.text for p in pages for r in p.care]
    joined = "\0".join(texts)
    if (fmt.forbidden is not None and "\0" not in fmt.template and joined.count("\0") == len(texts) - 1
            and all((p.fmt.template, p.fmt.text_last, p.fmt.forbidden) == (fmt.template, fmt.text_last, fmt.forbidden)
                    for p in pages)
            and not any(f in joined for f in fmt.forbidden)):
        args = np.empty((len(texts), 5), dtype=object)  # rows (text, u1, v1, u2, v2), or the text last
        args[:, 4 if fmt.text_last else 0] = texts
        numerals = _numerals(int(values.max()) if len(values) else 0)
        if numerals is None:  # as Python ints for %d
            args[:, slice(0, 4) if fmt.text_last else slice(1, 5)] = values
            template = fmt.template
        else:  # as their decimal strings, for the same template with %s: %d's own work done once per value
            args[:, slice(0, 4) if fmt.text_last else slice(1, 5)] = numerals[values]
            template = _decimal_fields_as_strings(fmt.template)
        objects = ("\0".join([template] * len(texts)) % tuple(args.ravel().tolist())).split("\0")
        return _per_page(objects, counts)
    return (_page_objects(p.fmt, p.care, v) for p, v in zip(pages, _per_page(values.tolist(), counts)))


#: Largest grid value written from :func:`_numerals`' table (0-1000 grids, and pixel grids of images up to this size);
#: larger values are formatted by ``%d`` one by one.
MAX_NUMERAL = 1 << 14
_NUMERALS = np.array(["0"], dtype=object)


def _numerals(largest: int) -> Optional[np.ndarray]:
    """An object array whose item ``i`` is ``"%d" % i`` for ``0 <= i <= largest`` (grown on demand and kept), or None
    when ``largest`` exceeds :data:`MAX_NUMERAL`."""
    global _NUMERALS
    if largest > MAX_NUMERAL:
        return None
    if largest >= len(_NUMERALS):
        _NUMERALS = np.array(["%d" % i for i in range(max(largest + 1, 2 * len(_NUMERALS)))], dtype=object)
    return _NUMERALS


@lru_cache(maxsize=64)
def _decimal_fields_as_strings(template: str) -> str:
    """``template`` with its ``%d`` fields as ``%s`` (``"%%"``, a literal percent sign, is kept: the pairs are found
    from the left, as ``%`` reads them), so that ``t % (..., "%d" % v, ...)`` is ``template % (..., v, ...)``."""
    return "%%".join(part.replace("%d", "%s") for part in template.split("%%"))


def _per_page(items: List, counts: Sequence[int]) -> Iterator[List]:
    start = 0
    for n in counts:
        yield items[start:start + n]
        start += n


def _page_objects(fmt: BoxFormat, care, values) -> Optional[List[str]]:
    try:
        return [fmt.render(fmt.text(r), v) for r, v in zip(care, values)]
    except ValueError:
        return None
