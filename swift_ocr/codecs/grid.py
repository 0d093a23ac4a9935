"""Coordinate grids of the detection-as-text codecs (:mod:`swift_ocr.codecs`) and how a box object is written on them.

Coordinate spaces:

* **in** (``Region.polygon``, ``image_size``): pixels of the original image, x right, y down,
  origin at the top-left corner (see :mod:`swift_ocr.sample`);
* **in the text**: the family's integer *grid* (:class:`Grid`): 0-1000 of the image
  (InternVL, Qwen2-VL, GOT), 0-999 (DeepSeek-OCR) or pixels of the resized image the model sees
  (Qwen2.5-VL). Each codec module documents its grid and the upstream source of it.

Fast paths, each beside its reference: :meth:`Grid.box_formatter` (reference :meth:`Grid.encode`) and
:func:`box_grid_array` (reference :meth:`Grid.box_formatter`), :func:`region_bbox` (reference
:meth:`Region.bbox`); their docstrings name the equivalence tests (``tests/codecs/test_base.py``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from swift_ocr.sample import Point, Region

ImageSize = Tuple[int, int]
#: ``(x1, y1, x2, y2)``: an axis-aligned box, pixels of the original image (as :meth:`Region.bbox`).
Box = Tuple[float, float, float, float]
#: ``encode(region, box=None) -> str``: one region's object text
#: (see :meth:`swift_ocr.codecs.base.Codec.object_encoder`).
ObjectEncoder = Callable[..., str]




@dataclass(frozen=True)
class Grid:
    """A family's integer coordinate grid laid over one image.

    ``units_x`` grid units span the image width ``image_size[0]`` (likewise y). Valid grid values are
    ``0 .. max_x`` / ``0 .. max_y``.

    Attributes:
        image_size: ``(width, height)`` of the original image, pixels.
        units_x, units_y: grid units per image width / height (1000, 999, or the resized image's size).
        max_x, max_y: largest valid grid value (1000 for 0-1000, 999 for 0-999, resized W/H for pixels).
        floor: quantise with ``int(x / W * units)`` (GOT's demo) instead of ``round`` (everyone else);
            such values are decoded to the centre of their unit so that the error stays within half a unit.
    """

    image_size: ImageSize
    units_x: float
    units_y: float
    max_x: int
    max_y: int
    floor: bool = False

    def encode(self, x: float, y: float) -> Tuple[int, int]:
        """Pixel point of the original image -> grid point (clipped to the image first)."""
        w, h = self.image_size
        x = min(max(x, 0.0), float(w))
        y = min(max(y, 0.0), float(h))
        if self.floor:
            u, v = int(x / w * self.units_x), int(y / h * self.units_y)
        else:
            u, v = int(round(x / w * self.units_x)), int(round(y / h * self.units_y))
        return min(max(u, 0), self.max_x), min(max(v, 0), self.max_y)

    def decode(self, u: float, v: float) -> Point:
        """Grid point -> pixel point of the original image (float)."""
        w, h = self.image_size
        if self.floor:
            return min((u + 0.5) / self.units_x * w, float(w)), min((v + 0.5) / self.units_y * h, float(h))
        return u / self.units_x * w, v / self.units_y * h

    def tolerance(self) -> Tuple[float, float]:
        """Largest round-trip error in pixels of the original image: half a grid unit, ``(tx, ty)``."""
        w, h = self.image_size
        return 0.5 * w / self.units_x, 0.5 * h / self.units_y

    def box_formatter(self, template: str, text_last: bool = False) -> Callable[[str, Box], str]:
        """Render many boxes of one image with a ``%`` template: ``render(text, (x1, y1, x2, y2))`` is
        ``template % (text, u1, v1, u2, v2)`` (``text_last``: ``% (u1, v1, u2, v2, text)``), where ``(u1, v1)`` =
        :meth:`encode` ``(x1, y1)`` and ``(u2, v2)`` = :meth:`encode` ``(x2, y2)`` -- same text, same errors.

        The box is in pixels of the original image; ``template`` holds one ``%s`` and four ``%d``, e.g.
        ``'[%d, %d, %d, %d] %s'`` with ``text_last=True``.

        This is :meth:`encode` written out for four values, without calls where they change nothing:

        * ``min(max(x, 0.0), W)`` is "0.0 when x < 0.0, W when x > W, else x" (NaN passes through either way);
        * ``int(round(v))`` loses the ``int``: ``%d`` writes an integral value the same either way (and ``round``
          already raises for NaN); a ``floor`` grid keeps its ``int(v)``;
        * the clip of the grid value into ``0..max`` is left out when it cannot change anything: the pixel
          value is in ``[0, W]`` by then, so ``x / W`` is in ``[0, 1]`` (division and multiplication are
          monotonic, ``W / W == 1.0`` exactly when ``float(W) == W``) and the grid value in ``[0, units]``,
          within ``[0, max]`` when ``units <= max`` and ``max`` is a whole number.

        Reference: :meth:`encode`. Equivalence test:
        ``tests/codecs/test_base.py::test_box_formatter_writes_what_grid_encode_gives``.
        """
        w, h = self.image_size
        fw, fh = float(w), float(h)
        ux, uy, mx, my = self.units_x, self.units_y, self.max_x, self.max_y
        quantise = int if self.floor else round
        clip = not (fw == w and fh == h and ux <= mx and uy <= my and mx == int(mx) and my == int(my))

        def render(text: str, box: Box) -> str:
            x1, y1, x2, y2 = box
            if x1 < 0.0:
                x1 = 0.0
            elif x1 > fw:
                x1 = fw
            if y1 < 0.0:
                y1 = 0.0
            elif y1 > fh:
                y1 = fh
            if x2 < 0.0:
                x2 = 0.0
            elif x2 > fw:
                x2 = fw
            if y2 < 0.0:
                y2 = 0.0
            elif y2 > fh:
                y2 = fh
            u1 = quantise(x1 / w * ux)
            v1 = quantise(y1 / h * uy)
            u2 = quantise(x2 / w * ux)
            v2 = quantise(y2 / h * uy)
            if clip:
                u1 = 0 if u1 < 0 else mx if u1 > mx else u1
                v1 = 0 if v1 < 0 else my if v1 > my else v1
                u2 = 0 if u2 < 0 else mx if u2 > mx else u2
                v2 = 0 if v2 < 0 else my if v2 > my else v2
            if text_last:
                return template % (u1, v1, u2, v2, text)
            return template % (text, u1, v1, u2, v2)

        return render

    def clip(self, coords: Sequence[float]) -> Tuple[List[float], bool]:
        """Clip interleaved ``x, y, x, y, ...`` grid values into the grid; returns (values, changed)."""
        out = []
        for i, c in enumerate(coords):
            hi = self.max_x if i % 2 == 0 else self.max_y
            out.append(min(max(c, 0), hi))
        return out, out != list(coords)


@dataclass(frozen=True)
class BoxFormat:
    """How a family writes one box object for images of one size.

    Attributes:
        grid: the grid the box corners are quantised on (:meth:`Grid.encode`).
        template: a ``%`` template with one ``%s`` (the object's text) and four ``%d`` (the corners ``u1, v1, u2,
            v2`` on the grid), the text first -- or last with ``text_last``.
        text_last: see ``template``.
        text: ``text(region) -> str``, what goes into ``%s``: the region's text, checked (``ValueError`` for a
            text the format cannot carry) and quoted where the format needs it.
        forbidden: when not None, what ``text`` does in full: it returns the region's text unchanged, and raises
            ``ValueError`` when the text holds one of these strings -- so a caller may check many texts at once.

    :meth:`encoder` is the family's :meth:`~swift_ocr.codecs.base.Codec.object_encoder`; the batch converter renders
    the objects of many regions at once with :func:`box_grid_array` and ``template`` (:mod:`swift_ocr.convert.outcome_fast`).
    """

    grid: Grid
    template: str
    text_last: bool
    text: Callable[[Region], str]
    forbidden: Optional[Tuple[str, ...]] = None

    def encoder(self) -> ObjectEncoder:
        """``encode(region, box=None)``: the object of one region (``box``: its bounding box in pixels, when known)."""
        put = self.grid.box_formatter(self.template, self.text_last)
        text = self.text

        def encode(region: Region, box: Optional[Box] = None) -> str:
            return put(text(region), region_bbox(region) if box is None else box)

        return encode

    def render(self, text: str, values: Sequence[int]) -> str:
        """The object for ``text`` (already through :attr:`text`) and the four grid values."""
        return self.template % ((*values, text) if self.text_last else (text, *values))


def box_grid_array(boxes, grids: Sequence[Grid], counts: Sequence[int]):
    """The four grid values ``u1, v1, u2, v2`` that :meth:`Grid.box_formatter` writes for each of many boxes,
    computed at once with numpy.

    Args:
        boxes: ``(m, 4)`` finite ``x1, y1, x2, y2`` in pixels of the original image, grouped by image: the first
            ``counts[0]`` rows belong to ``grids[0]``, the next ``counts[1]`` to ``grids[1]``, ...
        grids: one :class:`Grid` per group.
        counts: rows per group (``sum(counts) == m``).

    Returns:
        int64 array ``(m, 4)``: the formatter's values, from the same float64 operations in the same order (clamp
        into ``[0, W]``/``[0, H]``, ``x / W * units``, round half to even -- ``numpy.rint`` as Python's ``round`` --
        or truncate for a ``floor`` grid, clip into ``[0, max]``). Non-finite boxes are not allowed (the formatter
        raises for NaN; here the value would be meaningless).

    Fast sibling of :meth:`Grid.box_formatter` (its reference) for the batch converter. Equivalence test:
    ``tests/codecs/test_base.py::test_box_grid_array_values_are_the_formatters_values``.
    """
    import numpy as np

    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if not len(b):
        return np.empty((0, 4), dtype=np.int64)
    # one row of parameters per grid, repeated for its boxes
    params = np.array([(float(g.image_size[0]), float(g.image_size[1]), g.units_x, g.units_y, g.max_x, g.max_y,
                        g.floor) for g in grids], dtype=np.float64)
    w, h, units_x, units_y, max_x, max_y, floor = np.repeat(params, counts, axis=0).T[:, :, None]
    x = np.minimum(np.maximum(b[:, 0::2], 0.0), w) / w * units_x
    y = np.minimum(np.maximum(b[:, 1::2], 0.0), h) / h * units_y
    if params[:, 6].any():
        floor = floor.astype(bool)
        x = np.where(floor, np.trunc(x), np.rint(x))
        y = np.where(floor, np.trunc(y), np.rint(y))
    else:
        x, y = np.rint(x), np.rint(y)
    out = np.empty((len(b), 4), dtype=np.int64)
    out[:, 0::2] = np.minimum(np.maximum(x, 0), max_x)
    out[:, 1::2] = np.minimum(np.maximum(y, 0), max_y)
    return out


def normalised_grid(image_size: ImageSize, units: int, floor: bool = False) -> Grid:
    """A 0..``units`` grid over the whole image (0-1000: ``units=1000``; DeepSeek's 0-999: ``units=999``)."""
    return Grid(check_image_size(image_size), units, units, units, units, floor)


def check_image_size(image_size) -> ImageSize:
    """Validate ``(width, height)`` in pixels.

    Raises:
        ValueError: not two positive finite numbers.
    """
    try:
        w, h = image_size
        ok = all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in (w, h))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"image_size must be (width, height) in pixels, both > 0; got {image_size!r}")
    return image_size[0], image_size[1]


