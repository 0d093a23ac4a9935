"""Tiles of the ``det`` task (:mod:`swift_ocr.tasks.det`): the strips of ``tiling="strips"`` -- a page whose care
regions are more than ``max_boxes`` cut into full-width horizontal strips of whole lines, an over-full line into
side-by-side pieces, a region moved into its tile -- and the tile metadata every det sample carries
(:data:`TILE_META_KEY`), which maps a tile's boxes back to its source image and, for a family with codec options
(:attr:`swift_ocr.families.base.ModelFamily.codec_options`, qwen2_5_vl's ``min_pixels``/``max_pixels``), records the
codec settings the target was written with.

Coordinates: tiles ``(x0, y0, x1, y1)`` in whole pixels of the source image; regions of a tile in pixels of the
tile (shifted by its top-left corner and clipped to it). The rules are in :mod:`swift_ocr.tasks.det`'s docstring.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any, Dict, List, Optional, Tuple

from swift_ocr.formats.geometry import MIN_REGION_AREA, clip_polygon
from swift_ocr.sample import Region, Sample
from swift_ocr.tasks.order import PlacedRegion

TILINGS = ("strips", "none")
#: The tile metadata's name: the attribute of the samples :func:`swift_ocr.tasks.det.det` returns, and the field of
#: each ms-swift row that carries it (``{"image_size": [w, h], "offset": [x, y], "source_image": path}``, plus
#: ``"codec": {option: value}`` for a family with codec options: :data:`CODEC_META_KEY`), which ``swift-ocr eval
#: det`` (:mod:`swift_ocr.eval.det_results`) and ``swift-ocr validate`` read.
TILE_META_KEY = "swift_ocr"
#: The member of the tile metadata recording the codec settings a det target was written with:
#: ``{option: value}`` of the family's codec options (:meth:`swift_ocr.families.base.ModelFamily.codec_settings`;
#: qwen2_5_vl: ``{"min_pixels": ..., "max_pixels": ...}``, the ``smart_resize`` bounds in pixels). Absent for families
#: without codec options, whose rows are as before.
CODEC_META_KEY = "codec"


def det_meta(sample: Sample) -> Optional[Dict[str, Any]]:
    """The tile metadata :func:`~swift_ocr.tasks.det.det` attached to ``sample``: ``{"image_size", "offset",
    "source_image"[, "codec"]}``, else None."""
    return getattr(sample, TILE_META_KEY, None)


def tile_meta(size: Tuple[int, int], offset: Tuple[int, int], source_image: str,
              codec: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The :data:`TILE_META_KEY` metadata of a det sample: the ``size`` in pixels of the image its target refers to
    (a tile or the whole image), the tile's top-left ``offset`` in pixels of the source image, the source image path,
    and the ``codec`` settings the target was written with (:data:`CODEC_META_KEY`; left out when None or empty)."""
    meta = {"image_size": [int(size[0]), int(size[1])], "offset": [int(offset[0]), int(offset[1])],
            "source_image": source_image}
    if codec:
        meta[CODEC_META_KEY] = dict(codec)
    return meta


def untiled_meta(size: Tuple[int, int], source_image: str, codec: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The :data:`TILE_META_KEY` metadata of an untiled sample: image ``size`` in pixels, offset ``(0, 0)``,
    ``source_image`` (an absolute path, as :func:`~swift_ocr.tasks.det.det` writes it), ``codec`` settings."""
    return tile_meta(size, (0, 0), source_image, codec)


_UNTILED_META_JSON = (encode_basestring(TILE_META_KEY)
                      + ': {"image_size": [%d, %d], "offset": [0, 0], "source_image": %s}')
_UNTILED_CODEC_META_JSON = (encode_basestring(TILE_META_KEY)
                            + ': {"image_size": [%d, %d], "offset": [0, 0], "source_image": %s, '
                            + encode_basestring(CODEC_META_KEY) + ': %s}')


def untiled_meta_json(size: Tuple[int, int], source_image: str, codec: Optional[Dict[str, Any]] = None) -> str:
    """The row member ``"swift_ocr": {...}`` of :func:`untiled_meta` as JSON text, as ``json.dumps(...,
    ensure_ascii=False)`` writes it (for :func:`~swift_ocr.writers.swift_jsonl.swift_row_line`'s ``extra_json``)."""
    if codec:
        return _UNTILED_CODEC_META_JSON % (int(size[0]), int(size[1]), encode_basestring(source_image),
                                           json.dumps(codec, ensure_ascii=False))
    return _UNTILED_META_JSON % (int(size[0]), int(size[1]), encode_basestring(source_image))


def strip_cuts(groups: List[List[PlacedRegion]], lo_axis: int, hi_axis: int, start: int, end: int) -> List[int]:
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


def strips(lines: List[List[PlacedRegion]], max_boxes: int, size: Tuple[int, int], rtl: bool = False):
    """``[((x0, y0, x1, y1), items)]``: the strips of ``lines`` (top to bottom), in pixels of the source image of
    ``size``; the pieces of an over-full line come left to right, or right to left with ``rtl``."""
    bands: List[List[List[PlacedRegion]]] = []
    current: List[List[PlacedRegion]] = []
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
    ys = strip_cuts(band_items, 1, 3, 0, h)
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
        xs = strip_cuts(pieces, 0, 2, 0, w)
        boxes = [((xs[i], y0, xs[i + 1], y1), pieces[i]) for i in range(len(pieces))]
        tiles.extend(reversed(boxes) if rtl else boxes)
    return tiles


def region_in_tile(item: PlacedRegion, tile: Tuple[int, int, int, int]) -> Optional[Region]:
    """The item's region shifted into ``tile`` and clipped to it; None when nothing of it is left."""
    x0, y0, x1, y1 = tile
    shifted = [(x - x0, y - y0) for x, y in item.region.polygon]
    clipped, _ = clip_polygon(shifted, (x1 - x0, y1 - y0))
    xs, ys = [p[0] for p in clipped], [p[1] for p in clipped]
    if (max(xs) - min(xs)) * (max(ys) - min(ys)) < MIN_REGION_AREA:
        return None
    r = item.region
    return Region(polygon=clipped, text=r.text, dont_care=False, line=r.line)
