"""The ``det`` task: one source :class:`~swift_ocr.sample.Sample` -> detection-as-text training samples
(issue "Detection as text", part 2).

Each output sample's ``text`` is the family codec's target (:mod:`swift_ocr.codecs`) for the sample's **care**
regions, in reading order; its image is the whole source image or, when a page has more boxes than ``max_boxes``,
one tile of it. ``###`` (do-not-care) regions never enter a target; they stay in the original label files, which
``swift-ocr eval det --gt`` scores against (ICDAR 2015 protocol: detections on them are ignored).

Inputs: any sample with regions -- ICDAR/SROIE quads (:mod:`swift_ocr.formats.icdar`) or word-box characters,
which the word-box reader already groups into line regions (:func:`swift_ocr.formats.wordbox.group_lines`).
Polygons are in pixels of the original image (:mod:`swift_ocr.sample`).

Reading order (``order``):

* ``"tb-lr"`` (default): lines top to bottom, each left to right. Regions are grouped into lines by vertical
  overlap: sorted by the centre ``y`` of their bounding box, a region joins the line above it when its vertical
  extent overlaps the line's mean extent by at least :data:`LINE_OVERLAP` of the smaller of the two heights;
* ``"tb-rl"``: the same lines, each right to left (Arabic, Hebrew);
* ``"source"``: the order of the label file.

Capping boxes per sample (``max_boxes``), so that a target fits ``--max_length`` (an InternVL box costs about
20 tokens plus its text):

* ``tiling="strips"`` (default): the image is cut into full-width horizontal strips of whole lines, each holding
  at most ``max_boxes`` regions; a strip boundary lies half-way between the last line of one strip and the first
  line of the next, so the strips cover the image without overlap. A single line with more than ``max_boxes``
  regions gets its own strip, cut into side-by-side pieces between regions. Each tile is cropped out of the image
  (PNG bytes in ``Sample.image_bytes``, file name ``<image stem>_t<k>.png`` in ``Sample.images``) and its regions
  are shifted into the tile and clipped to it (a region that crosses a boundary -- only when lines overlap
  vertically -- is clipped; one left with no area is rejected, kind ``degenerate_region``);
* ``tiling="none"``: a page with more than ``max_boxes`` care regions is rejected (kind ``too_many_boxes``).

Tile metadata: every output sample carries, as the attribute ``swift_ocr`` (read it with :func:`det_meta`), the
dict ``{"image_size": [w, h], "offset": [x, y], "source_image": path}``: the size in pixels of the image the
target's coordinates refer to (the tile, or the whole image), the tile's top-left corner in pixels of the source
image, and the source image path (absolute; for images that came as bytes, e.g. parquet rows, their display
name). Writers put it in each ms-swift row under the key ``"swift_ocr"``; ``swift-ocr eval det`` reads it to map a
tile's boxes back to its source image (:data:`swift_ocr.eval.det_results.TILE_KEY`). ``swift infer`` keeps that
column only with ``--remove_unused_columns false``.

Nothing is dropped silently: a region that cannot be used (``Region.issue`` set by the readers' geometry checks,
an empty transcription, a text the family format cannot carry) is a region rejection; a sample that gives no
target is an :class:`~swift_ocr.errors.OcrFormatError`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from swift_ocr.codecs import Codec, get_codec
from swift_ocr.codecs.base import BoxFormat, ObjectEncoder, region_bbox
from swift_ocr.errors import KINDS, OcrFormatError, Rejection
from swift_ocr.formats.geometry import MIN_REGION_AREA, clip_polygon
from swift_ocr.formats.polygons import min_area_quad
from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS, encode_png, image_size as read_image_size, open_rgb
from swift_ocr.sample import Region, Sample

ORDERS = ("tb-lr", "tb-rl", "source")
TILINGS = ("strips", "none")
#: Name of the tile-metadata attribute of the samples :func:`det` returns, and of the ms-swift row field.
META_ATTR = "swift_ocr"
#: Minimum vertical overlap (fraction of the smaller height) for a region to join a line.
LINE_OVERLAP = 0.5
#: Rejection kinds this task adds (also listed in :data:`swift_ocr.errors.KINDS`).
DET_KINDS = {k: KINDS[k] for k in ("unencodable_text", "too_many_boxes")}

Box = Tuple[float, float, float, float]


@dataclass
class _Item:
    """A usable care region with its position in the source order."""

    index: int
    region: Region
    box: Box  # (x1, y1, x2, y2), pixels of the source image


#: Codecs :func:`det` has built, by family and parameters (a codec holds only its parameters).
_CODECS: Dict[Any, Codec] = {}


def _codec(family: str, params: Optional[Dict[str, Any]]) -> Codec:
    """``get_codec(family, **params)``, built once per family and parameters."""
    try:
        key = (family, tuple(sorted(params.items())) if params else ())
        codec = _CODECS.get(key)
    except TypeError:  # unhashable parameter values
        return get_codec(family, **(params or {}))
    if codec is None:
        codec = get_codec(family, **(params or {}))
        if len(_CODECS) >= 64:
            _CODECS.clear()
        _CODECS[key] = codec
    return codec


#: Per-region encoders and box formats of :func:`_codec`'s codecs, by codec and image size (a page size recurs across
#: a data set).
_ENCODERS: Dict[Any, Optional[ObjectEncoder]] = {}
_BOX_FORMATS: Dict[Any, Optional[BoxFormat]] = {}


def _per_size(cache: Dict[Any, Any], codec: Codec, size: Tuple[int, int], build: Callable[[Tuple[int, int]], Any]):
    """``build(size)``, kept in ``cache`` for the next sample of that size (and value types: ``1280`` and ``1280.0``
    hash alike, a codec may refuse one of them); None when the codec refuses ``size`` (``ValueError``)."""
    try:
        key = (codec, size, *map(type, size))
        if key in cache:
            return cache[key]
    except TypeError:  # not a tuple of hashable values: let the codec judge it, uncached
        key = None
    try:
        value = build(size)
    except ValueError:
        value = None
    if key is not None:
        if len(cache) >= 256:
            cache.clear()
        cache[key] = value
    return value


def _object_encoder(codec: Codec, size: Tuple[int, int]) -> Optional[ObjectEncoder]:
    """``codec.object_encoder(size)``, kept per size (:func:`_per_size`); None when the codec refuses ``size``."""
    return _per_size(_ENCODERS, codec, size, codec.object_encoder)


def det_meta(sample: Sample) -> Optional[Dict[str, Any]]:
    """The tile metadata :func:`det` attached to ``sample``: ``{"image_size", "offset", "source_image"}``, else None."""
    return getattr(sample, META_ATTR, None)


# ------------------------------------------------------------------------------------------ reading order


def group_lines(regions: Sequence[Region]) -> List[List[int]]:
    """Group regions into text lines: indices into ``regions``, lines top to bottom, each in left-to-right order.

    Coordinates: ``Region.polygon`` in pixels (any image); only the axis-aligned bounding boxes are used. See the
    module docstring for the rule (:data:`LINE_OVERLAP`).
    """
    return group_boxes([r.bbox() for r in regions])


def group_boxes(boxes: Sequence[Box]) -> List[List[int]]:
    """:func:`group_lines` on the regions' bounding boxes ``(x1, y1, x2, y2)`` (pixels): indices into ``boxes``."""
    # Sorting the key tuples themselves (index last) compares the same keys as sorted(..., key=...) would.
    by_centre = [((y1 + y2) / 2, x1, i) for i, (x1, y1, _, y2) in enumerate(boxes)]
    by_centre.sort()
    lines: List[List[int]] = []
    line: List[int] = []
    n = 0  # regions in the current line
    tops = bottoms = 0.0  # sums of their y1 and y2, added up in line order as sum() does: sum(tops) / n is the mean
    for _, _, i in by_centre:
        _, y1, _, y2 = boxes[i]
        if n:
            ly1, ly2 = tops / n, bottoms / n  # the line's mean extent
            # overlap = min(y2, ly2) - max(y1, ly1), keeping the builtins' choice between equal values
            overlap = (ly2 if ly2 < y2 else y2) - (ly1 if ly1 > y1 else y1)
            if overlap > 0:
                h, lh = y2 - y1, ly2 - ly1
                if overlap >= LINE_OVERLAP * (lh if lh < h else h):
                    line.append(i)
                    tops += y1
                    bottoms += y2
                    n += 1
                    continue
        line = [i]
        lines.append(line)
        tops, bottoms, n = 0 + y1, 0 + y2, 1  # as sum([y1]): 0 + y1
    for k, line in enumerate(lines):
        if len(line) > 1:
            lines[k] = [j for _, j in sorted([(boxes[j][0], j) for j in line])]
    return lines


