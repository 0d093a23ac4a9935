"""Region geometry checks and repairs (shapely, imported on first use), applied to every region a reader produces.

All coordinates are pixels of the original image, ``(x, y)`` with y down; the image covers ``[0, W] x [0, H]``.

Per region, in this order (:func:`check_region`):

1. **degenerate**: fewer than 3 points, or a convex hull smaller than :data:`MIN_REGION_AREA` (all points equal
   or collinear) -> flagged ``degenerate_region``;
2. **entirely outside the image**: the hull does not overlap the image -> flagged ``outside_image``;
3. **self-intersecting** ("bow-tie", e.g. ICDAR points given as TL, TR, BL, BR): the points are put in clockwise
   order around their centroid, starting from the source's first point (so the text's top-left corner stays
   first, as ``rectify_quad`` expects) and the region is kept, counted as ``reordered_polygons``; when that does
   not give a valid polygon -> flagged ``self_intersecting``;
4. **partly outside the image**: every coordinate is clamped into ``[0, W]`` / ``[0, H]``, counted as
   ``clipped_coordinates`` (each x or y value changed) and ``clipped_regions``; if the clipped polygon is
   degenerate or invalid it is flagged as in 1 or 3;
5. **counter-clockwise quads**: a 4-point region whose points run counter-clockwise on screen (negative shoelace
   area with y down; e.g. ``10,20,10,80,300,80,300,20`` = TL, BL, BR, TR) is put in clockwise order starting from
   its top-left corner (:func:`clockwise_from_top_left`) and kept, counted as ``reoriented_quads``. Without this,
   ``rectify_quad`` (which reads the points as TL, TR, BR, BL) cuts a transposed, mirrored crop, and the
   InternVL ``<quad>`` target would carry the points in the wrong order.

**The order rule** (ICDAR 2015 Challenge 4: "the four corners of the bounding quadrilateral ... in clockwise order
starting from the top-left corner of the text", i.e. of the *word*, which for rotated text need not be the
image's top-left): a **clockwise** quad is kept exactly as given, whatever corner it starts from. Its first point
is the only record of the text's reading direction -- a word rotated by 90 degrees given from its own top-left and
an upright word given from its bottom-left are the same four points in the same order -- so no geometric rule can
re-choose the start without turning correctly annotated rotated text (vertical signs, upside-down words) the wrong
way. A **counter-clockwise** quad already breaks the convention, so its first point is not trusted either: its
points are taken clockwise from the corner whose clockwise edge is closest to pointing right (+x), the "most
upright" reading of the box. Such a crop is upright for horizontal or slanted text; rotated text given
counter-clockwise comes out upright in the box's frame (its letters turned), and must be given clockwise from the
text's top-left to be cropped in its reading direction. All the real ICDAR 2015 and SROIE quads of
``../shared/data`` are clockwise, so none of them is changed.

**Fast path** (:func:`plain_quad_inside`): a 4-point region that is strictly convex and clockwise, lies inside the
image and has an area comfortably above :data:`MIN_REGION_AREA` -- nearly every ICDAR/SROIE quad and every word-box
line -- passes all five steps unchanged, and that is decided exactly in plain Python arithmetic without building
shapely objects (about 30x faster than the scalar shapely checks). Everything else takes the shapely path above;
``tests/formats/test_geometry.py`` checks on the real ICDAR 2015 and SROIE regions and on random quads that both
paths agree.

A flagged region keeps its source polygon and gets a :class:`~swift_ocr.errors.Rejection` in ``Region.issue``;
what that means for each task is the task's decision (see :mod:`swift_ocr.tasks.core`).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from typing import List, Optional, Sequence, Tuple

from swift_ocr.errors import Rejection
from swift_ocr.sample import Point, Region, Sample

# Regions whose area is below this many square pixels cannot be cropped or matched meaningfully.
MIN_REGION_AREA = 1.0


def clip_polygon(polygon: Sequence[Point], size: Tuple[int, int]) -> Tuple[List[Point], int]:
    """Clamp every point into ``[0, W] x [0, H]`` (``size = (W, H)``, pixels).

    Returns:
        ``(clipped polygon, number of x/y values that changed)``.
    """
    w, h = size
    out, changed = [], 0
    for x, y in polygon:
        cx, cy = min(max(x, 0.0), float(w)), min(max(y, 0.0), float(h))
        changed += (cx != x) + (cy != y)
        out.append((cx, cy))
    return out, changed


def reorder_clockwise(polygon: Sequence[Point]) -> List[Point]:
    """The points sorted clockwise (on screen, y down) by angle around their centroid, rotated so that the
    source's first point stays first."""
    cx = sum(p[0] for p in polygon) / len(polygon)
    cy = sum(p[1] for p in polygon) / len(polygon)
    order = sorted(range(len(polygon)), key=lambda i: math.atan2(polygon[i][1] - cy, polygon[i][0] - cx))
    k = order.index(0)
    return [tuple(polygon[i]) for i in order[k:] + order[:k]]


