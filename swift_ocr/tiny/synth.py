"""Render synthetic text images with labels (``swift-ocr synth``): seeded, reproducible, offline.

Output layout (ICDAR 2015, readable by ``swift-ocr convert --format icdar --task rec|line|det``)::

    OUT/imgs/<stem>.png          RGB PNG
    OUT/gts/gt_<stem>.txt        one line per text line: x1,y1,x2,y2,x3,y3,x4,y4,text
    OUT/synth.json               the settings that made it (no timestamps: the same settings give the same bytes)

Quads are in **pixels of the written image**, clockwise from the top-left corner of the text as read (for rotated
text the rotated corners, possibly with fractional parts rounded to 0.1 px). Two layouts:

* ``line``: one text line per image (recognition crops; ``--task rec`` reads the whole image's text);
* ``page``: several lines per image, one quad each (pages for ``--task line`` / ``det`` / ``rec``).

Fonts come only from installed packages, never from the system and never from the network: Pillow's bundled
font (``pillow``: Pillow's ``ImageFont.load_default``, Aileron Regular) and matplotlib's bundled DejaVu and STIX
families (:data:`FONTS`, files under ``matplotlib/mpl-data/fonts/ttf``, found without importing matplotlib).

Determinism: every random choice comes from one ``random.Random(seed)`` in a fixed order, rendering is done by
Pillow without antialiasing differences between runs, and PNGs are written without timestamps, so the same
settings, Pillow version and fonts give byte-identical files. The whole output is written into a staging folder
next to ``OUT`` and moved into place at the end (a failed run leaves no partial ``OUT``).
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import random
import shutil
import string
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

#: Font names -> file name under matplotlib's ``mpl-data/fonts/ttf`` (``None``: Pillow's bundled default font).
FONTS: Dict[str, Optional[str]] = {
    "pillow": None,
    "dejavu-sans": "DejaVuSans.ttf",
    "dejavu-sans-bold": "DejaVuSans-Bold.ttf",
    "dejavu-sans-oblique": "DejaVuSans-Oblique.ttf",
    "dejavu-sans-mono": "DejaVuSansMono.ttf",
    "dejavu-serif": "DejaVuSerif.ttf",
    "dejavu-serif-italic": "DejaVuSerif-Italic.ttf",
    "stix": "STIXGeneral.ttf",
    "stix-italic": "STIXGeneralItalic.ttf",
    "stix-bold": "STIXGeneralBol.ttf",
}
#: Named character sets for random strings (``--charset``); any other value is used as the character set itself.
CHARSETS: Dict[str, str] = {
    "digits": string.digits,
    "upper": string.ascii_uppercase,
    "lower": string.ascii_lowercase,
    "alnum": string.digits + string.ascii_uppercase,
    "alnum-mixed": string.digits + string.ascii_letters,
}
LAYOUTS = ("line", "page")


@dataclass
class SynthConfig:
    """Settings of one ``swift-ocr synth`` run (all sizes in pixels, angles in degrees counter-clockwise).

    ``count`` images; ``layout`` ``line`` (one line per image) or ``page`` (``lines`` lines per image, with
    ``lines`` ``(min, max)``); strings of ``length`` ``(min, max)`` characters drawn from ``charset`` (a name of
    :data:`CHARSETS` or the characters themselves) with ``words`` ``(min, max)`` space-separated words per line,
    or lines taken in order and cycled from ``texts`` when given; ``font`` a name of :data:`FONTS`;
    ``font_size`` ``(min, max)``; ``canvas`` ``(width, height)`` of every image (text that does not fit, rotated
    or not, is an error, never a cut-off image with a whole label), or ``None`` for the text's size plus
    ``margin``; ``jitter``: random placement inside the canvas (else centred); ``rotate`` ``(min, max)`` angle of
    the whole image content (a fixed canvas keeps its size, else it grows to hold the turned text; quads follow);
    ``invert``: white text on black; ``noise``: std of Gaussian pixel noise (0-255 scale, 0 = none); ``blank``:
    write plain background images with the same labels (the "can it read without pixels?" control); ``seed``;
    ``prefix`` of the image stems; ``exclude``: lines a random line must not equal (it is drawn again), e.g. the
    training set's, so that a test set is held out in its strings too (:func:`read_label_texts`).
    """
    count: int = 100
    layout: str = "line"
    charset: str = "digits"
    length: Tuple[int, int] = (4, 4)
    words: Tuple[int, int] = (1, 1)
    texts: Optional[List[str]] = None
    lines: Tuple[int, int] = (3, 6)
    font: str = "dejavu-sans"
    font_size: Tuple[int, int] = (22, 26)
    canvas: Optional[Tuple[int, int]] = None
    margin: int = 6
    jitter: bool = True
    rotate: Tuple[float, float] = (0.0, 0.0)
    invert: bool = False
    noise: float = 0.0
    blank: bool = False
    seed: int = 0
    prefix: str = "synth"
    exclude: List[str] = field(default_factory=list)
    extra: Dict[str, object] = field(default_factory=dict)

    def check(self) -> None:
        """Raise ``ValueError`` for settings that cannot be rendered."""
        if self.count < 1:
            raise ValueError(f"count must be at least 1, got {self.count}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.font not in FONTS:
            raise ValueError(f"unknown font {self.font!r}; choose from {', '.join(FONTS)}")
        for name in ("length", "words", "lines", "font_size"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi:
                raise ValueError(f"{name} must be MIN-MAX with 1 <= MIN <= MAX, got {lo}-{hi}")
        if self.texts is not None and not [t for t in self.texts if t.strip()]:
            raise ValueError("texts: no non-blank line to render")
        if self.texts is None and not charset_chars(self.charset).strip():
            raise ValueError(f"charset {self.charset!r} has no printable character")
        if self.canvas is not None and (self.canvas[0] < 8 or self.canvas[1] < 8):
            raise ValueError(f"canvas must be at least 8x8 pixels, got {self.canvas[0]}x{self.canvas[1]}")
        if self.noise < 0:
            raise ValueError(f"noise must be >= 0, got {self.noise}")
        if any(c in self.prefix for c in "/\\\0") or not self.prefix:
            raise ValueError(f"prefix must be a non-empty file-name part, got {self.prefix!r}")


def charset_chars(charset: str) -> str:
    """The characters of ``charset``: a name of :data:`CHARSETS`, else the string itself (duplicates removed,
    order kept, newlines and commas are allowed in labels but newlines are dropped here)."""
    chars = CHARSETS.get(charset, charset)
    return "".join(dict.fromkeys(c for c in chars if c not in "\r\n"))


def font_path(name: str) -> Optional[Path]:
    """The TTF file of font ``name`` (:data:`FONTS`) inside the installed matplotlib package, ``None`` for
    ``pillow`` (Pillow's bundled font). Raises ``ValueError`` for an unknown name and ``FileNotFoundError`` when
    matplotlib (a dependency of swift-ocr and of ms-swift) or the file is missing. matplotlib is not imported."""
    if name not in FONTS:
        raise ValueError(f"unknown font {name!r}; choose from {', '.join(FONTS)}")
    file_name = FONTS[name]
    if file_name is None:
        return None
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"font {name!r} comes from the matplotlib package, which is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf" / file_name
    if not path.is_file():
        raise FileNotFoundError(f"font {name!r}: {path} does not exist (matplotlib install without fonts?)")
    return path


def load_font(name: str, size: int):
    """A Pillow ``FreeTypeFont`` of font ``name`` (:data:`FONTS`) at ``size`` pixels."""
    from PIL import ImageFont

    path = font_path(name)
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size=size)


def missing_glyphs(font: str, chars: str) -> List[str]:
    """The non-whitespace characters of ``chars`` that font ``font`` (:data:`FONTS`) has no glyph for: they render
    exactly like a code point no font has (U+10FFFD, private use), i.e. as the font's "missing glyph" box. A label
    with such a character would not match its image."""
    from PIL import Image, ImageDraw

    f = load_font(font, 24)

    def pixels(text: str) -> bytes:
        image = Image.new("L", (48, 48), 0)
        ImageDraw.Draw(image).text((8, 8), text, font=f, fill=255)
        return image.tobytes()

    missing = pixels("\U0010FFFD")
    return [c for c in dict.fromkeys(chars) if not c.isspace() and pixels(c) == missing]


def _random_line(rng: random.Random, cfg: SynthConfig, chars: str, text_index: List[int]) -> str:
    if cfg.texts is not None:
        texts = [t for t in cfg.texts if t.strip()]
        text = texts[text_index[0] % len(texts)].strip()
        text_index[0] += 1
        return text
    excluded = set(cfg.exclude)
    for _ in range(1000):
        words = []
        for _ in range(rng.randint(*cfg.words)):
            n = rng.randint(*cfg.length)
            word = "".join(rng.choice(chars) for _ in range(n))
            words.append(word)
        # a word made only of spaces (custom charsets) would vanish from the label after stripping
        text = " ".join(words).strip() or chars.strip()[0]
        if text not in excluded:
            return text
    raise ValueError(f"1000 random lines in a row were all excluded: --exclude leaves (almost) no string of "
                     f"charset {cfg.charset!r} and length {cfg.length[0]}-{cfg.length[1]}")


def _rotate_point(x: float, y: float, cx: float, cy: float, angle: float) -> Tuple[float, float]:
    """Rotate (x, y) about (cx, cy) by ``angle`` degrees counter-clockwise on screen (y down), as PIL's
    ``Image.rotate`` turns the picture."""
    a = math.radians(angle)
    dx, dy = x - cx, y - cy
    return cx + dx * math.cos(a) + dy * math.sin(a), cy - dx * math.sin(a) + dy * math.cos(a)


def render_sample(rng: random.Random, cfg: SynthConfig, chars: str, text_index: List[int]):
    """Render one image with ``cfg``; returns ``(PIL RGB image, [(quad, text), ...])`` where each quad is 4
    ``(x, y)`` pixel points clockwise from the text's top-left. Consumes ``rng`` in a fixed order."""
    from PIL import Image, ImageDraw

    n_lines = 1 if cfg.layout == "line" else rng.randint(*cfg.lines)
    items = []
    for _ in range(n_lines):
        text = _random_line(rng, cfg, chars, text_index)
        size = rng.randint(*cfg.font_size)
        font = load_font(cfg.font, size)
        left, top, right, bottom = font.getbbox(text)
        items.append((text, font, left, top, right - left, bottom - top))
    gap = max(2, cfg.margin // 2)
    text_w = max(w for *_, w, _h in items)
    text_h = sum(h for *_, h in items) + gap * (n_lines - 1)
    if cfg.canvas is None:
        width, height = text_w + 2 * cfg.margin, text_h + 2 * cfg.margin
    else:
        width, height = cfg.canvas
    # position of the text block; jitter moves it inside the free space
    free_x, free_y = max(0, width - text_w - 2 * cfg.margin), max(0, height - text_h - 2 * cfg.margin)
    if cfg.jitter:
        x0, y0 = cfg.margin + rng.randint(0, free_x), cfg.margin + rng.randint(0, free_y)
    else:
        x0, y0 = cfg.margin + free_x // 2, cfg.margin + free_y // 2
    angle = rng.uniform(*cfg.rotate) if cfg.rotate != (0.0, 0.0) else 0.0
    background, ink = (0, 0, 0) if cfg.invert else (255, 255, 255), (255, 255, 255) if cfg.invert else (0, 0, 0)
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    regions = []
    y = y0
    for text, font, left, top, w, h in items:
        x = x0 + (rng.randint(0, text_w - w) if cfg.jitter and cfg.layout == "page" else 0)
        if not cfg.blank:
            draw.text((x - left, y - top), text, font=font, fill=ink)
        pad = 1
        box = [(x - pad, y - pad), (x + w + pad, y - pad), (x + w + pad, y + h + pad), (x - pad, y + h + pad)]
        regions.append((box, text))
        y += h + gap
    if angle:
        # a fixed canvas keeps its size (text turned past its edges is refused below); without one the canvas
        # grows to hold the turned content (PIL keeps the centre at the centre)
        expand = cfg.canvas is None
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=expand, fillcolor=background)
        cx, cy = width / 2, height / 2
        sx, sy = (image.width - width) / 2, (image.height - height) / 2
        regions = [([(qx + sx, qy + sy) for qx, qy in (_rotate_point(px, py, cx, cy, angle) for px, py in box)],
                     text) for box, text in regions]
        width, height = image.size
    if cfg.canvas is not None:
        for quad, text in regions:
            if any(not (-1.5 <= qx <= width + 1.5 and -1.5 <= qy <= height + 1.5) for qx, qy in quad):
                raise ValueError(f"text {text!r} does not fit the {width}x{height} canvas (font size up to "
                                 f"{cfg.font_size[1]} px, margin {cfg.margin}, rotation up to "
                                 f"{max(abs(a) for a in cfg.rotate):g} deg): its label would name cut-off "
                                 "characters; use a larger --canvas, a smaller --font-size or shorter strings")
    if cfg.noise > 0:
        import numpy as np

        noise_rng = np.random.default_rng(rng.getrandbits(32))
        pixels = np.asarray(image, dtype=np.float32) + noise_rng.normal(0.0, cfg.noise, (height, width, 1))
        image = Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8), "RGB")
    return image, regions