def single_region_lines(boxes, counts: Sequence[int]) -> List[Optional[List[int]]]:
    """For many pages at once (numpy): the reading sequence of each page whose lines (:func:`group_boxes`) all hold
    one region -- then ``tb-lr`` and ``tb-rl`` both read the regions in :func:`group_boxes`' sort by centre -- and
    None for the other pages (they need :func:`group_boxes`).

    A page has only one-region lines exactly when no region, taken in that sort, would join a line made of the region
    before it alone (:func:`group_boxes`' test, the same float64 operations): by induction every line then keeps one
    region, and every region is compared with exactly that line.

    Args:
        boxes: ``(m, 4)`` finite ``x1, y1, x2, y2`` (pixels), page by page: the first ``counts[0]`` rows are the
            first page's regions (in source order), and so on.
        counts: regions per page.

    Returns:
        Per page: indices into its own regions in reading order, or None.
    """
    import numpy as np

    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(counts) else counts
    page = np.repeat(np.arange(len(counts)), counts)
    local = np.arange(len(b)) - np.repeat(starts, counts)  # index within the page
    x1, y1, y2 = b[:, 0], b[:, 1], b[:, 3]
    order = np.lexsort((local, x1, (y1 + y2) / 2, page))  # by page, then group_boxes' key (centre y, x1, index)
    y1, y2, page = y1[order], y2[order], page[order]
    overlap = np.minimum(y2[1:], y2[:-1]) - np.maximum(y1[1:], y1[:-1])
    height = y2 - y1
    joins = (page[1:] == page[:-1]) & (overlap > 0) & (overlap >= LINE_OVERLAP * np.minimum(height[1:], height[:-1]))
    shared = set(page[1:][joins].tolist())
    sequence = local[order].tolist()
    return [None if k in shared else sequence[start:start + n]
            for k, (start, n) in enumerate(zip(starts.tolist(), counts.tolist()))]