def twice_signed_area(polygon: Sequence[Point]) -> float:
    """The shoelace sum ``sum(x_i * y_(i+1) - x_(i+1) * y_i)`` (twice the signed area, pixels^2): positive when the
    points run clockwise on screen (image coordinates, y down), negative when counter-clockwise. Only meaningful for a
    simple polygon."""
    n = len(polygon)
    return sum(polygon[i][0] * polygon[(i + 1) % n][1] - polygon[(i + 1) % n][0] * polygon[i][1] for i in range(n))


def clockwise_from_top_left(quad: Sequence[Point]) -> List[Point]:
    """A simple counter-clockwise quad's points in clockwise order (on screen, y down), starting from its top-left
    corner: the corner whose clockwise edge points most nearly to the right (largest ``dx / length``; on equal
    values the first such corner in clockwise order from the source's first point). See the order rule in the
    module docstring for why only counter-clockwise quads are re-started.

    Args:
        quad: 4 points ``(x, y)`` in pixels, counter-clockwise on screen (``twice_signed_area(quad) < 0``).

    Returns:
        The same 4 points (as tuples) as TL, TR, BR, BL; e.g. ``[(10, 20), (10, 80), (300, 80), (300, 20)]`` (TL, BL,
        BR, TR) -> ``[(10, 20), (300, 20), (300, 80), (10, 80)]``.

    Raises:
        ValueError: ``quad`` does not have 4 points.
    """
    if len(quad) != 4:
        raise ValueError(f"clockwise_from_top_left needs 4 points, got {len(quad)}")
    cw = [tuple(quad[0]), tuple(quad[3]), tuple(quad[2]), tuple(quad[1])]  # reversed: clockwise

    def rightness(i: int) -> float:
        (xa, ya), (xb, yb) = cw[i], cw[(i + 1) % 4]
        length = math.hypot(xb - xa, yb - ya)
        return (xb - xa) / length if length > 0 else -math.inf

    k = max(range(4), key=rightness)
    return cw[k:] + cw[:k]


def _describe(region: Region) -> str:
    where = f"region at line {region.line}" if region.line is not None else "region"
    return f"{where} ({region.text[:40]!r})"


def _flag(region: Region, source: Optional[str], kind: str, why: str) -> Region:
    return replace(region, issue=Rejection(source, region.line, f"{_describe(region)}: {why}", kind))


def _simple_problem(points: Sequence[Point]) -> Optional[Tuple[str, str]]:
    """``(kind, why)`` when ``points`` is not a usable simple polygon, else None."""
    from shapely.geometry import MultiPoint, Polygon  # imported on first use: most regions take the fast path
    from shapely.validation import explain_validity

    if len(points) < 3:
        return "degenerate_region", f"only {len(points)} point(s)"
    hull = MultiPoint(points).convex_hull.area
    if hull < MIN_REGION_AREA:
        return "degenerate_region", f"area {hull:.2f} px^2 is below {MIN_REGION_AREA:g} (points equal or collinear)"
    poly = Polygon(points)
    if not poly.is_valid:
        return "self_intersecting", f"polygon is not simple ({explain_validity(poly)})"
    if poly.area < MIN_REGION_AREA:
        return "degenerate_region", f"area {poly.area:.2f} px^2 is below {MIN_REGION_AREA:g}"
    return None


