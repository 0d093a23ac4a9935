"""Image helpers: sizes from headers, integrity checks, safe opening, and quad rectification for line crops.

All coordinates are pixels of the original image (x right, y down).

Transparency: every image this project decodes into pixels (line crops, det tiles, ``swift-ocr draw``) is
composited on white (:func:`to_rgb`), and images with transparent pixels that are handed on to ms-swift are first
replaced by a flattened PNG (:func:`flatten_transparency`), because a plain RGB conversion drops the alpha channel and
turns a transparent background into whatever colour it stores -- usually black.

Integrity checks (``check`` levels, the converter's ``--check-images``):

* ``header`` -- the header is read (format and size), nothing is decoded. JPEG and PNG files (recognised by their
  first bytes, whatever the extension) are sized from the first :data:`HEAD_BYTES` bytes of the file, read with one
  system call: JPEG by libjpeg-turbo's header reader (``simplejpeg.decode_jpeg_header``: the markers up to the
  first scan, in C), PNG by ``imagesize`` (the ``IHDR`` chunk). Any other format, and any file these cannot size
  (for JPEG also one whose first scan starts beyond the bytes read, e.g. after a large EXIF block), goes through
  Pillow, which also gives the precise error. ``tests/test_images.py`` checks that both give the same sizes on the
  real images of ``../shared/data`` and on damaged headers;
* ``verify`` (default) -- the whole file is read once without building full-size pixels: JPEG is decoded at 1/8
  scale (``Image.draft``: libjpeg's DCT scaling still walks the whole entropy-coded stream, so truncation is
  found), PNG is checked with ``Image.verify()`` (every chunk's CRC, up to ``IEND``), other formats are decoded.
  About 1-2 ms for a 1000x2000 receipt JPEG;
* ``decode`` -- every pixel is decoded (``Image.load()``): also finds corruption that keeps the stream length and
  checksums intact (e.g. zeroed JPEG scan data), at full decoding cost.

Decompression bombs: an image whose header announces more than ``max_pixels`` pixels is refused *before* any
decoding with an error naming both numbers (default limit: Pillow's own ``Image.MAX_IMAGE_PIXELS`` default,
89,478,485 pixels; ``None`` or 0 disables it). Pillow's global limit is switched off while we open an image so
that our limit, which may be higher than Pillow's, is the one that applies (not thread-safe: the converter and
ms-swift's ``datasets.map`` workers read images from one thread per process). Pillow's global limit is still what
the *training* process applies when ms-swift opens the images: Pillow refuses images over twice its limit
(178,956,970 pixels by default), so a dataset accepted with a higher ``max_pixels`` needs
``PIL.Image.MAX_IMAGE_PIXELS`` raised in the training process as well.
"""
from __future__ import annotations

import contextlib
import io
import math
import os
import warnings
from typing import Optional, Sequence, Tuple, Union

import imagesize
from PIL import Image, ImageFile, UnidentifiedImageError
from simplejpeg import decode_jpeg_header

try:  # imagesize's parser itself, without ``get``'s per-call ``isinstance`` check against a typing Protocol (slow)
    from imagesize.imagesize import _read_image_metadata
except ImportError:  # a future imagesize without it: the public API (same parser, a little slower)
    _read_image_metadata = None

from swift_ocr.errors import OcrFormatError
from swift_ocr.io_utils import read_bytes

# Pillow's default MAX_IMAGE_PIXELS (PIL/Image.py: ``int(1024 * 1024 * 1024 // 4 // 3)``).
DEFAULT_MAX_IMAGE_PIXELS = 89_478_485
CHECK_LEVELS = ("header", "verify", "decode")

Source = Union[str, os.PathLike, bytes, bytearray]


@contextlib.contextmanager
def _our_limits():
    """Switch Pillow's process-wide decompression-bomb check off (we apply our own limit from the header) and make
    sure truncated images raise even if another library set ``ImageFile.LOAD_TRUNCATED_IMAGES``."""
    old_pixels, old_truncated = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = None, False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = old_pixels, old_truncated


def _name(src: Source, name: Optional[str]) -> str:
    if name is not None:
        return name
    return "<bytes>" if isinstance(src, (bytes, bytearray)) else str(src)