def rect_polygon(x1: float, y1: float, x2: float, y2: float) -> List[Point]:
    """The 4 corners of an axis-aligned box, clockwise from the top-left (as ``Region.polygon``)."""
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


def bbox_on_grid(region: Region, grid: Grid) -> List[int]:
    """``[x1, y1, x2, y2]`` on the grid: the axis-aligned bounding box of the region's polygon."""
    x1, y1, x2, y2 = region.bbox()
    return [*grid.encode(x1, y1), *grid.encode(x2, y2)]


def quad_on_grid(region: Region, grid: Grid) -> List[int]:
    """``[x1, y1, ..., x4, y4]`` on the grid: the region's 4 vertices in their stored order.

    Raises:
        ValueError: the polygon does not have exactly 4 vertices.
    """
    if len(region.polygon) != 4:
        raise ValueError(f"region (line {region.line}) has {len(region.polygon)} vertices; the quad form "
                         f"needs exactly 4")
    out: List[int] = []
    for x, y in region.polygon:
        out.extend(grid.encode(x, y))
    return out


def region_bbox(region: Region) -> Box:
    """``region.bbox()`` (pixels of the original image), computed without temporary lists for 4-vertex polygons.

    Same values and errors as :meth:`Region.bbox`: the same comparisons as ``min``/``max`` over the same values in
    the same order (the first of equal values wins; NaN stays where it comes first); other polygons (or points
    that are not pairs) go to :meth:`Region.bbox` itself. Reference: :meth:`Region.bbox`; equivalence test:
    ``tests/codecs/test_base.py::test_region_bbox_is_region_bbox``.
    """
    try:
        (x1, y1), (bx, by), (cx, cy), (dx, dy) = region.polygon
    except (TypeError, ValueError):
        return region.bbox()
    x2 = x1
    if bx < x1:
        x1 = bx
    elif bx > x2:
        x2 = bx
    if cx < x1:
        x1 = cx
    elif cx > x2:
        x2 = cx
    if dx < x1:
        x1 = dx
    elif dx > x2:
        x2 = dx
    y2 = y1
    if by < y1:
        y1 = by
    elif by > y2:
        y2 = by
    if cy < y1:
        y1 = cy
    elif cy > y2:
        y2 = cy
    if dy < y1:
        y1 = dy
    elif dy > y2:
        y2 = dy
    return x1, y1, x2, y2