#: The fast path leaves areas within this factor of :data:`MIN_REGION_AREA` to shapely, so that rounding in the
#: shoelace sum can never flip the area decision.
_AREA_MARGIN = 1.001


def plain_quad_inside(polygon: Sequence[Point], size: Optional[Tuple[int, int]]) -> bool:
    """True when ``polygon`` certainly needs no repair and no flag: 4 points, every coordinate inside
    ``[0, W] x [0, H]`` (``size = (W, H)``, pixels of the original image), strictly convex and clockwise on screen
    (all four turns strictly positive with y down; a counter-clockwise quad is re-ordered by :func:`check_region`),
    area at least ``MIN_REGION_AREA`` (with a 0.1 % margin).

    Such a quadrilateral is a simple polygon whose convex hull is itself (so hull area = polygon area = |shoelace| /
    2), overlaps the image with positive area and needs no clipping: :func:`check_region` returns it unchanged. A
    False answer means only "not decided here" (the shapely checks decide). With ``size`` None (unknown image size)
    the answer is False.

    Reference: :func:`check_region_shapely`. Equivalence tests: ``tests/formats/test_geometry.py::test_fast_path_*``
    (real ICDAR 2015 / SROIE regions, boundary and random quads).
    """
    if size is None or len(polygon) != 4:
        return False
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = polygon
    w, h = size
    if not (0 <= x0 <= w and 0 <= x1 <= w and 0 <= x2 <= w and 0 <= x3 <= w
            and 0 <= y0 <= h and 0 <= y1 <= h and 0 <= y2 <= h and 0 <= y3 <= h):
        return False  # also False for NaN coordinates (every comparison with NaN is False)
    c0 = (x1 - x0) * (y2 - y1) - (y1 - y0) * (x2 - x1)
    c1 = (x2 - x1) * (y3 - y2) - (y2 - y1) * (x3 - x2)
    c2 = (x3 - x2) * (y0 - y3) - (y3 - y2) * (x0 - x3)
    c3 = (x0 - x3) * (y1 - y0) - (y0 - y3) * (x1 - x0)
    if not (c0 > 0 and c1 > 0 and c2 > 0 and c3 > 0):
        return False
    twice_area = (x0 * y1 - x1 * y0) + (x1 * y2 - x2 * y1) + (x2 * y3 - x3 * y2) + (x3 * y0 - x0 * y3)
    return abs(twice_area) >= 2 * MIN_REGION_AREA * _AREA_MARGIN


def plain_quads_inside(coords, widths, heights):
    """:func:`plain_quad_inside` for many quads at once (numpy): the same answer for every row, from the same
    float64 operations in the same order (numpy's element-wise ``+ - *`` and comparisons round exactly as Python's
    float arithmetic does).

    Args:
        coords: array ``(m, 8)`` of float64, each row ``x0, y0, x1, y1, x2, y2, x3, y3`` (pixels of the original
            image, the polygon's points in their stored order).
        widths, heights: arrays ``(m,)``, the size in pixels of each row's image.

    Returns:
        bool array ``(m,)``.

    Reference: :func:`plain_quad_inside`. Equivalence test:
    ``tests/formats/test_geometry.py::test_vectorised_fast_path_decides_like_the_scalar_one``.
    """
    import numpy as np

    c = np.asarray(coords, dtype=np.float64).reshape(-1, 8)
    x0, y0, x1, y1, x2, y2, x3, y3 = np.ascontiguousarray(c.T)  # one contiguous row per coordinate
    w = np.asarray(widths, dtype=np.float64)
    h = np.asarray(heights, dtype=np.float64)
    # every coordinate inside: the smallest >= 0 and the largest <= the size (a NaN makes both comparisons False)
    minimum, maximum = np.minimum, np.maximum
    inside = ((minimum(minimum(x0, x1), minimum(x2, x3)) >= 0) & (maximum(maximum(x0, x1), maximum(x2, x3)) <= w)
              & (minimum(minimum(y0, y1), minimum(y2, y3)) >= 0) & (maximum(maximum(y0, y1), maximum(y2, y3)) <= h))
    with np.errstate(invalid="ignore", over="ignore"):  # inf/NaN rows are outside anyway (as in Python)
        c0 = (x1 - x0) * (y2 - y1) - (y1 - y0) * (x2 - x1)
        c1 = (x2 - x1) * (y3 - y2) - (y2 - y1) * (x3 - x2)
        c2 = (x3 - x2) * (y0 - y3) - (y3 - y2) * (x0 - x3)
        c3 = (x0 - x3) * (y1 - y0) - (y0 - y3) * (x1 - x0)
        twice_area = (x0 * y1 - x1 * y0) + (x1 * y2 - x2 * y1) + (x2 * y3 - x3 * y2) + (x3 * y0 - x0 * y3)
    convex = (c0 > 0) & (c1 > 0) & (c2 > 0) & (c3 > 0)  # and clockwise
    return inside & convex & (np.abs(twice_area) >= 2 * MIN_REGION_AREA * _AREA_MARGIN)


