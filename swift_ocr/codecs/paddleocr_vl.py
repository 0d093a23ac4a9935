"""PaddleOCR-VL 1.5 text-spotting format (prompt ``Spotting:``), as detection-as-text.

Text written, one object per line: the text, then its 4 corner points as 8 location tokens ``x1, y1, ..., x4,
y4``::

    TAN WOON YANN<|LOC_156|><|LOC_25|><|LOC_704|><|LOC_25|><|LOC_704|><|LOC_63|><|LOC_156|><|LOC_63|>

Coordinates: 0-1000 of the original image (``<|LOC_n|>`` is ``n / 1000`` of the width or height); encoded as
``round(x / W * 1000)``, decoded as ``n / 1000 * W``, so a round trip is within ``0.5 * W / 1000`` pixels. Shapes:
``box`` (the default) writes a region's axis-aligned bounding box as its 4 corners clockwise from the top-left;
``quad`` writes a 4-vertex region's own vertices in their stored order. Parsing always gives quads.

Source: PaddleX ``paddlex/inference/pipelines/paddleocr_vl/uilts.py`` ``post_process_for_spotting`` (the decoder of
PaddleOCR-VL 1.5's spotting answers): points are ``LOC / 1000 * w`` and ``LOC / 1000 * h`` of the page, 8 values
= 4 points per text; it reads ``<|TEXT_START|>text<|TEXT_END|><|LOC_BEGIN|>`` + 8 ``<|LOC_n|>`` + ``<|LOC_END|>``,
and, when there is none of those, runs of 8 consecutive ``<|LOC_n|>`` tokens, each run's text being what precedes it.
The parser here reads both forms; the encoder writes the second (no delimiter tokens), one object per line. Which of
the two the released checkpoints emit could not be checked here (no weights); with training data in either form
the fine-tuned model answers in that form, and both are scored the same.
"""
from __future__ import annotations

import re
from typing import List, Optional, Sequence

from swift_ocr.codecs.base import Codec, object_text
from swift_ocr.codecs.grid import Grid, ImageSize, bbox_on_grid, normalised_grid, quad_on_grid, rect_polygon
from swift_ocr.codecs.parsing import NUMBER, ParseResult, line_of
from swift_ocr.sample import Region

#: Grid units per image side (``<|LOC_0|>`` .. ``<|LOC_1000|>``).
SCALE = 1000
#: Strings a region's text may not hold: they would be read as location tokens, delimiters or a new object.
FORBIDDEN = ("<|LOC_", "<|TEXT_START|>", "<|TEXT_END|>", "\n")

# A location token as a model may write it: <|LOC_n|>, or something else between "<|LOC_" and "|>" (not a number:
# the object is unparsed); <|LOC_BEGIN|> / <|LOC_END|> / <|LOC_SEP|> are delimiters, not locations.
_TOKEN = r"<\|LOC_(?!(?:BEGIN|END|SEP)\|>)[^|<>\n]*\|>"
# A run of location tokens, optionally between <|LOC_BEGIN|> and <|LOC_END|>: one object when it holds 8 numbers.
_RUN_RE = re.compile(rf"(?:<\|LOC_BEGIN\|>\s*)?((?:{_TOKEN}\s*)+)(?:<\|LOC_END\|>)?")
_VALUE_RE = re.compile(r"<\|LOC_([^|<>\n]*)\|>")
_NUMBER_RE = re.compile(NUMBER)
_TEXT_RE = re.compile(r"<\|TEXT_START\|>(.*?)<\|TEXT_END\|>", re.DOTALL)


def _values(run: str) -> Optional[List[float]]:
    """The numbers of a run of location tokens, or None when one of them is not a number."""
    items = _VALUE_RE.findall(run)
    if not all(_NUMBER_RE.fullmatch(v) for v in items):
        return None
    return [float(v) for v in items]


