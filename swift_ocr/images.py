"""Image helpers: sizes from headers, safe opening, and quad rectification for line crops.

All coordinates are pixels of the original image (x right, y down)."""
from __future__ import annotations

import io
import math
from typing import Sequence, Tuple

from PIL import Image

from .errors import OcrFormatError


def image_size(path) -> Tuple[int, int]:
    """``(width, height)`` in pixels, read from the image header without decoding the pixels.

    Raises:
        OcrFormatError: the file is missing or not a readable image.
    """
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, Image.DecompressionBombError, ValueError) as e:
        raise OcrFormatError(str(path), None, f"cannot read image: {e}") from e


def open_rgb(path_or_bytes) -> Image.Image:
    """Decode an image file (path or encoded bytes) into an RGB ``PIL.Image``.

    Raises:
        OcrFormatError: missing, truncated or corrupt image, or one over Pillow's decompression-bomb limit.
    """
    name = "<bytes>" if isinstance(path_or_bytes, (bytes, bytearray)) else str(path_or_bytes)
    try:
        src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, (bytes, bytearray)) else path_or_bytes
        with Image.open(src) as im:
            im.load()
            return im.convert("RGB")
    except (OSError, Image.DecompressionBombError, ValueError, SyntaxError) as e:
        raise OcrFormatError(name, None, f"cannot decode image: {e}") from e


def rectify_quad(image: Image.Image, quad: Sequence[Tuple[float, float]]) -> Image.Image:
    """Cut a (possibly rotated) quadrilateral out of ``image`` and warp it to an upright rectangle.

    Args:
        image: the full image.
        quad: 4 points ``[(x, y)] * 4`` in pixels of ``image``, clockwise from the top-left corner of the
            text (ICDAR 2015 order: top-left, top-right, bottom-right, bottom-left).

    Returns:
        The crop, ``width`` = mean length of the top and bottom edges, ``height`` = mean length of the left and
        right edges (each at least 1 pixel), via a perspective (``Image.QUAD``) transform.

    Raises:
        ValueError: ``quad`` does not have 4 points.
    """
    if len(quad) != 4:
        raise ValueError(f"rectify_quad needs 4 points, got {len(quad)}")
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = [(float(x), float(y)) for x, y in quad]
    width = max(1, round((math.dist((x0, y0), (x1, y1)) + math.dist((x3, y3), (x2, y2))) / 2))
    height = max(1, round((math.dist((x0, y0), (x3, y3)) + math.dist((x1, y1), (x2, y2))) / 2))
    # PIL's QUAD data: upper-left, lower-left, lower-right, upper-right source corners.
    data = (x0, y0, x3, y3, x2, y2, x1, y1)
    return image.transform((width, height), Image.Transform.QUAD, data, resample=Image.Resampling.BICUBIC)


def encode_png(image: Image.Image) -> bytes:
    """Encode an image as PNG bytes (lossless; deterministic for the same pixels)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
