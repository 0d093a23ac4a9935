"""GOT-OCR2.0 fine-grained (region) OCR prompts, and a multi-box answer list on the same grid.

GOT-OCR2.0 reads *one* region per query; it has **no multi-box detection output**. Its fine-grained
prompts (Ucas-HaoranWei/GOT-OCR2.0 ``GOT-OCR-2.0-master/GOT/demo/run_ocr_2.0.py``, ``eval_model``) are::

    [x1, y1, x2, y2] OCR:              box prompt (``str(bbox)`` of a Python list, then ' OCR: ')
    [x1, y1, x2, y2] OCR with format:  same, formatted output
    [red] OCR:                         colour prompt: the image carries a red/green/blue box drawn on it

with the box in 0-1000 of the original image computed as ``int(x / w * 1000)`` - **truncation**, not
rounding. This module writes exactly that (:func:`encode_region_prompt`), parses it back
(:func:`parse_region_prompt`, decoding a value to the centre of its unit, ``(v + 0.5) / 1000 * W``, so the
error is at most half a unit), writes colour prompts (:func:`encode_colour_prompt`) and draws the
coloured box (:func:`draw_colour_box`; GOT's paper, arXiv:2409.01704, names the three colours
but not the line width - the width here is our choice).

For consistency with the other families :class:`GOTCodec` also encodes/parses a multi-box answer list,
one object per line, **our convention**::

    [x1, y1, x2, y2] TEXT

on the same truncated 0-1000 grid. GOT was not trained on it; a model learns it only by fine-tuning.
A last line whose text was cut off by the end of a generation cannot be told from a complete one.

ms-swift 4.6.0's ``got_ocr2`` template does not override ``replace_ref/replace_bbox``: an ``objects`` box
renders as ``[(x1,y1),(x2,y2)]`` with *rounding* - not GOT's prompt (checked in tests/codecs/test_got.py).
"""
from __future__ import annotations

import re
from typing import Optional, Sequence, Tuple

from PIL import Image, ImageDraw

from swift_ocr.codecs.base import Codec, format_list, object_text
from swift_ocr.codecs.grid import BoxFormat, Grid, ImageSize, ObjectEncoder, bbox_on_grid, normalised_grid, rect_polygon
from swift_ocr.codecs.parsing import NUMBER, ParseResult, line_of, numbers, scan
from swift_ocr.families.got import FORMAT_PROMPT, OCR_PROMPT
from swift_ocr.images import to_rgb
from swift_ocr.sample import Region

SCALE = 1000
#: the prompt tails of ``run_ocr_2.0.py`` (``--type ocr`` / ``--type format``).
OCR_TYPES = {"ocr": OCR_PROMPT, "format": FORMAT_PROMPT}
#: colours GOT's colour prompts name, as drawn by :func:`draw_colour_box` (pure RGB primaries).
COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}

_LIST = rf"\[\s*(?P<nums>{NUMBER}(?:\s*,\s*{NUMBER})*)\s*\]"
_OBJECT_RE = re.compile(rf"^[ \t]*{_LIST} ?(?P<text>[^\n]*)$", re.MULTILINE)
#: any line opening with '[' is an object attempt (a prose line that does is reported as unparsed).
_START_RE = re.compile(r"^[ \t]*\[", re.MULTILINE)
_PROMPT_RE = re.compile(rf"{_LIST}\s*OCR(?: with format)?:")
_FORBIDDEN = ("\n", "\r")
#: one object of the answer list, ``f"{format_list(box)} {text}"``, as a template for ``Grid.box_formatter``.
_OBJECT_TEMPLATE = "[%d, %d, %d, %d] %s"


def got_grid(image_size: ImageSize) -> Grid:
    """GOT's 0-1000 grid: ``int(x / W * 1000)`` (truncation), decoded to unit centres."""
    return normalised_grid(image_size, SCALE, floor=True)


def _tail(ocr_type: str) -> str:
    if ocr_type not in OCR_TYPES:
        raise ValueError(f"ocr_type must be one of {sorted(OCR_TYPES)}, got {ocr_type!r}")
    return OCR_TYPES[ocr_type]


def encode_region_prompt(region: Region, image_size: ImageSize, ocr_type: str = "ocr") -> str:
    """GOT's box prompt for one region, e.g. ``'[102, 35, 254, 88] OCR: '``.

    The box is the axis-aligned bounding box of ``region.polygon`` (pixels of the original image of
    ``image_size`` = (W, H)), on GOT's truncated 0-1000 grid. The region's text is the answer, not part of
    the prompt. The image tokens (``<img><imgpad>*256</img>\\n``) come before this in GOT's template; ms-swift's
    ``got_ocr2`` template adds them for ``<image>``.

    Raises:
        ValueError: bad ``image_size`` or ``ocr_type``.
    """
    return f"{format_list(bbox_on_grid(region, got_grid(image_size)))} {_tail(ocr_type)}"