def _check_order(order: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"unknown reading order {order!r}; choose from {', '.join(ORDERS)}")


def _ordered_lines(items: List[_Item], order: str) -> List[List[_Item]]:
    """Lines of ``items`` (top to bottom), each in the reading direction of ``order``."""
    lines = [[items[j] for j in line] for line in group_boxes([it.box for it in items])]
    if order == "tb-rl":
        lines = [sorted(line, key=lambda it: (-it.box[2], it.index)) for line in lines]
    return lines


def reading_order(regions: Sequence[Region], order: str = "tb-lr") -> List[Region]:
    """``regions`` in reading order (see module docstring for the orders).

    Raises:
        ValueError: unknown ``order``.
    """
    _check_order(order)
    if order == "source":
        return list(regions)
    items = [_Item(i, r, r.bbox()) for i, r in enumerate(regions)]
    return [it.region for line in _ordered_lines(items, order) for it in line]


# ------------------------------------------------------------------------------------------------ det task


def _label(region: Region) -> str:
    where = f"region at line {region.line}" if region.line is not None else "region"
    return f"{where} ({region.text[:40]!r})"


def _text_problem(sample: Sample, region: Region) -> Optional[Rejection]:
    """The region's geometry issue from the reader, else a rejection for an empty transcription, else None."""
    if region.issue is None and not region.text.strip():
        return Rejection(sample.source, region.line, f"{_label(region)}: empty transcription", "empty_text")
    return region.issue


def _reject(problem: Rejection, rejected: Optional[List[Rejection]]) -> None:
    """Record ``problem`` in ``rejected``, or raise it when there is no list (the all-or-nothing callers)."""
    if rejected is None:
        raise problem.to_error()
    rejected.append(problem)


def _usable(sample: Sample, codec: Codec, size: Tuple[int, int],
            rejected: Optional[List[Rejection]]) -> List[_Item]:
    """The care regions that can be targets; the others become rejections (or the first one is raised)."""
    items = []
    for i, region in enumerate(sample.care_regions()):
        problem = _text_problem(sample, region)
        if problem is None:
            try:
                codec.encode([region], size)
            except ValueError as e:
                problem = Rejection(sample.source, region.line, str(e), "unencodable_text")
        if problem is not None:
            _reject(problem, rejected)
            continue
        items.append(_Item(i, region, region.bbox()))
    return items


