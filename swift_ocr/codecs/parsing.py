"""Tolerant parsing of model generations by the detection-as-text codecs (:mod:`swift_ocr.codecs`): the parse report,
the scan that finds complete objects and accounts for the text between them, and the collector that turns grid
objects into regions (pixels of the original image).

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
from dataclasses import asdict, dataclass, field
from typing import Iterator, List, Optional, Sequence, Set

from swift_ocr.codecs.grid import Grid, rect_polygon
from swift_ocr.sample import Region, is_dont_care

#: A number as models write it: optional sign, digits, optional fraction.
NUMBER = r"[-+]?\d+(?:\.\d+)?"
_NUMBER_RE = re.compile(NUMBER)




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