def _as_box(values: List[float]) -> List[float]:
    """4 points that form an axis-aligned rectangle, clockwise from the first corner (as the encoder writes a box),
    as the box ``[x1, y1, x3, y3]`` (so that its corners are normalised and counted when swapped, as every family's
    boxes); other quads unchanged."""
    x1, y1, x2, y2, x3, y3, x4, y4 = values
    if x1 == x4 and x2 == x3 and y1 == y2 and y3 == y4:
        return [x1, y1, x3, y3]
    return values


class PaddleOCRVLCodec(Codec):
    """PaddleOCR-VL's ``TEXT<|LOC_x1|>...<|LOC_y4|>`` spotting text on the 0-1000 grid.

    Args:
        shape: ``"box"`` (bounding box as 4 corners) or ``"quad"`` (the region's 4 vertices).
        dedupe: drop exact duplicate objects when parsing (counted in the report).

    Raises:
        ValueError: an unknown shape.
    """

    family = "paddleocr_vl"

    def __init__(self, shape: str = "box", dedupe: bool = True):
        super().__init__(dedupe=dedupe)
        if shape not in ("box", "quad"):
            raise ValueError(f"{self.family}: shape must be 'box' or 'quad', got {shape!r}")
        self.shape = shape

    def grid(self, image_size: ImageSize) -> Grid:
        return normalised_grid(image_size, SCALE)

    def _coords(self, region: Region, grid: Grid) -> List[int]:
        if self.shape == "quad":
            return quad_on_grid(region, grid)
        x1, y1, x2, y2 = bbox_on_grid(region, grid)
        return [v for point in rect_polygon(x1, y1, x2, y2) for v in point]

    def encode(self, regions: Sequence[Region], image_size: ImageSize) -> str:
        grid = self.grid(image_size)
        lines = []
        for r in regions:
            text = object_text(r, self.family, FORBIDDEN)
            lines.append(text + "".join(f"<|LOC_{v}|>" for v in self._coords(r, grid)))
        return "\n".join(lines)

    def parse(self, text: str, image_size: ImageSize) -> ParseResult:
        """Objects in either form of the module docstring. Each run of location tokens with exactly 8 is an object,
        whose text is the ``<|TEXT_START|>..<|TEXT_END|>`` span before it or else the last line of the text between
        it and the previous object (earlier lines there are prose: ``extra_text``). A quad that is an axis-aligned
        rectangle (the encoder's boxes) is read as a box. A run of another length, or with a token that is not a
        number, is unparsed (truncated when it has fewer than 8 and at most a cut-off token follows it). The last
        line of the text after the last object is a truncated object when it holds a started special token (``<|``:
        a location token or ``<|TEXT_START|>`` cut off), else prose; a generation cut off inside an object's text
        cannot be told from prose in this format."""
        col = self.collector(image_size)
        report = col.report
        pos = 0
        for m in _RUN_RE.finditer(text):
            before = text[pos:m.start()]
            values = _values(m.group(1))
            spans = _TEXT_RE.findall(before)
            if spans:
                prose, obj_text = _TEXT_RE.sub("", before), spans[-1]
            else:
                head, _, obj_text = before.rpartition("\n")
                prose = head
            if prose.strip():
                report.extra_text.append(prose.strip())
            obj_text = obj_text.strip()
            snippet = (obj_text + m.group(0)).strip()
            if values is None or len(values) != 8:
                tail = text[m.end():].strip()
                cut_off = not tail or (tail.startswith("<|") and "\n" not in tail)
                if values is not None and len(values) < 8 and cut_off:
                    report.unparsed.append(f"{snippet}{tail}")  # cut off at the end, maybe inside a token
                    report.truncated = 1
                    pos = len(text)
                    break
                report.unparsed.append(snippet)
            else:
                col.add(obj_text, _as_box(values), line_of(text, m.start()), snippet)
            pos = m.end()
        rest = text[pos:].strip()
        if rest:
            head, _, last = rest.rpartition("\n")
            if "<|" in last:  # an object cut off in (or right before) its location tokens
                if head.strip():
                    report.extra_text.append(head.strip())
                report.unparsed.append(last.strip())
                report.truncated = 1
            else:
                report.extra_text.append(rest)
        return col.result()
