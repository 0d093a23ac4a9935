"""Reading order of text regions on a page (the ``order`` of the ``det`` task, :mod:`swift_ocr.tasks.det`).

Orders (:data:`ORDERS`):

* ``"tb-lr"`` (default): lines top to bottom, each left to right. Regions are grouped into lines by vertical
  overlap: sorted by the centre ``y`` of their bounding box, a region joins the line above it when its vertical
  extent overlaps the line's mean extent by at least :data:`LINE_OVERLAP` of the smaller of the two heights;
* ``"tb-rl"``: the same lines, each right to left (Arabic, Hebrew);
* ``"source"``: the order of the label file.

Coordinates: bounding boxes ``(x1, y1, x2, y2)`` in pixels of any one image (only the axis-aligned boxes of the
regions are used).

Fast path: :func:`single_region_lines` finds the reading sequence of many pages at once (numpy) for the pages
whose lines all hold one region. Reference: :func:`group_boxes`; equivalence test:
``tests/test_det_task.py::test_single_region_lines_are_group_boxes_one_region_lines``. The batch converter
chooses it explicitly (:mod:`swift_ocr.convert`); :func:`group_boxes` itself is checked against the rule as first
written by ``tests/test_det_task.py::test_group_boxes_is_the_first_group_lines``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from swift_ocr.sample import Region

ORDERS = ("tb-lr", "tb-rl", "source")
#: Minimum vertical overlap (fraction of the smaller height) for a region to join a line.
LINE_OVERLAP = 0.5

#: ``(x1, y1, x2, y2)``: a region's axis-aligned bounding box, pixels.
Box = Tuple[float, float, float, float]


@dataclass
class PlacedRegion:
    """A usable care region with its position in the source order."""

    index: int
    region: Region
    box: Box  # (x1, y1, x2, y2), pixels of the source image


def group_regions(regions: Sequence[Region]) -> List[List[int]]:
    """Group regions into text lines: indices into ``regions``, lines top to bottom, each in left-to-right order.

    Coordinates: ``Region.polygon`` in pixels (any image); only the axis-aligned bounding boxes are used. See the
    module docstring for the rule (:data:`LINE_OVERLAP`).
    """
    return group_boxes([r.bbox() for r in regions])


def group_boxes(boxes: Sequence[Box]) -> List[List[int]]:
    """:func:`group_regions` on the regions' bounding boxes ``(x1, y1, x2, y2)`` (pixels): indices into ``boxes``."""
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


def check_order(order: str) -> None:
    """Raises ValueError unless ``order`` is one of :data:`ORDERS`."""
    if order not in ORDERS:
        raise ValueError(f"unknown reading order {order!r}; choose from {', '.join(ORDERS)}")


def ordered_lines(items: List[PlacedRegion], order: str) -> List[List[PlacedRegion]]:
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
    check_order(order)
    if order == "source":
        return list(regions)
    items = [PlacedRegion(i, r, r.bbox()) for i, r in enumerate(regions)]
    return [it.region for line in ordered_lines(items, order) for it in line]


def reading_sequence(boxes: Sequence[Box], order: str) -> List[int]:
    """Indices into ``boxes`` (regions in source order) in the reading ``order``: the sequence
    :func:`reading_order` gives, without building regions."""
    if order == "source":
        return list(range(len(boxes)))
    lines = group_boxes(boxes)
    if order == "tb-rl":
        return [j for line in lines for j in sorted(line, key=lambda j: (-boxes[j][2], j))]
    return [j for line in lines for j in line]
