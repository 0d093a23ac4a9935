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
* a malformed object (wrong number of coordinates, not a number, ...) is dropped and its snippet
  goes to :attr:`ParseReport.unparsed`;
* a grid coordinate outside the grid is clipped into it (:attr:`ParseReport.clipped`);
* a box with ``x2 < x1`` or ``y2 < y1`` gets its corners swapped (:attr:`ParseReport.swapped`);
* an exact duplicate (same text, same grid coordinates after clipping and swapping, as produced by
  repetition loops) is dropped and counted (:attr:`ParseReport.duplicates`); codecs take
  ``dedupe=False`` to keep them.
"""
from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Iterator, List, Optional, Sequence, Set, Tuple

from ..sample import Point, Region

ImageSize = Tuple[int, int]

DONT_CARE = "###"

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
        duplicates: exact duplicate objects dropped (same text and grid coordinates).
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

    def clip(self, coords: Sequence[float]) -> Tuple[List[float], bool]:
        """Clip interleaved ``x, y, x, y, ...`` grid values into the grid; returns (values, changed)."""
        out = []
        for i, c in enumerate(coords):
            hi = self.max_x if i % 2 == 0 else self.max_y
            out.append(min(max(c, 0), hi))
        return out, out != list(coords)


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


# -------------------------------------------------------------------------------------- parse helpers


def numbers(s: str) -> List[float]:
    """All numbers in ``s`` as floats (``'[[1, 2.5, -3]]'`` -> ``[1.0, 2.5, -3.0]``)."""
    return [float(m) for m in _NUMBER_RE.findall(s)]


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
        """Add one object: 4 coordinates (box ``x1, y1, x2, y2``) or 8 (quad, 4 vertices in order).

        Any other count makes the object unparsed (``snippet`` goes to the report).
        """
        if len(coords) not in (4, 8):
            self.report.unparsed.append(snippet)
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
        if self.dedupe and key in self._seen:
            self.report.duplicates += 1
            return
        self._seen.add(key)
        if len(coords) == 4:
            (px1, py1), (px2, py2) = self.grid.decode(coords[0], coords[1]), self.grid.decode(coords[2], coords[3])
            polygon = rect_polygon(px1, py1, px2, py2)
        else:
            polygon = [self.grid.decode(coords[i], coords[i + 1]) for i in range(0, 8, 2)]
        self.regions.append(Region(polygon=polygon, text=text, dont_care=text.strip() == DONT_CARE, line=line))

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
    * :meth:`render_body` for encoding.

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

    @abstractmethod
    def render_body(self, coords: Sequence[int]) -> str:
        """Grid coordinates ``[x1, y1, x2, y2]`` or ``[x1, y1, ..., x4, y4]`` -> the text between the shape tags."""

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
                    col.add(m.group("text"), numbers(lst), line, snippet)
            else:
                col.add(m.group("text"), numbers(body), line, snippet)
        return col.result()