def _classify(e: BaseException, name: str, what: str) -> OcrFormatError:
    """Turn a Pillow/OS error into an :class:`OcrFormatError` with an ``image_*`` kind."""
    if isinstance(e, FileNotFoundError):
        return OcrFormatError(name, None, "image file does not exist", "image_missing")
    if isinstance(e, UnidentifiedImageError):
        return OcrFormatError(name, None, "not a readable image (unknown format or broken header)", "image_corrupt")
    text = str(e)
    if isinstance(e, EOFError) or "truncated" in text.lower():
        return OcrFormatError(name, None, f"image data is truncated ({what}: {text or type(e).__name__})",
                              "image_truncated")
    if isinstance(e, IsADirectoryError):
        return OcrFormatError(name, None, "image path is a folder", "image_missing")
    return OcrFormatError(name, None, f"cannot {what} image: {text or type(e).__name__}", "image_corrupt")


def _check_pixels(size: Tuple[int, int], max_pixels: Optional[int], name: str) -> None:
    if max_pixels and size[0] * size[1] > max_pixels:
        raise OcrFormatError(name, None, f"image has {size[0] * size[1]} pixels ({size[0]}x{size[1]}), over the "
                             f"limit {max_pixels} (decompression bomb protection); raise with --max-image-pixels",
                             "image_too_large")


def _open(src: Source):
    if isinstance(src, (bytes, bytearray)):
        return Image.open(io.BytesIO(bytes(src)))
    return Image.open(src)


def _is_empty(src: Source) -> bool:
    if isinstance(src, (bytes, bytearray)):
        return len(src) == 0
    try:
        return os.path.isfile(src) and os.path.getsize(src) == 0
    except OSError:
        return False


_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: Bytes read from the start of an image file by :func:`header_size_fast`: enough for a JPEG's markers up to its first
#: scan (the real JPEGs of ``../shared/data`` start their scan at byte 426-641; a camera's EXIF block with its
#: thumbnail can take tens of KiB, and such a file is then sized by Pillow) and for a PNG's ``IHDR``.
HEAD_BYTES = 16384


def header_size_fast(path) -> Optional[Tuple[int, int]]:
    """``(width, height)`` in pixels (as stored, no EXIF rotation: the same as Pillow's ``Image.size``) of a JPEG or
    PNG file, from the first :data:`HEAD_BYTES` bytes of the file; None when this cannot decide (another format, a
    file too short or not readable, a header the reader refuses, a JPEG whose first scan starts beyond those bytes)
    -- the caller then asks Pillow. Never raises.

    JPEG: libjpeg-turbo's ``tjDecompressHeader`` (``simplejpeg.decode_jpeg_header``, strict: a recoverable error such
    as junk between markers also declines), which reads the markers up to the first scan (SOS) and takes the size
    from the frame header (SOFn), as Pillow's ``JpegImagePlugin`` does. PNG: ``imagesize`` (the ``IHDR`` chunk)."""
    found = _header_fast(path)
    return None if found is None else found[0]


def _png_opaque(head: bytes) -> bool:
    """True when a PNG certainly has no transparency, from its first bytes (PNG 1.2, sections 4.1.1 and 4.2.1.1): the
    ``IHDR`` colour type (byte 25) has no alpha channel (0 grey, 2 RGB, 3 palette; 4 and 6 have one) and no ``tRNS``
    chunk comes before the first ``IDAT`` (the standard puts ``tRNS`` before it). False also when ``IDAT`` is not in
    ``head`` (undecided); the bytes ``tRNS`` inside another chunk's data also give False (only ever too careful)."""
    if len(head) < 26 or head[25] not in (0, 2, 3):
        return False
    idat = head.find(b"IDAT", 33)
    return idat > 0 and head.find(b"tRNS", 33, idat) < 0