def _usable_fast(sample: Sample, care: List[Region], encode: ObjectEncoder, rejected: Optional[List[Rejection]]):
    """:func:`_usable` with the codec's per-region encoder (:meth:`Codec.object_encoder`): the same regions and
    rejections, as parallel lists ``(indices, regions, boxes, objects)`` -- index into ``care``, region, its
    bounding box and its object text (for the image size the encoder was built for)."""
    indices, regions, boxes, objects = [], [], [], []
    for i, region in enumerate(care):
        problem = _text_problem(sample, region)
        if problem is None:
            try:
                box = region_bbox(region)
            except Exception:  # a broken polygon: the encoder (then Region.bbox) meets it in the careful order
                box = None
            try:
                obj = encode(region, box)
            except ValueError as e:
                problem = Rejection(sample.source, region.line, str(e), "unencodable_text")
        if problem is not None:
            _reject(problem, rejected)
            continue
        indices.append(i)
        regions.append(region)
        boxes.append(box if box is not None else region.bbox())
        objects.append(obj)
    return indices, regions, boxes, objects


def _reading_sequence(boxes: Sequence[Box], order: str) -> List[int]:
    """Indices into ``boxes`` (regions in source order) in the reading ``order``: the sequence
    :func:`reading_order` gives, without building regions."""
    if order == "source":
        return list(range(len(boxes)))
    lines = group_boxes(boxes)
    if order == "tb-rl":
        return [j for line in lines for j in sorted(line, key=lambda j: (-boxes[j][2], j))]
    return [j for line in lines for j in line]


def _sample_size(sample: Sample, max_image_pixels: Optional[int]) -> Tuple[int, int]:
    if sample.image_size is not None:
        return tuple(sample.image_size)
    if sample.image_bytes is not None:
        return open_rgb(sample.image_bytes, max_image_pixels, name=sample.images[0] if sample.images else None).size
    return read_image_size(sample.images[0], max_image_pixels)


def _source_image(sample: Sample) -> str:
    name = sample.images[0]
    return name if sample.image_bytes is not None else os.path.abspath(name)


def _meta(size: Tuple[int, int], offset: Tuple[int, int], source_image: str) -> Dict[str, Any]:
    return {"image_size": [int(size[0]), int(size[1])], "offset": [int(offset[0]), int(offset[1])],
            "source_image": source_image}


def untiled_meta(size: Tuple[int, int], source_image: str) -> Dict[str, Any]:
    """The :data:`META_ATTR` metadata of an untiled sample: image ``size`` in pixels, offset ``(0, 0)``,
    ``source_image`` (an absolute path, as :func:`det` writes it)."""
    return _meta(size, (0, 0), source_image)


_UNTILED_META_JSON = encode_basestring(META_ATTR) + ': {"image_size": [%d, %d], "offset": [0, 0], "source_image": %s}'


def untiled_meta_json(size: Tuple[int, int], source_image: str) -> str:
    """The row member ``"swift_ocr": {...}`` of :func:`untiled_meta` as JSON text, as ``json.dumps(...,
    ensure_ascii=False)`` writes it (for :func:`~swift_ocr.writers.swift_jsonl.swift_row_line`'s ``extra_json``)."""
    return _UNTILED_META_JSON % (int(size[0]), int(size[1]), encode_basestring(source_image))


def _cuts(groups: List[List[_Item]], lo_axis: int, hi_axis: int, start: int, end: int) -> List[int]:
    """Boundaries ``start = c0 < c1 < ... < cn = end`` (whole pixels) between consecutive groups along one axis:
    half-way between the far edge of a group and the near edge of the next."""
    cuts = [start]
    for a, b in zip(groups, groups[1:]):
        far = max(it.box[hi_axis] for it in a)
        near = min(it.box[lo_axis] for it in b)
        cut = int(round((far + near) / 2))
        cuts.append(min(max(cut, cuts[-1] + 1), end - (len(groups) - len(cuts))))
    cuts.append(end)
    return cuts


