"""Small images for the report, embedded as ``data:`` URIs (base64), so the HTML file works offline on its own.

Thumbnails keep the aspect ratio and fit in ``max_side x max_side`` pixels (never enlarged), are RGB
(transparency composited on white by :func:`swift_ocr.images.to_rgb`) and JPEG-encoded (quality 80). A JPEG is
decoded at a reduced scale when Pillow can (``Image.draft``), so large photos stay fast.
"""
from __future__ import annotations

import base64
import io
from typing import Dict, Optional, Tuple

from PIL import Image

__all__ = ["data_uri", "image_data_uri", "ThumbnailCache"]


def data_uri(data: bytes, mime: str) -> str:
    """``data:<mime>;base64,<data>``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_data_uri(image: Image.Image, max_side: int = 320, quality: int = 80) -> str:
    """``image`` shrunk to fit ``max_side`` pixels (a copy; ``image`` is unchanged), as a JPEG data URI."""
    from swift_ocr.images import to_rgb

    im = to_rgb(image)
    im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return data_uri(buf.getvalue(), "image/jpeg")


class ThumbnailCache:
    """Thumbnails of image files by path, each file decoded once.

    ``get(path)`` returns ``(data_uri, None)``, or ``(None, reason)`` when the file is missing or not a readable
    image (the report then says so instead of failing: the scores do not need the pixels).
    """

    def __init__(self, max_side: int = 320):
        self.max_side = max_side
        self._cache: Dict[str, Tuple[Optional[str], Optional[str]]] = {}

    def get(self, path: str) -> Tuple[Optional[str], Optional[str]]:
        """``(JPEG data URI, None)`` for the image file at ``path``, or ``(None, reason)``; decoded once per path."""
        hit = self._cache.get(path)
        if hit is None:
            hit = self._cache[path] = self._load(path)
        return hit

    def _load(self, path: str) -> Tuple[Optional[str], Optional[str]]:
        from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS

        if path == "<bytes>":
            return None, "image stored as bytes in the result file"
        try:
            with Image.open(path) as im:
                if DEFAULT_MAX_IMAGE_PIXELS and im.size[0] * im.size[1] > DEFAULT_MAX_IMAGE_PIXELS:
                    return None, f"image too large ({im.size[0]}x{im.size[1]})"
                im.draft("RGB", (self.max_side, self.max_side))
                im.load()
                return image_data_uri(im, self.max_side), None
        except FileNotFoundError:
            return None, "image not found"
        except Exception as exc:  # any decoder error: the report still shows the texts
            return None, f"image not readable: {type(exc).__name__}"