def _header_fast(path) -> Optional[Tuple[Tuple[int, int], bool]]:
    """:func:`header_size_fast` and whether the image is certainly opaque (a JPEG; a PNG by :func:`_png_opaque`):
    ``((width, height), opaque)``, or None when undecided."""
    try:
        head = read_bytes(path, HEAD_BYTES)
    except (OSError, TypeError, ValueError):  # missing, a folder, not a path
        return None
    try:
        if head[:3] == _JPEG_MAGIC:
            h, w = decode_jpeg_header(head)[:2]
            opaque = True
        elif head[:8] == _PNG_MAGIC:
            opaque = _png_opaque(head)
            if _read_image_metadata is None:
                w, h = imagesize.get(io.BytesIO(head), exif_rotation=False)  # (-1, -1) for anything it cannot parse
            else:
                meta = _read_image_metadata(io.BytesIO(head), size=True, dpi=False, colors=False, rotation=False,
                                            channels=False)
                w, h = meta.width, meta.height
        else:
            return None
    except Exception:  # whatever a broken header makes a parser raise (simplejpeg: ValueError) means "cannot size"
        return None
    return ((w, h), opaque) if isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0 else None


def probe_image(src: Source, check: str = "verify", max_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS,
                name: Optional[str] = None) -> Tuple[int, int]:
    """Check an image (file path or encoded bytes) and return its ``(width, height)`` in pixels from the header.

    Args:
        src: a path or the encoded bytes.
        check: ``header``, ``verify`` or ``decode`` (see module docstring).
        max_pixels: refuse images with more pixels (width x height) than this; ``None``/0: no limit.
        name: the name used in errors (default: the path, or ``<bytes>``).

    Raises:
        OcrFormatError: kind ``image_missing``, ``image_empty``, ``image_corrupt``, ``image_truncated`` or
            ``image_too_large``, naming the image.
        ValueError: unknown ``check`` level.
    """
    return probe_image_opaque(src, check, max_pixels, name)[0]