def _tiles(lines: List[List[_Item]], max_boxes: int, size: Tuple[int, int], rtl: bool = False):
    """``[((x0, y0, x1, y1), items)]``: the strips of ``lines`` (top to bottom), in pixels of the source image of
    ``size``; the pieces of an over-full line come left to right, or right to left with ``rtl``."""
    bands: List[List[List[_Item]]] = []
    current: List[List[_Item]] = []
    count = 0
    for line in lines:
        if current and (count + len(line) > max_boxes or len(line) > max_boxes):
            bands.append(current)
            current, count = [], 0
        current.append(line)
        count += len(line)
        if count > max_boxes:  # one over-full line: a band of its own
            bands.append(current)
            current, count = [], 0
    if current:
        bands.append(current)
    w, h = size
    band_items = [[it for line in band for it in line] for band in bands]
    ys = _cuts(band_items, 1, 3, 0, h)
    tiles = []
    for k, band in enumerate(bands):
        y0, y1 = ys[k], ys[k + 1]
        items = band_items[k]
        if len(items) <= max_boxes:
            tiles.append(((0, y0, w, y1), items))
            continue
        line = band[0]  # a single line: pieces side by side, cut between regions
        by_x = sorted(line, key=lambda it: (it.box[0], it.index))
        pieces = [by_x[i:i + max_boxes] for i in range(0, len(by_x), max_boxes)]
        xs = _cuts(pieces, 0, 2, 0, w)
        boxes = [((xs[i], y0, xs[i + 1], y1), pieces[i]) for i in range(len(pieces))]
        tiles.extend(reversed(boxes) if rtl else boxes)
    return tiles


def _in_tile(item: _Item, tile: Tuple[int, int, int, int]) -> Optional[Region]:
    """The item's region shifted into ``tile`` and clipped to it; None when nothing of it is left."""
    x0, y0, x1, y1 = tile
    shifted = [(x - x0, y - y0) for x, y in item.region.polygon]
    clipped, _ = clip_polygon(shifted, (x1 - x0, y1 - y0))
    xs, ys = [p[0] for p in clipped], [p[1] for p in clipped]
    if (max(xs) - min(xs)) * (max(ys) - min(ys)) < MIN_REGION_AREA:
        return None
    r = item.region
    return Region(polygon=clipped, text=r.text, dont_care=False, line=r.line)


def box_format(family: str, size: Tuple[int, int], codec_params: Optional[Dict[str, Any]] = None
               ) -> Optional[BoxFormat]:
    """The family codec's :class:`~swift_ocr.codecs.base.BoxFormat` for images of ``size`` (kept for the next page
    of that size), or None: the codec has none (quads), or refuses the size.

    Raises:
        ValueError: unknown family, bad ``codec_params``.
    """
    codec = _codec(family, codec_params)
    return _per_size(_BOX_FORMATS, codec, size, codec.box_format)


_text = attrgetter("text")


def plain_target(care: Sequence[Region], boxes: Sequence[Box], size: Tuple[int, int], family: str,
                 order: str = "tb-lr", max_boxes: Optional[int] = None,
                 codec_params: Optional[Dict[str, Any]] = None,
                 objects: Optional[Sequence[str]] = None, sequence: Optional[Sequence[int]] = None) -> Optional[str]:
    """The target :func:`det` gives a page when it gives one untiled sample and rejects nothing: the care regions'
    objects in reading order. The batch converter (:mod:`swift_ocr.convert.batch`) calls it for pages whose regions all
    passed the geometry checks unchanged.

    Args:
        care: the page's care (not ``###``) regions in source order, unchanged by the geometry checks.
        boxes: each care region's bounding box ``(x1, y1, x2, y2)``, pixels of the image (as :meth:`Region.bbox`);
            only read when ``objects`` or ``sequence`` is not given.
        size: the image's ``(width, height)`` in pixels.
        family, order, max_boxes, codec_params: as for :func:`det`.
        objects: each care region's object, when the caller rendered them already (with the family's
            :func:`box_format`, whose text check has passed for every region); else they are encoded here.
        sequence: the reading ``order`` of ``care`` (indices), when the caller knows it already (e.g. from
            :func:`single_region_lines`); else it is found from ``boxes``.

    Returns:
        The target text, or None when :func:`det` would do anything else -- no care region, a region it rejects
        (empty transcription, a text the codec cannot carry), more than ``max_boxes`` regions (tiles), a size the
        codec refuses -- and the caller must run :func:`det` itself.

    Raises:
        ValueError: unknown family or order, bad ``codec_params``.
    """
    codec = _codec(family, codec_params)
    _check_order(order)
    if not care or (max_boxes is not None and len(care) > max_boxes):
        return None
    if not all(map(str.strip, map(_text, care))):  # C-level loops: the batch converter calls this for every page
        return None
    if objects is None:
        encode = _object_encoder(codec, size)
        if encode is None:
            return None
        try:
            objects = [encode(region, box) for region, box in zip(care, boxes)]
        except ValueError:
            return None
    if sequence is None:
        sequence = _reading_sequence(boxes, order)
    return codec.join_objects([objects[j] for j in sequence])


