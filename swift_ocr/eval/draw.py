"""Draw ground-truth and predicted text regions on an image, for checking detections and datasets by eye.

Colours (RGB; :data:`COLOURS`):

* ground truth: green, ``###`` (do-not-care) ground truth: grey and dashed;
* predictions: red when unmatched (false positive), blue when matched under the ICDAR 2015 protocol
  (:func:`swift_ocr.eval.metrics.det.match_image`), orange when matched in place but with the wrong text
  (spotting modes), grey when discarded for lying on a do-not-care region.

Each region is labelled with its text (ground truth above its box, predictions below it) in the DejaVu Sans
font (:data:`FONT_PATH`, Pillow's default font when that file is missing; glyphs the font lacks, e.g. Chinese,
show as boxes), and a legend line with the counts is drawn over the top-left corner. The picture keeps the
image's size. Ground-truth outlines are drawn wider than prediction outlines, so a prediction lying exactly
on its ground truth leaves a green rim on both sides of its own line.

Coordinates: polygons in pixels of the drawn image (the original image; :class:`swift_ocr.sample.Region`).
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

from PIL import Image, ImageDraw, ImageFont

from swift_ocr.images import to_rgb
from swift_ocr.sample import Point, Region

__all__ = ["COLOURS", "FONT_PATH", "line_width", "font_size", "load_font", "draw_regions", "save_png"]

FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

Colour = Tuple[int, int, int]
COLOURS: Dict[str, Colour] = {
    "gt": (0, 255, 0),
    "dont_care": (160, 160, 160),
    "matched": (0, 128, 255),
    "wrong_text": (255, 160, 0),
    "unmatched": (255, 0, 0),
    "discarded": (160, 160, 160),
}
_OUTLINE = (0, 0, 0)


def line_width(image_size: Tuple[int, int]) -> int:
    """Outline width of predictions in pixels: ``max(3, round(max(W, H) / 500))`` made odd, so that the line is
    centred on the edge and covers the pixel the edge runs through; ground truth gets 2 more."""
    return max(3, round(max(image_size) / 500)) | 1


def font_size(image_size: Tuple[int, int]) -> int:
    """Label font size in pixels: ``max(12, round(min(W, H) / 40))``."""
    return max(12, round(min(image_size) / 40))


@lru_cache(maxsize=16)
def load_font(size: int, path: str = FONT_PATH) -> ImageFont.ImageFont:
    """The TrueType font at ``path`` in ``size`` pixels; Pillow's default font (scaled when Pillow can) if the
    file cannot be loaded."""
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        try:
            return ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1: bitmap default font, fixed size
            return ImageFont.load_default()


def _closed(polygon: Sequence[Point]) -> List[Tuple[float, float]]:
    pts = [(float(x), float(y)) for x, y in polygon]
    return pts + pts[:1]


def _outline(draw: ImageDraw.ImageDraw, polygon: Sequence[Point], colour: Colour, width: int) -> None:
    if len(polygon) >= 2:
        draw.line(_closed(polygon), fill=colour, width=width, joint="curve")


def _dashed(draw: ImageDraw.ImageDraw, polygon: Sequence[Point], colour: Colour, width: int) -> None:
    dash = 3 * width + 4
    pts = _closed(polygon)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        length = math.hypot(x1 - x0, y1 - y0)
        if length == 0:
            continue
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        t = 0.0
        while t < length:
            e = min(t + dash, length)
            draw.line([(x0 + ux * t, y0 + uy * t), (x0 + ux * e, y0 + uy * e)], fill=colour, width=width)
            t += 2 * dash


def _label(draw: ImageDraw.ImageDraw, region: Region, colour: Colour, font, size: Tuple[int, int],
           above: bool) -> None:
    """Text of ``region`` next to its box: above the top-left corner (ground truth) or below the bottom-left
    corner (predictions); moved inside the image when it would leave it."""
    if not region.text or len(region.polygon) < 1:
        return
    x1, y1, x2, y2 = region.bbox()
    left, top, right, bottom = draw.textbbox((0, 0), region.text, font=font, stroke_width=1)
    th = bottom - top
    y = (y1 - th - 2) if above else (y2 + 2)
    if y < 0:
        y = max(0.0, y2 + 2)
    if y + th > size[1]:
        y = max(0.0, y1 - th - 2)
    x = min(max(0.0, x1), max(0.0, size[0] - (right - left)))
    draw.text((x, y - top), region.text, fill=colour, font=font, stroke_width=1, stroke_fill=_OUTLINE)


def _det_states(n_det: int, match) -> List[str]:
    states = ["unmatched"] * n_det
    if match is None:
        return states
    for j in match.discarded_det:
        states[j] = "discarded"
    for m in match.matches:
        states[m.det] = "matched" if m.text_ok else "wrong_text"
    return states


def _legend(draw: ImageDraw.ImageDraw, entries: List[Tuple[str, Colour]], font, size: Tuple[int, int]) -> None:
    """Coloured entries on a black band over the top-left corner, wrapped onto more lines when too wide."""
    pad = 4
    placed, x, y, row_h, band_w = [], pad, pad, 0, 0
    for text, colour in entries:
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tw, th = right - left, bottom - top
        if x > pad and x + tw + pad > size[0]:
            x, y, row_h = pad, y + row_h + pad, 0
        placed.append((x - left, y - top, text, colour))
        band_w = max(band_w, x + tw + pad)
        x += tw + 3 * pad
        row_h = max(row_h, th)
    draw.rectangle([0, 0, min(band_w, size[0]) - 1, y + row_h + pad - 1], fill=(0, 0, 0))
    for tx, ty, text, colour in placed:
        draw.text((tx, ty), text, fill=colour, font=font)


def draw_regions(image: Image.Image, gt: Sequence[Region], det: Optional[Sequence[Region]] = None,
                 match=None, title: Optional[str] = None) -> Image.Image:
    """A copy of ``image`` (RGB, same size) with the regions and a legend drawn on it.

    Args:
        image: the image the polygons refer to (any mode; converted to RGB, transparent pixels composited on
            white by :func:`swift_ocr.images.to_rgb`).
        gt: ground-truth regions (``dont_care`` ones dashed grey).
        det: predicted regions, or None to draw ground truth alone.
        match: the :class:`~swift_ocr.eval.metrics.det.ImageMatch` of ``gt`` and ``det`` (indices into both), which
            colours predictions matched / wrong text / discarded; None draws every prediction as unmatched.
        title: text opening the legend (e.g. the image name).
    """
    out = to_rgb(image)  # always a new image
    size = out.size
    draw = ImageDraw.Draw(out)
    w = line_width(size)
    font = load_font(font_size(size))
    det = list(det) if det is not None else None

    for r in gt:
        if r.dont_care:
            _dashed(draw, r.polygon, COLOURS["dont_care"], w)
        else:
            _outline(draw, r.polygon, COLOURS["gt"], w + 2)
    states = _det_states(len(det), match) if det is not None else []
    for r, state in zip(det or [], states):
        _outline(draw, r.polygon, COLOURS[state], w)
    for r in gt:
        if not (r.dont_care and r.text.strip() == "###"):  # the dashed grey outline already says it
            _label(draw, r, COLOURS["dont_care" if r.dont_care else "gt"], font, size, above=True)
    for r, state in zip(det or [], states):
        _label(draw, r, COLOURS[state], font, size, above=False)

    n_dc = sum(1 for r in gt if r.dont_care)
    entries: List[Tuple[str, Colour]] = []
    if title:
        entries.append((title, (255, 255, 255)))
    entries.append((f"GT {len(gt) - n_dc}", COLOURS["gt"]))
    if n_dc:
        entries.append((f"GT ### {n_dc} (dashed)", COLOURS["dont_care"]))
    if det is not None:
        counts = {s: states.count(s) for s in COLOURS}
        if match is not None:
            entries.append((f"pred matched {counts['matched']}", COLOURS["matched"]))
            if counts["wrong_text"]:
                entries.append((f"wrong text {counts['wrong_text']}", COLOURS["wrong_text"]))
        entries.append((f"pred unmatched {counts['unmatched']}", COLOURS["unmatched"]))
        if counts["discarded"]:
            entries.append((f"pred on ### {counts['discarded']}", COLOURS["discarded"]))
        if match is not None:
            entries.append((f"P {match.precision:.3f} R {match.recall:.3f} H {match.hmean:.3f}", (255, 255, 255)))
    _legend(draw, entries, load_font(max(12, font_size(size) - 2)), size)
    return out


def save_png(image: Image.Image, path) -> None:
    """Write ``image`` as PNG to ``path`` atomically (temp file in the same folder, then ``os.replace``)."""
    from swift_ocr.io_utils import atomic_write

    with atomic_write(os.fspath(path), "wb") as fh:
        image.save(fh, format="PNG")
