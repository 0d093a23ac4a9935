"""Polygons written as JSON numbers, read the one way for every label and prediction file that holds them
(PaddleOCR ``points``, MMOCR ``polygon``/``bbox``, ICDAR result coordinates).

Coordinates: pixels of the original image, returned as the file gives them (no clipping, no reordering) as floats.
A number is a JSON integer or float (a boolean is not) and must be finite (an integer too large for a float is not).

Errors: :class:`~swift_ocr.errors.OcrFormatError` kind ``bad_coordinates``, naming the file, the line (or entry) and
the region (``where`` / ``what``, e.g. ``region #2``).
"""
from __future__ import annotations

import json
import math
from typing import Any, List, Optional

from swift_ocr.errors import OcrFormatError
from swift_ocr.sample import Point


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _floats(values) -> List[float]:
    """``values`` (JSON numbers) as floats; an integer too large for a float becomes ``inf``."""
    try:
        return [float(v) for v in values]
    except OverflowError:
        return [math.inf]


def finite_number(value: Any) -> Optional[float]:
    """``value`` as a float when it is a finite JSON number, else None."""
    if not _is_number(value):
        return None
    v = _floats([value])[0]
    return v if math.isfinite(v) else None


def polygon_from_pairs(value: Any, source: str, line: Optional[int], where: str,
                       field: Optional[str] = None) -> List[Point]:
    """``[[x, y], ...]`` (PaddleOCR ``points``, MMOCR polygons given as pairs) as ``[(x, y), ...]`` floats, pixels.

    Args:
        where: the region, for messages (``region #2``).
        field: the key that held ``value`` (``'points'``), named after ``where`` in the message about the list.

    Raises:
        OcrFormatError: kind ``bad_coordinates``: not a list of at least 3 ``[x, y]`` pairs of finite numbers.
    """
    if not isinstance(value, list) or len(value) < 3:
        what = f"{where}: {field}" if field else where
        raise OcrFormatError(source, line, f"{what} must be a list of at least 3 [x, y] pairs, got "
                             f"{json.dumps(value)[:80]}", "bad_coordinates")
    out = []
    for point in value:
        if not isinstance(point, list) or len(point) != 2 or not all(_is_number(v) for v in point):
            raise OcrFormatError(source, line, f"{where}: point {json.dumps(point)[:40]} is not an [x, y] pair of "
                                 "numbers", "bad_coordinates")
        xy = _floats(point)
        if not all(math.isfinite(v) for v in xy):
            raise OcrFormatError(source, line, f"{where}: point {json.dumps(point)[:40]} is not finite",
                                 "bad_coordinates")
        out.append((xy[0], xy[1]))
    return out


def flat_numbers(value: Any, n_min: int, source: str, line: Optional[int], what: str) -> List[float]:
    """A flat list ``[x1, y1, x2, y2, ...]`` of finite numbers of even length >= ``n_min``, as floats.

    Raises:
        OcrFormatError: kind ``bad_coordinates``.
    """
    if (not isinstance(value, list) or len(value) < n_min or len(value) % 2
            or not all(_is_number(v) for v in value)):
        raise OcrFormatError(source, line, f"{what} must be a flat list of at least {n_min} numbers (x, y pairs), "
                             f"got {json.dumps(value)[:80]}", "bad_coordinates")
    out = _floats(value)
    if not all(math.isfinite(v) for v in out):
        raise OcrFormatError(source, line, f"{what}: a coordinate is not finite: {json.dumps(value)[:80]}",
                             "bad_coordinates")
    return out


def polygon_from_flat(value: Any, source: str, line: Optional[int], what: str) -> List[Point]:
    """``[x1, y1, ..., xn, yn]`` (MMOCR ``polygon``, ICDAR coordinates) as ``[(x, y), ...]`` floats, pixels.

    Raises:
        OcrFormatError: kind ``bad_coordinates``: not a flat list of at least 6 finite numbers of even length.
    """
    c = flat_numbers(value, 6, source, line, what)
    return [(c[k], c[k + 1]) for k in range(0, len(c), 2)]