def check_region(region: Region, size: Optional[Tuple[int, int]], source: Optional[str] = None,
                 fixes: Optional[Counter] = None) -> Region:
    """Check, repair or flag one region (see module docstring). Returns a new region (the same object when nothing
    changed); ``fixes`` (if given) is incremented with ``reordered_polygons``, ``clipped_coordinates``,
    ``clipped_regions`` and ``reoriented_quads``.

    Args:
        region: polygon in pixels of the original image.
        size: ``(W, H)`` of the image in pixels, or None when unknown (no outside check, no clipping).
        source: the label file, for the rejection record.
    """
    if plain_quad_inside(region.polygon, size):
        return region
    return check_region_shapely(region, size, source, fixes)


def check_region_shapely(region: Region, size: Optional[Tuple[int, int]], source: Optional[str] = None,
                         fixes: Optional[Counter] = None) -> Region:
    """:func:`check_region` without the fast path: every step with shapely (GEOS) geometry. The reference the fast
    path (:func:`plain_quad_inside`, :func:`plain_quads_inside`) is tested against; same arguments and result.
    Callers that want the reference call it directly."""
    from shapely.geometry import MultiPoint, Polygon, box  # imported on first use (see _simple_problem)
    from shapely.validation import explain_validity

    fixes = fixes if fixes is not None else Counter()
    points = [(float(x), float(y)) for x, y in region.polygon]
    if len(points) < 3 or MultiPoint(points).convex_hull.area < MIN_REGION_AREA:
        kind, why = _simple_problem(points)
        return _flag(region, source, kind, why)
    if size is not None:
        w, h = size
        if MultiPoint(points).convex_hull.intersection(box(0, 0, w, h)).area <= 0:
            return _flag(region, source, "outside_image", f"lies entirely outside the {w}x{h} image "
                         f"(bbox {tuple(round(v, 1) for v in Region(points, '').bbox())})")
    reordered = False
    if not Polygon(points).is_valid:
        candidate = reorder_clockwise(points)
        if _simple_problem(candidate) is None:
            points, reordered = candidate, True
        else:
            return _flag(region, source, "self_intersecting",
                         f"polygon is not simple ({explain_validity(Polygon(points))}) and reordering its points "
                         "does not repair it")
    changed = 0
    if size is not None:
        points, changed = clip_polygon(points, size)
        problem = _simple_problem(points) if changed else None
        if problem is not None:
            return _flag(region, source, problem[0], f"after clipping to the {size[0]}x{size[1]} image: {problem[1]}")
    reoriented = len(points) == 4 and twice_signed_area(points) < 0  # simple here: reordered or valid
    if reoriented:
        points = clockwise_from_top_left(points)
    if reordered:
        fixes["reordered_polygons"] += 1
    if changed:
        fixes["clipped_coordinates"] += changed
        fixes["clipped_regions"] += 1
    if reoriented:
        fixes["reoriented_quads"] += 1
    if not reordered and not changed and not reoriented:
        return region
    return replace(region, polygon=points)


def check_regions(sample: Sample) -> Sample:
    """Apply :func:`check_region` to every region of ``sample`` (in place), counting into ``sample.fixes``."""
    size, regions = sample.image_size, sample.regions
    for i, region in enumerate(regions):
        if not plain_quad_inside(region.polygon, size):
            regions[i] = check_region_shapely(region, size, sample.source, sample.fixes)
    return sample
