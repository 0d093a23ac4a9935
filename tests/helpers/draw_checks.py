"""Test helper: checking pictures drawn by :mod:`swift_ocr.eval.draw` pixel by pixel: the outline colours, and where
a pixel shows one region's outline only (no other region, no label text, not the legend band).

Used through the ``draw_checks`` fixture of tests/conftest.py (test modules cannot import this file by name:
pytest runs with ``--import-mode=importlib`` and tests/ is no package).
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

from swift_ocr.sample import Region


def is_green(p) -> bool:
    return p[1] > 200 and p[0] < 100 and p[2] < 100


def is_red(p) -> bool:
    return p[0] > 200 and p[1] < 100 and p[2] < 100


def is_blue(p) -> bool:
    return p[2] > 200 and p[0] < 100


def is_grey(p) -> bool:
    return 120 <= min(p) and max(p) <= 200 and max(p) - min(p) < 10


def text_zone(region: Region, size, font) -> Tuple[float, float, float, float]:
    """Where anything drawn for ``region`` may lie: its box grown by its label's size on every side."""
    x1, y1, x2, y2 = region.bbox()
    left, top, right, bottom = font.getbbox(region.text or "x", stroke_width=1)
    tw, th = right - left, bottom - top
    return (min(x1, size[0] - tw) - 6, y1 - th - 8, max(x2, x1 + tw) + 6, y2 + th + 8)


def is_clear(point, others: Sequence[Region], size, font) -> bool:
    """``point`` lies below the legend band and in no zone (:func:`text_zone`) of ``others``."""
    x, y = point
    return y > 3 * font.size and all(not (z[0] <= x <= z[2] and z[1] <= y <= z[3])
                                     for z in (text_zone(o, size, font) for o in others))


def free_point(points, others: Sequence[Region], size, font) -> Optional[Tuple[int, int]]:
    """The first of ``points`` that is clear of ``others`` (:func:`is_clear`), rounded to a pixel; None if none is."""
    for x, y in points:
        if is_clear((x, y), others, size, font):
            return round(x), round(y)
    return None


def blank_box(regions: Sequence[Region], size, font, bw: int = 50, bh: int = 20) -> Tuple[int, int, int, int]:
    """A ``bw`` x ``bh`` box ``(x1, y1, x2, y2)`` where no region nor its label lies, scanning from the bottom right.

    Raises:
        AssertionError: the image has no such blank area.
    """
    w, h = size
    zones = [text_zone(r, size, font) for r in regions]
    for y in range(h - bh - 2, 3 * font.size, -4):
        for x in range(w - bw - 2, 0, -4):
            grown = (x - 6, y - 30, x + bw + 6, y + bh + 30)
            if all(grown[2] < z[0] or z[2] < grown[0] or grown[3] < z[1] or z[3] < grown[1] for z in zones):
                return x, y, x + bw, y + bh
    raise AssertionError("no blank area on this image")
