"""Shared machinery of the detection-as-text codecs: grids, parse reports, tolerant scanning.

A *codec* turns text regions into the text a model family is trained to emit for "read and locate
the text" and parses such text (a real, possibly broken generation) back into regions.

Coordinate spaces:

* **in** (``Region.polygon``, ``image_size``): pixels of the original image, x right, y down,
  origin at the top-left corner (see :mod:`swift_ocr.sample`);
* **in the text**: the family's integer *grid* (:class:`Grid`): 0-1000 of the image
  (InternVL, Qwen2-VL, GOT), 0-999 (DeepSeek-OCR) or pixels of the resized image the model sees
  (Qwen2.5-VL). Each family module documents its grid and the upstream source of it.

Parse policy (the same for every family; see ``docs/detection_codecs.md``):

* complete objects are parsed; text around them ("Sure, here are the boxes:") is ignored and kept
  in :attr:`ParseReport.extra_text`;
* an object cut off by the end of the text (a truncated generation) is dropped, its snippet goes to
  :attr:`ParseReport.unparsed` and :attr:`ParseReport.truncated` is set;
* a malformed object (wrong number of coordinates, not a number, a non-finite number such as JSON's
  ``NaN`` / ``Infinity`` or a value too large for a float like ``1e999``, ...) is dropped and its snippet
  goes to :attr:`ParseReport.unparsed`;
* a grid coordinate outside the grid is clipped into it (:attr:`ParseReport.clipped`);
* a box with ``x2 < x1`` or ``y2 < y1`` gets its corners swapped (:attr:`ParseReport.swapped`);
* an exact duplicate (same text, same grid coordinates after clipping and swapping, as produced by
  repetition loops) is counted (:attr:`ParseReport.duplicates`) and dropped; codecs take
  ``dedupe=False`` to keep it (still counted). Scoring (:mod:`swift_ocr.eval.det_results`) always keeps
  duplicates, as the official ICDAR 2015 script counts every detection.
"""
from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator, List, Optional, Sequence, Set, Tuple

from swift_ocr.sample import Point, Region, is_dont_care

ImageSize = Tuple[int, int]
#: ``(x1, y1, x2, y2)``: an axis-aligned box, pixels of the original image (as :meth:`Region.bbox`).
Box = Tuple[float, float, float, float]
#: ``encode(region, box=None) -> str``: one region's object text (see :meth:`Codec.object_encoder`).
ObjectEncoder = Callable[..., str]


#: A number as models write it: optional sign, digits, optional fraction.
NUMBER = r"[-+]?\d+(?:\.\d+)?"
_NUMBER_RE = re.compile(NUMBER)


# --------------------------------------------------------------------------------------------- report