def probe_image_opaque(src: Source, check: str = "verify", max_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS,
                       name: Optional[str] = None) -> Tuple[Tuple[int, int], bool]:
    """:func:`probe_image` (same checks, arguments and errors) and whether the image is certainly opaque:
    ``((width, height), opaque)``. ``opaque`` is True for a JPEG, and for any image whose header (mode and
    ``info``, read by Pillow; or, at the ``header`` level, a PNG's chunks before its pixel data) shows neither an
    alpha channel nor a transparent colour (Pillow's ``Image.has_transparency_data`` is False). False means "may
    have transparent pixels" (:func:`flatten_transparency` decides)."""
    if check not in CHECK_LEVELS:
        raise ValueError(f"unknown image check {check!r}; choose from {', '.join(CHECK_LEVELS)}")
    name = _name(src, name)
    if check == "header" and not isinstance(src, (bytes, bytearray)):
        found = _header_fast(src)
        if found is not None:
            _check_pixels(found[0], max_pixels, name)
            return found
    if _is_empty(src):
        raise OcrFormatError(name, None, "image file is empty (0 bytes)", "image_empty")
    with _our_limits():
        try:
            with _open(src) as im:
                size = im.size
                _check_pixels(size, max_pixels, name)
                opaque = not im.has_transparency_data
                if check == "header":
                    return size, opaque
                if check == "decode":
                    im.load()
                elif im.format in ("JPEG", "MPO"):
                    im.draft(None, (max(1, size[0] // 8), max(1, size[1] // 8)))
                    im.load()
                elif im.format == "PNG":
                    im.verify()
                else:
                    im.load()
                return size, opaque
        except OcrFormatError:
            raise
        except Exception as e:  # Pillow's plugins raise many types on broken data (OSError, SyntaxError, ...)
            raise _classify(e, name, "read" if check == "header" else "decode") from e


def image_size(path, max_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS) -> Tuple[int, int]:
    """``(width, height)`` in pixels, read from the image header without decoding the pixels.

    Raises:
        OcrFormatError: the file is missing, empty, not a readable image, or over ``max_pixels`` (see
            :func:`probe_image` for the kinds).
    """
    return probe_image(path, "header", max_pixels)


#: The colour transparent pixels are composited on (white: the paper of pages, receipts and signs) wherever this
#: project turns an image with transparency into RGB (:func:`to_rgb`). A plain ``Image.convert("RGB")`` -- what
#: Pillow, and so ms-swift's ``load_image``, does -- drops the alpha channel and keeps whatever colour the transparent
#: pixels happen to store, usually black: dark text on a transparent background became an all-black image.
BACKGROUND = (255, 255, 255)


def to_rgb(image: Image.Image) -> Image.Image:
    """A new RGB image of ``image`` (same size, pixels), with any transparency composited on :data:`BACKGROUND`.

    Modes with an alpha channel (``RGBA``, ``LA``, ``PA``, premultiplied ``RGBa``/``La``) and images whose
    ``info["transparency"]`` names a transparent colour or palette entries (``P``, ``L``, ``RGB`` PNGs with a ``tRNS``
    chunk, GIFs) are converted to RGBA by Pillow and alpha-composited ("over") on an opaque white image: a pixel of
    alpha ``a`` becomes ``round(c * a / 255 + 255 * (1 - a / 255))`` per channel; fully opaque pixels keep their
    colour exactly. Every other mode is ``image.convert("RGB")``, as before.
    """
    if not image.has_transparency_data:
        return image.convert("RGB")
    rgba = (image.convert("LA") if image.mode == "La" else image).convert("RGBA")  # Pillow has no La -> RGBA
    out = Image.new("RGBA", image.size, BACKGROUND + (255,))
    out.alpha_composite(rgba)
    return out.convert("RGB")


def flatten_transparency(src: Source, max_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS,
                         name: Optional[str] = None) -> Optional[bytes]:
    """PNG bytes of the image (path or encoded bytes) composited on :data:`BACKGROUND` (:func:`to_rgb`) when at least
    one of its pixels is not fully opaque, else None (the image can be handed on as it is: an opaque image's RGB
    pixels are the same either way). For images handed on to ms-swift, whose loader drops the alpha channel (see
    :data:`BACKGROUND`). Decodes the image; call it for images :func:`probe_image_opaque` does not call opaque.

    Raises:
        OcrFormatError: the image cannot be decoded or is over ``max_pixels`` (kinds as in :func:`probe_image`).
    """
    name = _name(src, name)
    with _our_limits():
        try:
            with _open(src) as im:
                _check_pixels(im.size, max_pixels, name)
                im.load()
                if not im.has_transparency_data:
                    return None
                alpha = (im.convert("LA") if im.mode == "La" else im).convert("RGBA").getchannel("A")
                if alpha.getextrema()[0] == 255:
                    return None
                return encode_png(to_rgb(im))
        except OcrFormatError:
            raise
        except Exception as e:  # see probe_image
            raise _classify(e, name, "decode") from e


def open_rgb(path_or_bytes: Source, max_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS,
             name: Optional[str] = None) -> Image.Image:
    """Decode an image file (path or encoded bytes) into an RGB ``PIL.Image``; transparent pixels are composited on
    white (:func:`to_rgb`), so that dark text on a transparent background stays dark text on white.

    Raises:
        OcrFormatError: missing, empty, truncated or corrupt image, or one over ``max_pixels`` (kinds as in
            :func:`probe_image`).
    """
    name = _name(path_or_bytes, name)
    if _is_empty(path_or_bytes):
        raise OcrFormatError(name, None, "image file is empty (0 bytes)", "image_empty")
    with _our_limits():
        try:
            with _open(path_or_bytes) as im:
                _check_pixels(im.size, max_pixels, name)
                im.load()
                return to_rgb(im)
        except OcrFormatError:
            raise
        except Exception as e:  # see probe_image
            raise _classify(e, name, "decode") from e


def rectify_quad(image: Image.Image, quad: Sequence[Tuple[float, float]]) -> Image.Image:
    """Cut a (possibly rotated) quadrilateral out of ``image`` and warp it to an upright rectangle.

    Args:
        image: the full image (RGB, e.g. from :func:`open_rgb`: transparency already composited on white).
        quad: 4 points ``[(x, y)] * 4`` in pixels of ``image``, clockwise on screen (y down) from the top-left
            corner of the text (ICDAR 2015 order: top-left, top-right, bottom-right, bottom-left). The points are
            used in the order given: a counter-clockwise quad gives a transposed, mirrored crop. Regions checked by
            :func:`swift_ocr.formats.geometry.check_region` are clockwise (counter-clockwise quads are re-ordered
            there, from their top-left corner, and counted).

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
