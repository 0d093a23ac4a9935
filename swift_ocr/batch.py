"""Batch fast path of the converter for folder layouts (icdar, wordbox): the shared checks, the task and the
ms-swift jsonl row of a chunk of freshly read samples at once, for the samples that are *plain*.

A sample is plain when the careful per-item path -- :func:`~swift_ocr.formats.checks.finish_sample`, then
:func:`~swift_ocr.tasks.run_task`, then the row -- finds nothing to change, flag or reject in it:

* the reader made no fix (e.g. a GB18030 label file is counted) and the sample has exactly one image file;
* the image passes the image check (:func:`~swift_ocr.images.probe_image` at the reader's level);
* every text (the sample's and each region's) is valid UTF-8 and, with NFKC on, already in NFKC;
* every region is a 4-point polygon that :func:`~swift_ocr.formats.geometry.plain_quad_inside` accepts -- decided
  for all regions of the chunk by one vectorised :func:`~swift_ocr.formats.geometry.plain_quads_inside`;
* the task keeps the page whole: ``rec`` -- a non-empty target; ``det`` -- one untiled target with no region
  rejected (:func:`~swift_ocr.det_task.plain_target`).

For a plain sample both paths write the same line, byte for byte (``tests/test_batch.py`` compares them on the
real data of ``../shared/data`` and on generated odd inputs). Every other item gets None here and goes through the
careful path, which records its fixes, flags and rejections.
"""
from __future__ import annotations

import os
import unicodedata
from itertools import chain
from typing import List, Optional, Sequence

import numpy as np

from .codecs.base import box_grid_values
from .det_task import META_ATTR, box_format, plain_target, untiled_meta
from .errors import OcrFormatError
from .formats.checks import ReadOptions
from .formats.geometry import plain_quads_inside
from .formats.swift_jsonl import swift_row_line
from .images import probe_image
from .sample import Sample
from .tasks import TaskConfig

#: The tasks the batch path writes (``line`` crops images: always the careful path).
BATCH_TASKS = ("rec", "det")


def _plain_text(text: str, nfkc: bool) -> bool:
    """``text`` passes :func:`~swift_ocr.formats.text_io.check_text` and is left unchanged by NFKC (when on)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not nfkc or unicodedata.is_normalized("NFKC", text)


def plain_lines(samples: Sequence[Optional[Sample]], task: TaskConfig, query: str, system: Optional[str],
                options: ReadOptions) -> List[Optional[str]]:
    """The ms-swift jsonl line (ending in ``\\n``) of each plain sample, None for the others (see module docstring).

    Args:
        samples: samples as a folder reader's ``read_pair`` gives them (regions: polygons of ``(x, y)`` floats in
            pixels of the image; ``image_size`` not yet read), or None for an item whose reading failed. They are
            not modified.
        task: the task (``rec`` or ``det``; anything else gives all None).
        query: the user turn (``<image>`` tag + instruction, :func:`~swift_ocr.prompts.build_query`).
        system: the system prompt, or None.
        options: the reader's checks (image check level, pixel limit, NFKC).

    Raises:
        ValueError: a det family or order the codecs do not know (a problem with the options).
    """
    out: List[Optional[str]] = [None] * len(samples)
    if task.task not in BATCH_TASKS:
        return out
    pages = []  # (position, sample, size, number of regions)
    flat: List[float] = []
    widths: List[int] = []
    heights: List[int] = []
    nfkc = options.nfkc
    for k, s in enumerate(samples):
        if s is None or s.fixes or s.image_bytes is not None or len(s.images) != 1:
            continue
        regions = s.regions
        if not _plain_text(s.text, nfkc) or not all(_plain_text(r.text, nfkc) for r in regions):
            continue
        if not all(len(r.polygon) == 4 for r in regions):
            continue
        start = len(flat)
        flat.extend(chain.from_iterable(chain.from_iterable(r.polygon for r in regions)))
        if len(flat) != start + 8 * len(regions):  # a point that is not an (x, y) pair
            del flat[start:]
            continue
        try:
            size = probe_image(s.images[0], options.check_images, options.max_image_pixels, name=str(s.images[0]))
        except OcrFormatError:
            del flat[start:]
            continue
        widths.extend([size[0]] * len(regions))
        heights.extend([size[1]] * len(regions))
        pages.append((k, s, size, len(regions)))
    if not pages:
        return out
    coords = np.array(flat, dtype=np.float64).reshape(-1, 8)
    ok = plain_quads_inside(coords, widths, heights).tolist()
    plain = []  # (position, sample, size, first row)
    end = 0
    for k, s, size, n in pages:
        start, end = end, end + n
        if all(ok[start:end]):
            plain.append((k, s, size, start))
    if task.task == "rec":
        for k, s, size, _ in plain:
            if s.text.strip():
                out[k] = swift_row_line(query, s.text, [os.path.abspath(s.images[0])], system)
        return out
    for (k, s, size, _), target in zip(plain, _det_targets(plain, coords, task)):
        if target is not None:
            image = os.path.abspath(s.images[0])
            out[k] = swift_row_line(query, target, [image], system, {META_ATTR: untiled_meta(size, image)})
    return out


def _det_targets(plain, coords: np.ndarray, task: TaskConfig) -> List[Optional[str]]:
    """The det target of each plain page (``(position, sample, size, first row in coords)``), or None where
    :func:`~swift_ocr.det_task.plain_target` declines. Box objects of families with a
    :class:`~swift_ocr.codecs.base.BoxFormat` are rendered for the whole chunk at once (grid values with
    :func:`~swift_ocr.codecs.base.box_grid_values`); other families encode region by region."""
    xs, ys = coords[:, 0::2], coords[:, 1::2]
    # bounding boxes in pixels: equal to region_bbox's, up to the sign of a zero (no grid value, line grouping or
    # reading order depends on it)
    bbox = np.stack([xs.min(axis=1), ys.min(axis=1), xs.max(axis=1), ys.max(axis=1)], axis=1)
    boxes = bbox.tolist()
    params = {"shape": "quad"} if task.det_shape == "quad" else None
    family, order, max_boxes = task.family, task.order, task.max_boxes
    pages = []  # (care regions, their rows, size, BoxFormat or None)
    for _, s, size, start in plain:
        rows = [start + i for i, r in enumerate(s.regions) if not r.dont_care]
        care = [r for r in s.regions if not r.dont_care]
        fits = care and (max_boxes is None or len(care) <= max_boxes)
        pages.append((care, rows, size, box_format(family, size, params) if fits else None))
    with_format = [p for p in pages if p[3] is not None]
    values = iter(box_grid_values(bbox[[i for p in with_format for i in p[1]]], [p[3].grid for p in with_format],
                                  [len(p[1]) for p in with_format]))
    targets: List[Optional[str]] = []
    for care, rows, size, fmt in pages:
        objects = None
        if fmt is not None:
            page_values = [next(values) for _ in rows]
            try:
                objects = [fmt.render(fmt.text(r), v) for r, v in zip(care, page_values)]
            except ValueError:  # a text the family cannot carry: the careful path rejects that region
                targets.append(None)
                continue
        targets.append(plain_target(care, [boxes[i] for i in rows], size, family, order, max_boxes, params,
                                    objects=objects))
    return targets
