#!/usr/bin/env python3
"""Render the small sample files under ``data_templates/`` (one folder per input format).

Every image is rendered here with Pillow and the DejaVu fonts shipped by Debian
(``fonts-dejavu-core``: /usr/share/fonts/truetype/dejavu/). No third-party data is used.
Each text line is drawn character by character on a layer of its own, so every character's
box comes straight from the renderer (``ImageDraw.textbbox`` of that character at the position
it was drawn at); the layer is then placed on the page with an affine map (a rotation for the
rotated lines), and the same map gives the exact corner points of the line quad and the
axis-aligned boxes of its characters.

Coordinates written to label files are **pixels of the written image** (x right, y down, origin
at the top-left corner of the top-left pixel; a box ``x1, y1, x2, y2`` covers ``x1 <= x < x2``).

Formats written (see data_templates/README.md for the full rules):

* ``wordbox/``: ``images/<stem>.png`` + ``labels/<stem>.json`` (bare JSON list of
  ``[x1, y1, x2, y2, order, char]``) + ``expected.tsv``.
* ``icdar/``: ``images/<stem>.png`` + ``labels/gt_<stem>.txt`` (ICDAR 2015 Challenge 4 ground truth,
  https://rrc.cvc.uab.es/?ch=4: ``x1,y1,x2,y2,x3,y3,x4,y4,transcription``, ``###`` = do-not-care) +
  ``expected.tsv``.
* ``dbnet/``: ``train_images/``, ``train_gts/gt_<stem>.txt``, ``test_images/``, ``test_gts/``,
  ``train_list.txt`` and ``test_list.txt`` (``<image path> <gt path>`` per line).
* ``parquet/``: ``ocr_lines.parquet`` (Hugging Face ``datasets.Image()`` struct column ``image`` +
  ``text``) and ``ocr_lines_raw_bytes.parquet`` (binary ``image`` + ``label``).
* ``got/``: ``train.json`` in GOT-OCR2.0's conversation format + ``images/``.
* ``paddle_det/``: ``det_gt.txt`` (PaddleOCR / PPOCRLabel detection labels,
  ``images/<stem>.png<TAB>[{"points": [[x, y] x4], "transcription": ...}]``) + ``images/``.
* ``paddle_rec/``: ``rec_gt.txt`` (PaddleOCR recognition labels, ``crops/line_NN.png<TAB>text``) +
  ``crops/`` (the parquet files' line crops).
* ``mmocr/``: ``textspotting_train.json`` (pages, polygons + texts) and ``textrecog_train.json``
  (line crops) in MMOCR 1.x's annotation format (``metainfo`` + ``data_list``) + ``imgs/``, ``crops/``.

Deterministic: no randomness without a fixed seed, no timestamps, fixed PNG and parquet writer
options, sorted JSON keys. Running it twice with the same Pillow/FreeType/zlib/pyarrow gives
byte-identical files (tests/test_data_templates.py checks this against the committed files).

Usage: ``python tools/make_data_templates.py [--output DIR]`` (default: the repository's
``data_templates/``). Files are written atomically; existing files of other names are left alone.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from PIL import Image, ImageDraw, ImageFilter, ImageFont

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "data_templates"

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
    "mono-bold": "DejaVuSansMono-Bold.ttf",
}

#: PNG writer options (fixed so that the bytes do not depend on defaults).
PNG_OPTIONS = {"format": "PNG", "optimize": False, "compress_level": 9}
#: rows per parquet row group (small, so that readers can be tested reading group by group).
PARQUET_ROW_GROUP_SIZE = 3
#: seed of the shuffles of the word-box lists.
SEED = 20240611

# ---------------------------------------------------------------------------------------------
# Scene description
# ---------------------------------------------------------------------------------------------


@dataclass
class Line:
    """One text line of a scene.

    Attributes:
        text: the exact string rendered.
        font: key of ``FONT_FILES``.
        size: font size in pixels (FreeType pixel size).
        pos: page position of the unrotated ink box's top-left corner ``(x, y)`` in pixels (top-right
            corner when ``right`` is True), or, when ``center`` is True, of the ink box's centre. ``x`` may
            be ``"c"`` for horizontally centred.
        angle: rotation in degrees, counter-clockwise as seen on screen (text rising to the right).
        dont_care: rendered tiny and blurred, written as ``###`` in ICDAR files, left out of the
            word-box labels and of the expected texts.
        ink: gray level of the text (0 black .. 255 white).
    """

    text: str
    font: str
    size: int
    pos: Tuple[object, float]
    angle: float = 0.0
    dont_care: bool = False
    ink: int = 20
    center: bool = False
    right: bool = False


@dataclass
class Scene:
    """One page: size, background and lines in reading order."""

    stem: str
    size: Tuple[int, int]
    background: int
    lines: List[Line]
    decorate: Optional[str] = None  # "receipt", "form", "sign", "ticket"
    shuffle: bool = True  # write the word-box list in a shuffled (non-reading) order


SCENES: List[Scene] = [
    Scene(
        stem="receipt_01",
        size=(360, 480),
        background=246,
        decorate="receipt",
        shuffle=False,
        lines=[
            Line("KEDAI RUNCIT SRI JAYA", "sans-bold", 19, ("c", 26)),
            Line("NO.53 55,57 & 59, JALAN SAGU 18,", "mono", 14, ("c", 60)),
            Line("DATE: 12/03/2018 14:22", "mono", 14, (30, 100)),
            Line("2 X TEH TARIK", "mono", 14, (30, 150)),
            Line("5.00", "mono", 14, (330, 150), right=True),
            Line("1 X NASI LEMAK", "mono", 14, (30, 174)),
            Line("7.50", "mono", 14, (330, 174), right=True),
            Line("TOTAL 12.50", "mono-bold", 18, (330, 226), right=True),
            Line("PAID", "sans-bold", 40, (250, 330), angle=15.0, ink=90, center=True),
            Line("GST REG 000123456789", "mono", 7, (40, 440), dont_care=True, ink=110),
        ],
    ),
    Scene(
        stem="receipt_02",
        size=(360, 480),
        background=240,
        decorate="receipt",
        lines=[
            Line("MINI MARKET 88", "sans-bold", 22, ("c", 22)),
            Line("LOT 7, JALAN BUNGA RAYA,", "mono", 14, ("c", 62)),
            Line("75100 MELAKA", "mono", 14, ("c", 82)),
            Line("INV 0042 2019-07-15", "mono", 14, (28, 120)),
            Line("MILO 1KG", "mono", 14, (28, 168)),
            Line("18.90", "mono", 14, (332, 168), right=True),
            Line("BREAD 3.20", "mono", 14, (28, 192)),
            Line("TOTAL 22.10", "mono-bold", 18, (332, 240), right=True),
            Line("CHANGE 27.90", "mono", 14, (200, 300), angle=-12.0, center=True),
        ],
    ),
    Scene(
        stem="form_01",
        size=(560, 400),
        background=250,
        decorate="form",
        lines=[
            Line("APPLICATION FORM", "sans-bold", 24, ("c", 24)),
            Line("NAME: TAN AH KOW", "sans", 16, (40, 90)),
            Line("IC NO: 900102-14-5678", "sans", 16, (40, 140)),
            Line("ADDRESS: 12, JALAN RIA, 50480 KUALA LUMPUR", "sans", 16, (40, 190)),
            Line("DATE: 01.02.2020", "sans", 16, (40, 240)),
            Line("APPROVED 03/02/2020", "sans-bold", 20, (400, 330), angle=18.0, ink=70, center=True),
        ],
    ),
    Scene(
        stem="sign_01",
        size=(480, 320),
        background=70,
        decorate="sign",
        lines=[
            Line("JALAN SAGU 18", "sans-bold", 40, (240, 120), angle=10.0, ink=245, center=True),
            Line("TAMAN DAYA, 81100", "sans", 22, ("c", 210), ink=235),
            Line("JOHOR BAHRU", "sans", 18, ("c", 250), ink=235),
        ],
    ),
    Scene(
        stem="sign_02",
        size=(480, 320),
        background=225,
        decorate="sign",
        lines=[
            Line("CAFÉ & BAKERY", "sans-bold", 34, ("c", 40)),
            Line("OPEN 7AM - 10PM", "sans", 20, ("c", 100)),
            Line("TEL: 03-7781 2299", "mono", 18, ("c", 140)),
            Line("SALE 20% OFF", "sans-bold", 26, (300, 230), angle=-16.0, ink=40, center=True),
            Line("Est. 1998, Petaling Jaya", "sans", 6, (40, 282), dont_care=True, ink=120),
        ],
    ),
    Scene(
        stem="ticket_01",
        size=(400, 300),
        background=236,
        decorate="ticket",
        lines=[
            Line("PARKING TICKET", "sans-bold", 22, ("c", 20)),
            Line("NO. 004512", "mono", 16, (30, 70)),
            Line("IN 08:15 OUT 10:40", "mono", 16, (30, 104)),
            Line("FEE RM 4.00", "mono-bold", 18, (30, 140)),
            Line("12 MAR 2021", "mono", 16, (30, 180)),
            Line("VALID", "sans-bold", 22, (300, 230), angle=20.0, ink=80, center=True),
        ],
    ),
]

#: scenes whose ICDAR files are saved with a UTF-8 BOM / with CRLF line endings.
BOM_STEMS = ("receipt_02", "sign_02")
CRLF_STEMS = ("form_01", "sign_02")
#: DBNet split (copies of the ICDAR files).
DBNET_TRAIN = ("receipt_01", "form_01")
DBNET_TEST = ("sign_01",)

#: single-line crops for the parquet files: (text, font, size, ink, background).
CROP_LINES: List[Tuple[str, str, int, int, int]] = [
    ("NO.53 55,57 & 59, JALAN SAGU 18,", "mono", 16, 20, 246),
    ("TOTAL 12.50", "mono-bold", 20, 20, 240),
    ("DATE: 12/03/2018 14:22", "mono", 16, 30, 250),
    ("KEDAI RUNCIT SRI JAYA", "sans-bold", 20, 20, 236),
    ("ADDRESS: 12, JALAN RIA", "sans", 18, 25, 250),
    ("CAFÉ & BAKERY", "sans-bold", 24, 30, 225),
    ("JALAN SAGU 18", "sans-bold", 26, 245, 70),
    ("FEE RM 4.00", "mono", 18, 20, 236),
]

# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------

_FONT_CACHE: Dict[Tuple[str, int], ImageFont.FreeTypeFont] = {}


def load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """The DejaVu font ``FONT_FILES[name]`` at ``size`` pixels, with Pillow's BASIC layout engine.

    BASIC (not raqm) so that the output does not depend on whether libraqm is installed.

    Raises:
        FileNotFoundError: the font file is not installed (Debian package ``fonts-dejavu-core``).
    """
    key = (name, size)
    if key not in _FONT_CACHE:
        path = FONT_DIR / FONT_FILES[name]
        if not path.is_file():
            raise FileNotFoundError(f"{path}: DejaVu font missing; install the Debian package fonts-dejavu-core")
        _FONT_CACHE[key] = ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)
    return _FONT_CACHE[key]


@dataclass
class RenderedLine:
    """A line drawn on its own layer.

    Attributes:
        mask: 'L' layer, 255 = ink, 0 = none.
        char_boxes: per character ``(x1, y1, x2, y2)`` in layer pixels: the ink box from
            ``ImageDraw.textbbox`` for characters with ink, the advance cell (from the character's pen
            position to the next one, between the line's ink top and bottom) for spaces.
        box: the line's ink box in layer pixels (union of the characters' ink boxes).
    """

    mask: Image.Image
    char_boxes: List[Tuple[float, float, float, float]]
    box: Tuple[float, float, float, float]


def render_line(text: str, font: ImageFont.FreeTypeFont, pad: int = 4) -> RenderedLine:
    """Draw ``text`` one character at a time (pen positions rounded to whole pixels)."""
    ascent, descent = font.getmetrics()
    pens = [pad + round(font.getlength(text[:i])) for i in range(len(text) + 1)]
    width = pens[-1] + 2 * pad + 4
    height = ascent + descent + 2 * pad
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    ink_boxes: List[Optional[Tuple[float, float, float, float]]] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            ink_boxes.append(None)
            continue
        draw.text((pens[i], pad), ch, font=font, fill=255)
        ink_boxes.append(tuple(draw.textbbox((pens[i], pad), ch, font=font)))
    inked = [b for b in ink_boxes if b is not None]
    box = (min(b[0] for b in inked), min(b[1] for b in inked), max(b[2] for b in inked), max(b[3] for b in inked))
    char_boxes = [b if b is not None else (pens[i], box[1], pens[i + 1], box[3]) for i, b in enumerate(ink_boxes)]
    return RenderedLine(mask=mask, char_boxes=char_boxes, box=box)


@dataclass
class Affine:
    """Forward map from layer pixels to page pixels: ``p' = t + R(angle) (p - c)``.

    ``angle`` in degrees, counter-clockwise on screen (y axis pointing down).
    """

    c: Tuple[float, float]
    t: Tuple[float, float]
    angle: float

    def _cs(self) -> Tuple[float, float]:
        if self.angle == 0:
            return 1.0, 0.0
        r = math.radians(self.angle)
        return math.cos(r), math.sin(r)

    def apply(self, x: float, y: float) -> Tuple[float, float]:
        cos, sin = self._cs()
        dx, dy = x - self.c[0], y - self.c[1]
        return (self.t[0] + cos * dx + sin * dy, self.t[1] - sin * dx + cos * dy)

    def inverse_coefficients(self) -> Tuple[float, ...]:
        """``(a, b, c, d, e, f)`` for ``Image.transform(..., Image.AFFINE, ...)`` (page -> layer)."""
        cos, sin = self._cs()
        (cx, cy), (tx, ty) = self.c, self.t
        return (cos, -sin, cx - cos * tx + sin * ty, sin, cos, cy - sin * tx - cos * ty)


def _corners(box: Sequence[float]) -> List[Tuple[float, float]]:
    """Top-left, top-right, bottom-right, bottom-left (clockwise on screen)."""
    x1, y1, x2, y2 = box
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


def _floor(v: float) -> int:
    return math.floor(v + 1e-6)


def _ceil(v: float) -> int:
    return math.ceil(v - 1e-6)


@dataclass
class PlacedLine:
    """A line on the page: its quad (ICDAR) and its characters' boxes (word-box), page pixels.

    ``mask`` is the line's own ink layer at page size (255 = ink), kept so that tests can check that
    every inked pixel lies inside the boxes.
    """

    line: Line
    quad: List[Tuple[int, int]]
    char_boxes: List[Tuple[int, int, int, int]]
    end_box: Tuple[int, int, int, int]  # box of the line-end segment (the "\n" entry)
    mask: Image.Image


def _clip_box(box: Sequence[float], size: Tuple[int, int]) -> Tuple[int, int, int, int]:
    w, h = size
    x1, y1, x2, y2 = box
    return (max(0, _floor(x1)), max(0, _floor(y1)), min(w, _ceil(x2)), min(h, _ceil(y2)))


def _aabb(points: Sequence[Tuple[float, float]]) -> Tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def place_line(page: Image.Image, line: Line) -> PlacedLine:
    """Render ``line`` and composite it onto ``page`` (mode 'L'), returning its exact geometry."""
    font = load_font(line.font, line.size)
    rl = render_line(line.text, font)
    mask = rl.mask
    bx1, by1, bx2, by2 = rl.box
    if line.dont_care:
        mask = mask.filter(ImageFilter.GaussianBlur(1.2))
        bx1, by1, bx2, by2 = mask.getbbox()
    bw, bh = bx2 - bx1, by2 - by1
    x, y = line.pos
    if x == "c":
        x = (page.width - bw) // 2
    elif line.right:
        x = x - bw
    if line.center:
        target = (float(x), float(y))
    else:
        target = (x + bw / 2, y + bh / 2)
    aff = Affine(c=((bx1 + bx2) / 2, (by1 + by2) / 2), t=target, angle=line.angle)
    placed = mask.transform(page.size, Image.AFFINE, aff.inverse_coefficients(), resample=Image.BICUBIC, fillcolor=0)
    if line.dont_care:
        # the blurred layer's own extent, so the quad covers every visible pixel
        bbox = placed.getbbox()
        quad_f = _corners(bbox)
    else:
        quad_f = [aff.apply(px, py) for px, py in _corners((bx1, by1, bx2, by2))]
    page.paste(Image.new("L", page.size, line.ink), (0, 0), placed)
    w, h = page.size
    quad = [(min(max(round(px), 0), w), min(max(round(py), 0), h)) for px, py in quad_f]
    char_boxes = [_clip_box(_aabb([aff.apply(px, py) for px, py in _corners(b)]), page.size) for b in rl.char_boxes]
    end = _aabb([aff.apply(bx2, by1), aff.apply(bx2, by2)])
    return PlacedLine(line=line, quad=quad, char_boxes=char_boxes, end_box=_clip_box(end, page.size), mask=placed)


def _decorate(page: Image.Image, scene: Scene) -> None:
    """Non-text marks (borders, rules, field boxes) so the pages are not blank paper."""
    draw = ImageDraw.Draw(page)
    w, h = page.size
    if scene.decorate == "receipt":
        for yy in (90, 136, 214, 262):
            for xx in range(16, w - 16, 10):
                draw.line([(xx, yy), (xx + 5, yy)], fill=150)
        for xx in range(0, w, 12):  # torn edge at the bottom
            draw.polygon([(xx, h), (xx + 6, h - 7), (xx + 12, h)], fill=200)
    elif scene.decorate == "form":
        draw.rectangle([8, 8, w - 9, h - 9], outline=60, width=2)
        for yy in (114, 164, 214, 264):
            draw.line([(36, yy + 4), (w - 36, yy + 4)], fill=170)
        draw.ellipse([330, 280, 470, 380], outline=150, width=3)
    elif scene.decorate == "sign":
        fg = 235 if scene.background < 128 else 40
        draw.rounded_rectangle([10, 10, w - 11, h - 11], radius=18, outline=fg, width=4)
        draw.line([(40, 190), (w - 40, 190)], fill=fg, width=2)
    elif scene.decorate == "ticket":
        draw.rectangle([4, 4, w - 5, h - 5], outline=90, width=1)
        for i, xx in enumerate(range(30, 230, 4)):  # a fake barcode (not text)
            draw.line([(xx, 215), (xx, 262)], fill=40, width=1 + (i * 7) % 3 // 2)


def render_scene(scene: Scene) -> Tuple[Image.Image, List[PlacedLine]]:
    """The page image (mode 'L') and its placed lines in reading order."""
    page = Image.new("L", scene.size, scene.background)
    w, h = scene.size
    # a gentle vertical shading, deterministic
    shade = Image.linear_gradient("L").resize((w, h), Image.BILINEAR)
    page.paste(Image.new("L", (w, h), max(scene.background - 8, 0)), (0, 0), shade)
    _decorate(page, scene)
    placed = [place_line(page, line) for line in scene.lines]
    return page, placed


def expected_text(placed: Sequence[PlacedLine]) -> str:
    """The full text of a page: the texts of its lines that are not do-not-care, joined by ``\\n``."""
    return "\n".join(p.line.text for p in placed if not p.line.dont_care)


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, **PNG_OPTIONS)
    return buf.getvalue()


def wordbox_entries(placed: Sequence[PlacedLine]) -> List[list]:
    """``[x1, y1, x2, y2, order, char]`` in reading order; lines separated by a ``"\\n"`` entry."""
    entries: List[list] = []
    care = [p for p in placed if not p.line.dont_care]
    for li, p in enumerate(care):
        if li > 0:
            prev = care[li - 1]
            entries.append([*prev.end_box, len(entries), "\n"])
        for box, ch in zip(p.char_boxes, p.line.text):
            entries.append([*box, len(entries), ch])
    return entries


def wordbox_json(entries: List[list]) -> bytes:
    body = ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries)
    return ("[\n" + body + "\n]\n").encode("utf-8")


def icdar_text(placed: Sequence[PlacedLine], bom: bool, crlf: bool) -> bytes:
    """ICDAR 2015 ground truth: ``x1,y1,x2,y2,x3,y3,x4,y4,transcription`` per line, clockwise from top-left."""
    eol = "\r\n" if crlf else "\n"
    rows = []
    for p in placed:
        coords = ",".join(str(v) for pt in p.quad for v in pt)
        rows.append(f"{coords},{'###' if p.line.dont_care else p.line.text}")
    data = (eol.join(rows) + eol).encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def escape_tsv(text: str) -> str:
    """Backslash first, then newline -> ``\\n``; tabs are not allowed in the texts."""
    if "\t" in text:
        raise ValueError(f"tab in text {text!r}")
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def expected_tsv(rows: Sequence[Tuple[str, str]]) -> bytes:
    return "".join(f"{stem}\t{escape_tsv(text)}\n" for stem, text in rows).encode("utf-8")


def render_crop(text: str, font_name: str, size: int, ink: int, background: int) -> bytes:
    """A single-line crop (tight ink box + 6 px margin), PNG bytes."""
    rl = render_line(text, load_font(font_name, size))
    x1, y1, x2, y2 = rl.box
    m = 6
    crop = rl.mask.crop((x1 - m, y1 - m, x2 + m, y2 + m))
    img = Image.new("L", crop.size, background)
    img.paste(Image.new("L", crop.size, ink), (0, 0), crop)
    return png_bytes(img)


def line_crops() -> List[Tuple[str, bytes, str]]:
    """``[(name, PNG bytes, text)]`` of the single-line crops (:data:`CROP_LINES`), ``line_NN.png``."""
    return [(f"line_{i:02d}.png", render_crop(*spec), spec[0]) for i, spec in enumerate(CROP_LINES)]


def paddle_det_line(image: str, placed: Sequence[PlacedLine]) -> str:
    """One PaddleOCR detection label line (``ppocr/utils/gen_label.py --mode det``; PPOCRLabel's ``Label.txt``):
    ``image<TAB>[{"points": [[x, y] x4], "transcription": text or "###"}, ...]``, keys sorted, UTF-8 kept."""
    regions = [{"points": [list(pt) for pt in p.quad], "transcription": "###" if p.line.dont_care else p.line.text}
               for p in placed]
    return f"{image}\t{json.dumps(regions, ensure_ascii=False, sort_keys=True)}\n"


def mmocr_json(task: str, data_list: List[dict]) -> bytes:
    """An MMOCR 1.x annotation file (``metainfo`` + ``data_list``), as MMOCR's dataset preparer packers write it."""
    dataset_type = {"textrecog": "TextRecogDataset", "textspotting": "TextSpottingDataset"}[task]
    meta = {"dataset_type": dataset_type, "task_name": task}
    if task != "textrecog":
        meta["category"] = [{"id": 0, "name": "text"}]
    entries = ",\n".join(json.dumps(e, ensure_ascii=False, sort_keys=True) for e in data_list)  # one per line
    text = '{"data_list": [\n' + entries + '\n],\n"metainfo": ' + json.dumps(meta, sort_keys=True) + "}\n"
    return text.encode("utf-8")


def mmocr_spotting_entry(image: str, size: Tuple[int, int], placed: Sequence[PlacedLine]) -> dict:
    """One textspotting ``data_list`` entry: per line its quad as a flat ``polygon``, the quad's extent as
    ``bbox`` (``x1, y1, x2, y2``), ``bbox_label`` 0, ``text`` (``###`` for do-not-care) and ``ignore``."""
    instances = []
    for p in placed:
        xs, ys = [pt[0] for pt in p.quad], [pt[1] for pt in p.quad]
        instances.append({"bbox": [min(xs), min(ys), max(xs), max(ys)], "bbox_label": 0,
                          "ignore": p.line.dont_care, "polygon": [v for pt in p.quad for v in pt],
                          "text": "###" if p.line.dont_care else p.line.text})
    return {"height": size[1], "img_path": image, "instances": instances, "width": size[0]}


def parquet_files() -> Dict[str, bytes]:
    """``ocr_lines.parquet`` and ``ocr_lines_raw_bytes.parquet`` contents."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    crops = line_crops()
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    hf_features = {
        "info": {
            "features": {
                "image": {"_type": "Image"},
                "text": {"_type": "Value", "dtype": "string"},
            }
        }
    }
    schema = pa.schema(
        [("image", image_type), ("text", pa.string())],
        metadata={"huggingface": json.dumps(hf_features, sort_keys=True)},
    )
    table = pa.table(
        {
            "image": pa.array([{"bytes": b, "path": name} for name, b, _ in crops], type=image_type),
            "text": pa.array([t for _, _, t in crops], type=pa.string()),
        },
        schema=schema,
    )
    raw = pa.table(
        {
            "image": pa.array([b for _, b, _ in crops], type=pa.binary()),
            "label": pa.array([t for _, _, t in crops], type=pa.string()),
        }
    )
    out = {}
    for name, tbl in (("ocr_lines.parquet", table), ("ocr_lines_raw_bytes.parquet", raw)):
        sink = pa.BufferOutputStream()
        pq.write_table(tbl, sink, row_group_size=PARQUET_ROW_GROUP_SIZE, compression="snappy", use_dictionary=False)
        out[name] = sink.getvalue().to_pybytes()
    return out


def build_files() -> Dict[str, bytes]:
    """Every output file, as ``{relative path: bytes}``."""
    files: Dict[str, bytes] = {}
    pages: Dict[str, bytes] = {}
    texts: List[Tuple[str, str]] = []
    icdar: Dict[str, bytes] = {}
    paddle_det: List[str] = []
    spotting: List[dict] = []
    for idx, scene in enumerate(SCENES):
        page, placed = render_scene(scene)
        png = png_bytes(page)
        pages[scene.stem] = png
        files[f"paddle_det/images/{scene.stem}.png"] = png
        paddle_det.append(paddle_det_line(f"images/{scene.stem}.png", placed))
        files[f"mmocr/imgs/{scene.stem}.png"] = png
        spotting.append(mmocr_spotting_entry(f"imgs/{scene.stem}.png", page.size, placed))
        texts.append((scene.stem, expected_text(placed)))
        entries = wordbox_entries(placed)
        if scene.shuffle:
            random.Random(SEED + idx).shuffle(entries)
        files[f"wordbox/images/{scene.stem}.png"] = png
        files[f"wordbox/labels/{scene.stem}.json"] = wordbox_json(entries)
        files[f"icdar/images/{scene.stem}.png"] = png
        icdar[scene.stem] = icdar_text(placed, bom=scene.stem in BOM_STEMS, crlf=scene.stem in CRLF_STEMS)
        files[f"icdar/labels/gt_{scene.stem}.txt"] = icdar[scene.stem]
    files["wordbox/expected.tsv"] = expected_tsv(texts)
    files["icdar/expected.tsv"] = expected_tsv(texts)

    for split, stems in (("train", DBNET_TRAIN), ("test", DBNET_TEST)):
        rows = []
        for stem in stems:
            img, gt = f"{split}_images/{stem}.png", f"{split}_gts/gt_{stem}.txt"
            files[f"dbnet/{img}"] = pages[stem]
            files[f"dbnet/{gt}"] = icdar[stem]
            rows.append(f"{img} {gt}\n")
        files[f"dbnet/{split}_list.txt"] = "".join(rows).encode("utf-8")

    for name, data in parquet_files().items():
        files[f"parquet/{name}"] = data

    got = []
    for stem, text in texts:
        files[f"got/images/{stem}.png"] = pages[stem]
        got.append(
            {
                "image": f"images/{stem}.png",
                "conversations": [
                    {"from": "human", "value": "<image>\nOCR: "},
                    {"from": "gpt", "value": text},
                ],
            }
        )
    files["got/train.json"] = (json.dumps(got, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")

    files["paddle_det/det_gt.txt"] = "".join(paddle_det).encode("utf-8")
    files["mmocr/textspotting_train.json"] = mmocr_json("textspotting", spotting)
    rec_rows, recog = [], []
    for name, png, text in line_crops():
        files[f"paddle_rec/crops/{name}"] = png
        files[f"mmocr/crops/{name}"] = png
        rec_rows.append(f"crops/{name}\t{text}\n")
        recog.append({"img_path": f"crops/{name}", "instances": [{"text": text}]})
    files["paddle_rec/rec_gt.txt"] = "".join(rec_rows).encode("utf-8")
    files["mmocr/textrecog_train.json"] = mmocr_json("textrecog", recog)
    return files


def main(out_dir: os.PathLike = DEFAULT_OUTPUT) -> List[Path]:
    """Render every template file into ``out_dir`` (created if needed); returns the written paths, sorted.

    Raises:
        FileNotFoundError: a DejaVu font is missing.
    """
    out = Path(out_dir)
    written = []
    for rel, data in sorted(build_files().items()):
        path = out / rel
        write_atomic(path, data)
        written.append(path)
    return written


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="output folder (default: %(default)s)")
    args = ap.parse_args()
    paths = main(args.output)
    total = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} files, {total} bytes, under {args.output}")