def read_label_texts(path: Union[str, os.PathLike]) -> List[str]:
    """The texts of an earlier ``swift-ocr synth`` output folder (or any folder with ICDAR 2015 ``gts/*.txt`` /
    ``*.txt`` labels: everything after the 8th comma of each line), or of a UTF-8 text file (one text per line).
    For :attr:`SynthConfig.exclude`. Raises ``FileNotFoundError`` when ``path`` does not exist."""
    path = Path(path)
    if path.is_file():
        return [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    folder = path / "gts" if (path / "gts").is_dir() else path
    texts = []
    for label in sorted(folder.glob("*.txt")):
        for line in label.read_text(encoding="utf-8-sig").splitlines():
            fields = line.split(",", 8)
            if len(fields) == 9:
                texts.append(fields[8].strip())
    return texts


def _fmt(v: float) -> str:
    r = round(v, 1)
    return str(int(r)) if r == int(r) else f"{r:.1f}"


def icdar_line(quad: Sequence[Tuple[float, float]], text: str) -> str:
    """One ICDAR 2015 label line ``x1,y1,...,x4,y4,text`` (pixels, integers where whole, else 0.1 px)."""
    return ",".join(_fmt(v) for point in quad for v in point) + "," + text


def synthesize(output: Union[str, os.PathLike], cfg: SynthConfig, overwrite: bool = False) -> Dict[str, object]:
    """Render ``cfg.count`` images with ICDAR labels into ``output`` (layout in the module docstring).

    Returns a summary ``{"output", "images", "lines", "characters"}``. Raises ``ValueError`` for bad settings
    (:meth:`SynthConfig.check`), characters the font cannot draw (:func:`missing_glyphs`) or text that does not fit
    a fixed canvas, and ``FileExistsError`` when ``output`` exists and is not empty unless ``overwrite`` (then it is
    replaced as a whole once the new output is complete). On any error ``output`` is left as it was.
    """
    cfg.check()
    wanted = "".join(cfg.texts) if cfg.texts is not None else charset_chars(cfg.charset)
    absent = missing_glyphs(cfg.font, wanted)
    if absent:
        raise ValueError(f"font {cfg.font!r} has no glyph for {''.join(absent[:20])!r}: the images would not show "
                         "the labels; pick another --font or drop these characters")
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise FileExistsError(f"{output}: exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise FileExistsError(f"{output}: folder exists and is not empty (pass overwrite / --overwrite)")
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent))
    rng = random.Random(cfg.seed)
    chars = charset_chars(cfg.charset)
    text_index = [0]
    digits = len(str(cfg.count - 1))
    n_lines = n_chars = 0
    try:
        (staging / "imgs").mkdir()
        (staging / "gts").mkdir()
        for i in range(cfg.count):
            stem = f"{cfg.prefix}_{i:0{digits}d}"
            image, regions = render_sample(rng, cfg, chars, text_index)
            image.save(staging / "imgs" / f"{stem}.png", format="PNG")
            label = "".join(icdar_line(quad, text) + "\n" for quad, text in regions)
            (staging / "gts" / f"gt_{stem}.txt").write_text(label, encoding="utf-8", newline="\n")
            n_lines += len(regions)
            n_chars += sum(len(text) for _, text in regions)
        settings = asdict(cfg)
        settings["generator"] = "swift-ocr synth"
        (staging / "synth.json").write_text(json.dumps(settings, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)
        if output.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".old", dir=output.parent))
            os.rename(output, trash / output.name)
            os.rename(staging, output)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.rename(staging, output)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return {"output": str(output), "images": cfg.count, "lines": n_lines, "characters": n_chars}
