"""Polygons with more than 4 vertices (curved text: Total-Text, CTW1500, ICDAR 2019 ArT label files) reduced to the
4-point shape that crops and quad targets need.

Coordinates: pixels of the original image (x right, y down), as ``Region.polygon``.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

Point = Tuple[float, float]


def min_area_quad(polygon: Sequence[Point]) -> Optional[List[Point]]:
    """The minimum-area rectangle enclosing ``polygon`` (shapely ``minimum_rotated_rectangle``), as 4 corners
    ``[top-left, top-right, bottom-right, bottom-left]`` of the text (clockwise on screen, the ICDAR 2015 quad order),
    or None when it has no area (all points on one line).

    Which side is the top: the text runs from the polygon's first vertex towards the last vertex of its first half
    (Total-Text and CTW1500 list the upper boundary first, left to right, then the lower one back); the rectangle's
    side most parallel to that direction is the reading direction, and the corners are named along it (so a
    rectified crop shows the text upright and left to right, whatever the rectangle's own vertex order).

    Args:
        polygon: ``[(x, y), ...]``, at least 3 vertices, pixels.

    Raises:
        ValueError: fewer than 3 vertices.
    """
    from shapely.geometry import MultiPoint  # imported on first use, as in formats.geometry

    points = [(float(x), float(y)) for x, y in polygon]
    if len(points) < 3:
        raise ValueError(f"min_area_quad needs at least 3 vertices, got {len(points)}")
    rect = MultiPoint(points).minimum_rotated_rectangle
    if rect.geom_type != "Polygon" or rect.area <= 0:
        return None
    corners = list(rect.exterior.coords)[:4]
    end = points[max(1, len(points) // 2 - 1)]
    dx, dy = end[0] - points[0][0], end[1] - points[0][1]
    if dx == 0 and dy == 0:
        dx, dy = 1.0, 0.0
    best = None
    for a, b in ((corners[0], corners[1]), (corners[1], corners[2])):
        ex, ey = b[0] - a[0], b[1] - a[1]
        length = math.hypot(ex, ey)
        if length == 0:
            return None
        along = (ex * dx + ey * dy) / length
        if best is None or abs(along) > abs(best[0]):
            best = (along, ex / length, ey / length)
    along, ux, uy = best
    if along < 0:
        ux, uy = -ux, -uy
    vx, vy = -uy, ux  # the reading direction turned a quarter clockwise on screen: "down" for left-to-right text
    us = [x * ux + y * uy for x, y in corners]
    vs = [x * vx + y * vy for x, y in corners]
    um, vm = sum(us) / 4, sum(vs) / 4
    named = {}
    for c, u, v in zip(corners, us, vs):
        named[(u > um, v > vm)] = c
    if len(named) != 4:
        return None
    return [named[(False, False)], named[(True, False)], named[(True, True)], named[(False, True)]]