@dataclass
class ParseReport:
    """What a parse found besides the regions, so that nothing is dropped silently.

    Attributes:
        objects: complete, well-formed objects found (one per box; duplicates included).
        unparsed: snippets that look like (parts of) objects but could not be parsed, in text order
            (a truncated last object is one of them).
        truncated: 1 when the text ends inside an object (cut-off generation), else 0.
        duplicates: exact duplicate objects: repeats of an earlier object of the same response, with the same text
            and grid coordinates (repetition loops). Dropped from the regions when the codec has
            ``dedupe=True``, kept in them with ``dedupe=False``; counted either way.
        swapped: boxes whose corners were swapped because ``x2 < x1`` or ``y2 < y1``.
        clipped: objects with at least one grid coordinate outside the grid, clipped into it.
        extra_text: non-blank text outside the objects (prose, fences), ignored.
    """

    objects: int = 0
    unparsed: List[str] = field(default_factory=list)
    truncated: int = 0
    duplicates: int = 0
    swapped: int = 0
    clipped: int = 0
    extra_text: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every object-like part of the text was parsed (clipping/swaps/duplicates aside)."""
        return not self.unparsed and not self.truncated

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParseResult:
    """Regions parsed from one generation (polygons in pixels of the original image) and the report."""

    regions: List[Region]
    report: ParseReport


# ----------------------------------------------------------------------------------------------- grid


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

    :meth:`encoder` is the family's :meth:`Codec.object_encoder`; the batch converter renders the objects of many
    regions at once with :func:`box_grid_array` and ``template`` (:mod:`swift_ocr.convert.batch`).
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


# ------------------------------------------------------------------------------------- encode helpers


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
    that are not pairs) go to :meth:`Region.bbox` itself.
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


def check_text(region: Region, family: str, forbidden: Sequence[str]) -> str:
    """The region's text, refused when it contains a delimiter the family's format cannot carry.

    Raises:
        ValueError: the text contains one of ``forbidden`` (the message names the region's line).
    """
    for tok in forbidden:
        if tok in region.text:
            raise ValueError(f"region (line {region.line}) text {region.text!r} contains {tok!r}, which the "
                             f"{family} detection format cannot carry")
    return region.text


def format_list(values: Sequence[int]) -> str:
    """``[1, 2, 3]`` - Python's ``str(list)`` spelling used by InternVL, GOT and DeepSeek-OCR."""
    return "[" + ", ".join(str(v) for v in values) + "]"


def list_template(n: int) -> str:
    """:func:`format_list` of ``n`` ints as a ``%`` template: ``list_template(2) == '[%d, %d]'``."""
    return "[" + ", ".join(["%d"] * n) + "]"


def percent_escape(s: str) -> str:
    """``s`` as literal text inside a ``%`` template."""
    return s.replace("%", "%%")


# -------------------------------------------------------------------------------------- parse helpers


def numbers(s: str) -> List[float]:
    """All numbers in ``s`` as floats (``'[[1, 2.5, -3]]'`` -> ``[1.0, 2.5, -3.0]``)."""
    return [float(m) for m in _NUMBER_RE.findall(s)]


_SEPARATORS_RE = re.compile(r"[\s,()\[\]]*")


def strict_numbers(s: str) -> Optional[List[float]]:
    """The numbers of ``s`` as floats (:func:`numbers`) when ``s`` holds nothing else than numbers (:data:`NUMBER`)
    and separators (whitespace, commas, brackets, parentheses); None otherwise, e.g. for ``'1, 2, NaN, 3, 4'``,
    ``'1, inf, 2, 3'``, ``'1e999, 2, 3, 4'`` or ``'1, 2, "a", 3, 4'`` -- where :func:`numbers` would quietly
    pick four numbers out of five items and make a wrong box."""
    if not _SEPARATORS_RE.fullmatch(_NUMBER_RE.sub(" ", s)):
        return None
    return numbers(s)


def line_of(text: str, pos: int) -> int:
    """1-based line number of character ``pos`` in ``text``."""
    return text.count("\n", 0, pos) + 1


class Collector:
    """Turns parsed grid objects into regions, applying the parse policy and filling the report."""

    def __init__(self, grid: Grid, dedupe: bool = True):
        self.grid = grid
        self.dedupe = dedupe
        self.report = ParseReport()
        self.regions: List[Region] = []
        self._seen: Set[tuple] = set()

    def add(self, text: str, coords: Sequence[float], line: Optional[int], snippet: str) -> None:
        """Add one object: 4 coordinates (box ``x1, y1, x2, y2``) or 8 (quad, 4 vertices in order), grid units.

        Any other count, or a coordinate that is not a finite number (NaN, infinity), makes the object
        unparsed (``snippet`` goes to the report). An exact repeat of an earlier object is counted in
        ``report.duplicates`` and dropped only when ``dedupe`` is set.
        """
        if len(coords) not in (4, 8) or not all(math.isfinite(c) for c in coords):
            self.report.unparsed.append(snippet)  # NaN / inf would make a polygon nobody can score or draw
            return
        self.report.objects += 1
        coords, changed = self.grid.clip(coords)
        if changed:
            self.report.clipped += 1
        if len(coords) == 4:
            x1, y1, x2, y2 = coords
            if x2 < x1 or y2 < y1:
                self.report.swapped += 1
                x1, x2 = min(x1, x2), max(x1, x2)
                y1, y2 = min(y1, y2), max(y1, y2)
            coords = [x1, y1, x2, y2]
        key = (text, tuple(coords))
        if key in self._seen:
            self.report.duplicates += 1
            if self.dedupe:
                return
        else:
            self._seen.add(key)
        if len(coords) == 4:
            (px1, py1), (px2, py2) = self.grid.decode(coords[0], coords[1]), self.grid.decode(coords[2], coords[3])
            polygon = rect_polygon(px1, py1, px2, py2)
        else:
            polygon = [self.grid.decode(coords[i], coords[i + 1]) for i in range(0, 8, 2)]
        self.regions.append(Region(polygon=polygon, text=text, dont_care=is_dont_care(text), line=line))

    def result(self) -> ParseResult:
        return ParseResult(self.regions, self.report)


def scan(text: str, object_re: re.Pattern, start_re: re.Pattern, report: ParseReport,
         junk: Optional[re.Pattern] = None) -> Iterator[re.Match]:
    """Yield the complete objects ``object_re`` finds in ``text`` and account for everything between them.

    Text between (and after) objects is split at every match of ``start_re`` (the opening of an
    object, e.g. ``<ref>``): a piece that starts with an opening is an object that did not parse
    (``report.unparsed``; the last one, running to the end of the text, also sets
    ``report.truncated``); other text that is not blank once ``junk`` (e.g. JSON brackets and code
    fences) is removed is prose (``report.extra_text``).
    """
    pos = 0
    for m in object_re.finditer(text):
        _account_gap(text[pos:m.start()], start_re, report, junk, at_end=False)
        yield m
        pos = m.end()
    _account_gap(text[pos:], start_re, report, junk, at_end=True)


def _account_gap(gap: str, start_re: re.Pattern, report: ParseReport, junk: Optional[re.Pattern],
                 at_end: bool) -> None:
    starts = [m.start() for m in start_re.finditer(gap)]
    prose = gap[:starts[0]] if starts else gap
    _add_prose(prose, report, junk)
    for i, s in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(gap)
        piece = gap[s:end]
        report.unparsed.append(piece.strip())
        if at_end and i == len(starts) - 1:
            report.truncated = 1


def _add_prose(s: str, report: ParseReport, junk: Optional[re.Pattern]) -> None:
    if junk is not None:
        s = re.sub(rf"^(?:{junk.pattern})+|(?:{junk.pattern})+$", "", s)
    if s.strip():
        report.extra_text.append(s.strip())


# ---------------------------------------------------------------------------------------------- codec


class Codec(ABC):
    """A model family's detection-as-text format.

    Subclasses set :attr:`family` and implement :meth:`grid`, :meth:`encode` and :meth:`parse`.
    """

    family: str = ""

    def __init__(self, dedupe: bool = True):
        self.dedupe = dedupe

    @abstractmethod
    def grid(self, image_size: ImageSize) -> Grid:
        """The family's coordinate grid over an image of ``image_size`` = (width, height) pixels."""

    @abstractmethod
    def encode(self, regions: Sequence[Region], image_size: ImageSize) -> str:
        """The target text for ``regions`` (polygons in pixels of the original image of ``image_size``).

        Every region given is encoded, in the order given (pass ``Sample.care_regions()`` to leave out
        ``###`` regions). Coordinates outside the image are clipped to its border.

        Raises:
            ValueError: bad ``image_size``, or a text the format cannot carry.
        """

    @abstractmethod
    def parse(self, text: str, image_size: ImageSize) -> ParseResult:
        """Regions (polygons in pixels of the original image of ``image_size``) found in ``text``.

        Never raises on bad text: what could not be parsed is in the report.

        Raises:
            ValueError: bad ``image_size`` only.
        """

    def object_encoder(self, image_size: ImageSize) -> ObjectEncoder:
        """:meth:`encode` one region at a time, for many regions of one image of ``image_size`` = (W, H) pixels
        (the det task encodes each region once, while checking it, and joins the objects it keeps).

        Returns ``encode(region, box=None) -> str``: the region's object text, such that
        ``self.join_objects([encode(r) for r in regions]) == self.encode(regions, image_size)``; a region the
        format cannot carry raises the ``ValueError`` that ``self.encode([region], image_size)`` raises. ``box``,
        when given, must be ``region.bbox()`` (pixels of the original image; saves computing it again).

        This default calls :meth:`encode` and suits formats that write one object per line; the families
        override it with encoders that do the grid arithmetic of a box in one go (:meth:`Grid.box_formatter`).

        Raises:
            ValueError: bad ``image_size`` (when the encoder is built).
        """
        self.grid(image_size)

        def encode(region: Region, box: Optional[Box] = None) -> str:
            return self.encode([region], image_size)

        return encode

    def box_format(self, image_size: ImageSize) -> Optional[BoxFormat]:
        """How this codec writes a box object for images of ``image_size`` (:class:`BoxFormat`), when its objects
        are a template over the four grid corners of the region's bounding box; None otherwise (the default, and
        quad shapes). Then ``object_encoder(image_size)`` is ``box_format(image_size).encoder()``.

        Raises:
            ValueError: bad ``image_size``.
        """
        return None

    def join_objects(self, objects: Sequence[str]) -> str:
        """The target text made of per-region object texts (from :meth:`object_encoder`), in the order given."""
        return "\n".join(objects)

    def tolerance(self, image_size: ImageSize) -> Tuple[float, float]:
        """Largest encode->parse error, pixels of the original image ``(tx, ty)``: half a grid unit."""
        return self.grid(image_size).tolerance()

    def collector(self, image_size: ImageSize) -> Collector:
        return Collector(self.grid(image_size), self.dedupe)



# ------------------------------------------------------------------------------------- tagged formats

_INNER_LIST_RE = re.compile(r"\[([^\[\]]*)\]")


class TaggedCodec(Codec):
    """Formats of the shape ``REF_OPEN text REF_CLOSE SHAPE_OPEN coordinates SHAPE_CLOSE``, one per line.

    Subclasses set:

    * ``ref_tags``: ``(open, close)`` around the text;
    * ``shape_tags``: ``{shape: (open, close)}``; ``shape`` is ``'box'`` (4 coordinates) or ``'quad'``
      (8 coordinates, 4 vertices in the region's order);
    * ``body_style``: ``'lists'`` - the body holds one or more ``[x1, y1, ...]`` lists, each one object
      (InternVL, DeepSeek-OCR: ``[[x1, y1, x2, y2], [...]]``) - or ``'points'`` - the body's numbers
      are one object (Qwen2-VL: ``(x1,y1),(x2,y2)``);
    * :meth:`render_body` (and :meth:`body_template`) for encoding, where ``body_style`` is not ``'lists'``
      (for ``'lists'`` the body is one ``[[x1, y1, ...]]``, as InternVL and DeepSeek-OCR write it).

    Parsing accepts any shape tag of the family and 4 or 8 numbers per object either way.
    """

    ref_tags: Tuple[str, str] = ("", "")
    shape_tags: dict = {}
    body_style: str = "lists"
    #: the shape :meth:`encode` writes.
    shape: str = "box"

    def __init__(self, shape: str = "box", dedupe: bool = True):
        super().__init__(dedupe=dedupe)
        if shape not in self.shape_tags:
            raise ValueError(f"{self.family}: shape must be one of {sorted(self.shape_tags)}, got {shape!r}")
        self.shape = shape
        ro, rc = (re.escape(t) for t in self.ref_tags)
        alts = "|".join(f"(?P<{name}>{re.escape(o)}(?P<{name}_body>[^<]*?){re.escape(c)})"
                        for name, (o, c) in self.shape_tags.items())
        self._object_re = re.compile(ro + rf"(?P<text>(?:(?!{ro}|{rc}).)*?)" + rc + r"\s*(?:" + alts + ")",
                                     re.DOTALL)
        opens = "|".join(re.escape(o) for o, _ in self.shape_tags.values())
        self._start_re = re.compile(rf"{ro}|(?<!{rc})(?:{opens})")

    def render_body(self, coords: Sequence[int]) -> str:
        """Grid coordinates ``[x1, y1, x2, y2]`` or ``[x1, y1, ..., x4, y4]`` -> the text between the shape tags:
        ``[[x1, y1, ...]]`` for ``body_style`` ``'lists'``; other styles override this.

        Raises:
            NotImplementedError: another ``body_style`` without its own ``render_body``.
        """
        if self.body_style != "lists":
            raise NotImplementedError(f"{type(self).__name__} must define render_body for body_style "
                                      f"{self.body_style!r}")
        return "[" + format_list(coords) + "]"

    def object_encoder(self, image_size: ImageSize) -> ObjectEncoder:
        fmt = self.box_format(image_size)
        if fmt is not None:
            return fmt.encoder()
        grid = self.grid(image_size)
        forbidden = (*self.ref_tags, "\n")
        family = self.family
        (ro, rc), (o, c) = self.ref_tags, self.shape_tags[self.shape]

        # quads (and bodies without a template): encode's own steps, one region at a time
        def encode(region: Region, box: Optional[Box] = None) -> str:
            text = check_text(region, family, forbidden)
            coords = quad_on_grid(region, grid) if self.shape == "quad" else bbox_on_grid(region, grid)
            return f"{ro}{text}{rc}{o}{self.render_body(coords)}{c}"

        return encode

    def box_format(self, image_size: ImageSize) -> Optional[BoxFormat]:
        body = self.body_template(4) if self.shape == "box" else None
        grid = self.grid(image_size)
        if body is None:
            return None
        forbidden = (*self.ref_tags, "\n")
        family = self.family
        (ro, rc), (o, c) = self.ref_tags, self.shape_tags[self.shape]
        f1, f2, f3 = forbidden

        def text(region: Region) -> str:
            t = region.text
            if f1 in t or f2 in t or f3 in t:
                check_text(region, family, forbidden)  # raises
            return t

        return BoxFormat(grid, percent_escape(ro) + "%s" + percent_escape(rc + o) + body + percent_escape(c), False,
                         text, forbidden)

    def body_template(self, n: int) -> Optional[str]:
        """:meth:`render_body` of ``n`` grid values as a ``%`` template of ``%d`` fields (None: there is none)."""
        return "[" + list_template(n) + "]" if self.body_style == "lists" else None

    def encode(self, regions: Sequence[Region], image_size: ImageSize) -> str:
        grid = self.grid(image_size)
        forbidden = (*self.ref_tags, "\n")
        lines = []
        for r in regions:
            text = check_text(r, self.family, forbidden)
            coords = quad_on_grid(r, grid) if self.shape == "quad" else bbox_on_grid(r, grid)
            o, c = self.shape_tags[self.shape]
            lines.append(f"{self.ref_tags[0]}{text}{self.ref_tags[1]}{o}{self.render_body(coords)}{c}")
        return "\n".join(lines)

    def parse(self, text: str, image_size: ImageSize) -> ParseResult:
        col = self.collector(image_size)
        for m in scan(text, self._object_re, self._start_re, col.report):
            shape = next(name for name in self.shape_tags if m.group(name) is not None)
            body = m.group(f"{shape}_body")
            snippet, line = m.group(0), line_of(text, m.start())
            if self.body_style == "lists":
                lists = _INNER_LIST_RE.findall(body)
                if not lists:
                    col.report.unparsed.append(snippet)
                for lst in lists:
                    values = strict_numbers(lst)
                    if values is None:  # an item that is not a number (NaN, inf, 1e999, "a"): unparsed
                        col.report.unparsed.append(snippet)
                    else:
                        col.add(m.group("text"), values, line, snippet)
            else:
                values = strict_numbers(body)
                if values is None:
                    col.report.unparsed.append(snippet)
                else:
                    col.add(m.group("text"), values, line, snippet)
        return col.result()
