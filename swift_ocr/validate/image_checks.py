"""Checks of one resolved image (:class:`~swift_ocr.validate.image_refs.ImageRef`): :func:`check_image`.

Sizes are ``(width, height)`` in pixels, read from the image header (:func:`swift_ocr.images.probe_image`). An image
must exist [``missing_image``], not be a URL [``remote_image``], announce a size Pillow will open in the training
process [``decompression_bomb``: over :data:`PILLOW_HARD_LIMIT`, where Pillow raises ``DecompressionBombError``], a
sane size [``image_too_large``: over ``max_pixels``; ``image_too_small``: a side under ``min_side``;
``extreme_aspect_ratio``: long side over ``max_aspect`` times the short one, which Qwen2-VL's ``smart_resize``
refuses] and decode fully with Pillow [``undecodable_image``; ``decode=False`` reads the header only]. Bad images
never raise: they give problems.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional, Tuple

from swift_ocr.errors import OcrFormatError
from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS, probe_image
from swift_ocr.validate.image_refs import ImageRef
from swift_ocr.validate.options import ValidateOptions

#: Pillow refuses to open images over ``2 * MAX_IMAGE_PIXELS`` (``PIL.Image._decompression_bomb_check``).
PILLOW_HARD_LIMIT = 2 * DEFAULT_MAX_IMAGE_PIXELS


@dataclass
class ImageCheck:
    """Result of checking one distinct image: its size (None when unknown) and its problems ``(kind, message)``."""

    size: Optional[Tuple[int, int]]
    problems: List[Tuple[str, str]]


def check_image(ref: ImageRef, opts: ValidateOptions) -> ImageCheck:
    """Check one resolved image (see the module docstring). Never raises for bad images."""
    name = ref.display
    if ref.url is not None:
        return ImageCheck(None, [("remote_image", f"image {name!r} is a URL; not fetched, so not checked")])
    if ref.unusable is not None:
        return ImageCheck(None, [("missing_image", f"image {name!r}: {ref.unusable}")])
    if ref.path is None and ref.data is None:
        return ImageCheck(None, [("missing_image", f"image {name!r} does not exist ({ref.missing_hint})")])
    src = ref.path if ref.path is not None else ref.data
    if ref.path is not None and os.path.isdir(ref.path):
        return ImageCheck(None, [("missing_image", f"image {name!r} is a folder, not a file")])
    try:
        w, h = probe_image(src, "header", max_pixels=None, name=name)
    except OcrFormatError as e:
        kind = "missing_image" if e.kind == "image_missing" else "undecodable_image"
        return ImageCheck(None, [(kind, f"image {name!r}: {e.reason}")])
    problems: List[Tuple[str, str]] = []
    pixels = w * h
    if pixels > PILLOW_HARD_LIMIT:
        problems.append(("decompression_bomb", f"image {name!r} is {w}x{h} = {pixels} pixels, over Pillow's "
                                               f"hard limit {PILLOW_HARD_LIMIT} (2 x PIL.Image.MAX_IMAGE_PIXELS): "
                                               f"ms-swift's Image.open raises DecompressionBombError"))
        return ImageCheck((w, h), problems)
    if pixels > opts.max_pixels:
        problems.append(("image_too_large", f"image {name!r} is {w}x{h} = {pixels} pixels, over --max-pixels "
                                            f"{opts.max_pixels}"))
    if min(w, h) < opts.min_side:
        problems.append(("image_too_small", f"image {name!r} is {w}x{h}, a side under --min-side {opts.min_side}"))
    aspect = max(w, h) / min(w, h)
    if aspect > opts.max_aspect:
        problems.append(("extreme_aspect_ratio", f"image {name!r} is {w}x{h}: aspect ratio {aspect:.1f} over "
                                                 f"--max-aspect {opts.max_aspect:g}"))
    if opts.decode and pixels <= opts.max_pixels:
        try:
            probe_image(src, "decode", max_pixels=None, name=name)
        except OcrFormatError as e:
            problems.append(("undecodable_image", f"image {name!r}: {e.reason}"))
    return ImageCheck((w, h), problems)