def _polygons_as_quads(sample: Sample) -> Sample:
    """A copy of ``sample`` whose regions of more than 4 vertices (polygon label files, clipped quads) are their
    minimum-area rectangle (:func:`~swift_ocr.formats.polygons.min_area_quad`; kept as they are when it has no
    area): the quad form of a target carries exactly 4 vertices. Pixels of the original image."""
    regions = []
    for r in sample.regions:
        quad = min_area_quad(r.polygon) if len(r.polygon) > 4 and r.issue is None else None
        regions.append(replace(r, polygon=quad) if quad is not None else r)
    return replace(sample, regions=regions)


def det(sample: Sample, family: str, order: str = "tb-lr", max_boxes: Optional[int] = None,
        tiling: str = "strips", *, rejected: Optional[List[Rejection]] = None,
        codec_params: Optional[Dict[str, Any]] = None,
        max_image_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS) -> List[Sample]:
    """Detection-as-text samples for one source sample.

    The image is not opened when ``sample.image_size`` is known (readers set it from the header check) and the
    page needs no tiles. Each care region is encoded once, by the codec's per-region encoder
    (:meth:`~swift_ocr.codecs.base.Codec.object_encoder`), while it is checked; an untiled target joins those
    objects. Tiles (and a size the codec refuses) take the careful way: ``codec.encode`` per region and per tile.

    Args:
        sample: a sample with regions in pixels of its (first) image, preferably checked by
            :func:`swift_ocr.formats.checks.finish_sample` (regions clipped into the image, ``Region.issue`` set).
        family: codec family (:data:`swift_ocr.codecs.FAMILIES`): the target's text format and coordinate grid.
        order: reading order of the objects in the target, one of :data:`ORDERS`.
        max_boxes: at most this many regions per output sample (None: no cap).
        tiling: what to do with pages over ``max_boxes``, one of :data:`TILINGS`.
        rejected: region rejections are appended here; when None the first one is raised instead.
        codec_params: passed to :func:`swift_ocr.codecs.get_codec` (e.g. ``{"shape": "quad"}`` for internvl).
        max_image_pixels: decompression-bomb limit when the image must be decoded (tiles).

    Returns:
        Samples whose ``text`` is the codec target, ``regions`` the target's regions (pixels of the sample's own
        image: the tile for tiles), ``image_size`` that image's size, and the :data:`META_ATTR` attribute
        (:func:`det_meta`). Untiled: ``images``/``image_bytes`` are the source's own. Tiles: PNG bytes, with
        ``images = ["<stem>_t<k>.png"]``.

    Raises:
        ValueError: unknown family, order or tiling, bad ``codec_params``, ``max_boxes`` < 1.
        OcrFormatError: no regions (kind ``no_regions``), only ``###`` regions (``no_readable_region``), no usable
            care region (``no_usable_region``), more than ``max_boxes`` regions with ``tiling="none"``
            (``too_many_boxes``), an image that cannot be read (``image_*``), or, with ``rejected=None``, the first
            rejected region.
    """
    codec = _codec(family, codec_params)
    _check_order(order)
    if (codec_params or {}).get("shape") == "quad" and any(len(r.polygon) > 4 for r in sample.regions):
        sample = _polygons_as_quads(sample)
    if tiling not in TILINGS:
        raise ValueError(f"unknown tiling {tiling!r}; choose from {', '.join(TILINGS)}")
    if max_boxes is not None and (not isinstance(max_boxes, int) or max_boxes < 1):
        raise ValueError(f"max_boxes must be a whole number >= 1, got {max_boxes!r}")
    if not sample.regions:
        raise OcrFormatError(sample.source, sample.line, "the det task needs text regions with boxes; this source "
                             "has none", "no_regions")
    care = sample.care_regions()
    if not care:
        raise OcrFormatError(sample.source, sample.line, "no readable region (all are ###)", "no_readable_region")
    if not sample.images:
        raise OcrFormatError(sample.source, sample.line, "the sample has no image", "image_missing")
    name = sample.images[0]
    try:
        size = _sample_size(sample, max_image_pixels)
    except OcrFormatError as e:
        raise OcrFormatError(sample.source, sample.line, f"image {name}: {e.reason}", e.kind) from e
    encode = _object_encoder(codec, size)
    if encode is None:  # a bad size: the careful path rejects every region with the codec's message
        items = _usable(sample, codec, size, rejected)
    else:
        indices, regions, boxes, objects = _usable_fast(sample, care, encode, rejected)
        if regions and (max_boxes is None or len(regions) <= max_boxes):
            # The whole image: the objects encoded while checking the regions make the target (same image size).
            chosen = _reading_sequence(boxes, order)
            out = Sample(images=list(sample.images), text=codec.join_objects([objects[j] for j in chosen]),
                         regions=[regions[j] for j in chosen], source=sample.source, line=sample.line,
                         image_size=tuple(size), image_bytes=sample.image_bytes)
            setattr(out, META_ATTR, _meta(size, (0, 0), _source_image(sample)))
            return [out]
        items = [_Item(i, r, b) for i, r, b in zip(indices, regions, boxes)]
    if not items:
        raise OcrFormatError(sample.source, sample.line, f"none of the {len(care)} readable "
                             "region(s) can be a detection target (each is listed as a region rejection)",
                             "no_usable_region")
    source_image = _source_image(sample)

    def finish(regions: List[Region], images, image_bytes, tile_size, offset) -> Sample:
        out = Sample(images=list(images), text=codec.encode(regions, tile_size), regions=regions,
                     source=sample.source, line=sample.line, image_size=tuple(tile_size), image_bytes=image_bytes)
        setattr(out, META_ATTR, _meta(tile_size, offset, source_image))
        return out

    def arrange(chosen: List[_Item]) -> List[_Item]:
        if order == "source":
            return sorted(chosen, key=lambda it: it.index)
        rank = {id(it): k for k, it in enumerate(it for line in lines for it in line)}
        return sorted(chosen, key=lambda it: rank[id(it)])

    lines = _ordered_lines(items, "tb-rl" if order == "tb-rl" else "tb-lr")
    if max_boxes is None or len(items) <= max_boxes:
        regions = [it.region for it in arrange(items)]
        return [finish(regions, sample.images, sample.image_bytes, size, (0, 0))]

    if tiling == "none":
        raise OcrFormatError(sample.source, sample.line, f"{len(items)} care regions, more than max_boxes="
                             f"{max_boxes} (use tiling 'strips' or a larger cap)", "too_many_boxes")

    try:
        image = open_rgb(sample.image_bytes if sample.image_bytes is not None else name, max_image_pixels,
                         name=name)
    except OcrFormatError as e:
        raise OcrFormatError(sample.source, sample.line, f"image {name}: {e.reason}", e.kind) from e
    if image.size != tuple(size):  # regions are in pixels of the decoded image
        raise OcrFormatError(sample.source, sample.line, f"image {name} decodes to {image.size[0]}x{image.size[1]}, "
                             f"not the {size[0]}x{size[1]} its regions refer to", "image_corrupt")
    stem = os.path.splitext(os.path.basename(name))[0]
    out = []
    for k, (tile, chosen) in enumerate(_tiles(lines, max_boxes, size, rtl=order == "tb-rl"), start=1):
        regions = []
        for it in arrange(chosen):
            r = _in_tile(it, tile)
            if r is None:
                problem = Rejection(sample.source, it.region.line, f"{_label(it.region)}: no area left inside tile "
                                    f"{k} {list(tile)} (lines overlap vertically)", "degenerate_region")
                _reject(problem, rejected)
                continue
            regions.append(r)
        if not regions:
            continue
        x0, y0, x1, y1 = tile
        crop = image.crop(tile)
        out.append(finish(regions, [f"{stem}_t{k}.png"], encode_png(crop), (x1 - x0, y1 - y0), (x0, y0)))
    if not out:
        raise OcrFormatError(sample.source, sample.line, "no tile kept a usable region", "no_usable_region")
    return out