def parse_region_prompt(prompt: str, image_size: ImageSize) -> Region:
    """The region a GOT box prompt points at: polygon in pixels of the original image, text ``''``.

    Accepts ``[x1, y1, x2, y2] OCR: `` / ``... OCR with format: `` anywhere in ``prompt`` (spaces optional).

    Raises:
        ValueError: no box prompt in ``prompt``, not 4 numbers, values outside 0-1000, or ``x2 < x1`` /
            ``y2 < y1``.
    """
    grid = got_grid(image_size)
    m = _PROMPT_RE.search(prompt)
    if m is None:
        raise ValueError(f"no GOT box prompt '[x1, y1, x2, y2] OCR: ' in {prompt!r}")
    vals = numbers(m.group("nums"))
    if len(vals) != 4:
        raise ValueError(f"GOT box prompt needs 4 numbers, got {len(vals)} in {m.group(0)!r}")
    if any(not 0 <= v <= SCALE for v in vals):
        raise ValueError(f"GOT box prompt values must be within 0-{SCALE}: {m.group(0)!r}")
    x1, y1, x2, y2 = vals
    if x2 < x1 or y2 < y1:
        raise ValueError(f"GOT box prompt has x2 < x1 or y2 < y1: {m.group(0)!r}")
    (px1, py1), (px2, py2) = grid.decode(x1, y1), grid.decode(x2, y2)
    return Region(polygon=rect_polygon(px1, py1, px2, py2), text="")


def encode_colour_prompt(colour: str, ocr_type: str = "ocr") -> str:
    """GOT's colour prompt, e.g. ``'[red] OCR: '`` (the image must carry a box of that colour).

    Raises:
        ValueError: colour not red/green/blue, or bad ``ocr_type``.
    """
    if colour not in COLOURS:
        raise ValueError(f"colour must be one of {sorted(COLOURS)}, got {colour!r}")
    return f"[{colour}] {_tail(ocr_type)}"


def draw_colour_box(image: Image.Image, region: Region, colour: str, width: Optional[int] = None,
                    shape: str = "box") -> Image.Image:
    """A copy of ``image`` with ``region`` outlined in ``colour`` (for GOT's colour prompts).

    Args:
        image: the original image (``region.polygon`` is in its pixels).
        region: the region to mark.
        colour: ``'red'``, ``'green'`` or ``'blue'`` (pure RGB primaries).
        width: line width in pixels; default ``max(2, round(max(W, H) / 300))`` (our choice).
        shape: ``'box'`` draws the axis-aligned bounding box, ``'polygon'`` the polygon itself.

    Returns:
        a new RGB image of the same size; ``image`` is not modified.

    Raises:
        ValueError: unknown colour or shape.
    """
    if colour not in COLOURS:
        raise ValueError(f"colour must be one of {sorted(COLOURS)}, got {colour!r}")
    if shape not in ("box", "polygon"):
        raise ValueError(f"shape must be 'box' or 'polygon', got {shape!r}")
    out = to_rgb(image)  # always a new image; transparency composited on white
    w = width if width is not None else max(2, round(max(out.size) / 300))
    pts = rect_polygon(*region.bbox()) if shape == "box" else list(region.polygon)
    ImageDraw.Draw(out).line(pts + [pts[0]], fill=COLOURS[colour], width=w, joint="curve")
    return out


class GOTCodec(Codec):
    """Multi-box answer list ``[x1, y1, x2, y2] TEXT`` per line on GOT's truncated 0-1000 grid (our format).

    Args:
        dedupe: drop exact duplicate objects when parsing (counted in the report).
    """

    family = "got"

    def grid(self, image_size: ImageSize) -> Grid:
        return got_grid(image_size)

    def encode(self, regions: Sequence[Region], image_size: ImageSize) -> str:
        grid = self.grid(image_size)
        lines = []
        for r in regions:
            text = object_text(r, self.family, _FORBIDDEN)
            lines.append(f"{format_list(bbox_on_grid(r, grid))} {text}")
        return "\n".join(lines)

    def object_encoder(self, image_size: ImageSize) -> ObjectEncoder:
        return self.box_format(image_size).encoder()

    def box_format(self, image_size: ImageSize) -> BoxFormat:
        family = self.family
        f1, f2 = _FORBIDDEN

        def text(region: Region) -> str:
            t = region.text
            if f1 in t or f2 in t:
                object_text(region, family, _FORBIDDEN)  # raises
            return t

        return BoxFormat(self.grid(image_size), _OBJECT_TEMPLATE, True, text, _FORBIDDEN)

    def parse(self, text: str, image_size: ImageSize) -> ParseResult:
        col = self.collector(image_size)
        for m in scan(text, _OBJECT_RE, _START_RE, col.report):
            col.add(m.group("text").rstrip("\r"), numbers(m.group("nums")), line_of(text, m.start()), m.group(0))
        return col.result()

    def region_prompt(self, region: Region, image_size: ImageSize, ocr_type: str = "ocr") -> Tuple[str, str]:
        """``(prompt, answer)`` for region-level OCR training: GOT's box prompt and the region's text."""
        return encode_region_prompt(region, image_size, ocr_type), region.text
