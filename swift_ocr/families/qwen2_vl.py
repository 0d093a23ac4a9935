"""Qwen2-VL (ms-swift ``--model_type qwen2_vl --template qwen2_vl``), and the image arithmetic Qwen2.5-VL shares.

Prompt: a plain instruction. Box codec: :class:`swift_ocr.codecs.qwen2_vl.Qwen2VLCodec` (Qwen2-VL grounding tokens,
0-1000).

Image tokens: ``(H' / 28) * (W' / 28)`` for the ``smart_resize``d image ``(W', H')`` (multiples of 28 = patch 14 x
merge 2), with the pixel bounds ms-swift passes to qwen-vl-utils (:func:`ms_swift_pixel_bounds`); the template writes
``<|vision_start|>`` + ``<|image_pad|>`` * n + ``<|vision_end|>`` (ms-swift 4.6.0 ``swift/template/templates/qwen.py``).
Environment: ``MAX_PIXELS``, ``MIN_PIXELS``, ``IMAGE_MAX_TOKEN_NUM``, ``IMAGE_MIN_TOKEN_NUM``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Tuple

from swift_ocr.families.base import ModelFamily, register_family
from swift_ocr.families.scaffold import chatml
from swift_ocr.families.tiles import check_size

#: patch 14 x spatial merge 2 (Qwen2-VL / Qwen2.5-VL).
FACTOR = 28
#: transformers Qwen2VLImageProcessor defaults (``size={"shortest_edge": 56*56, "longest_edge": 28*28*1280}``).
PROCESSOR_MIN_PIXELS = 56 * 56
PROCESSOR_MAX_PIXELS = 28 * 28 * 1280
#: qwen-vl-utils 0.0.14 defaults used by ms-swift (``IMAGE_MIN_TOKEN_NUM=4``, ``IMAGE_MAX_TOKEN_NUM=16384``).
QWEN_VL_UTILS_MIN_TOKENS = 4
QWEN_VL_UTILS_MAX_TOKENS = 16384
#: Environment variables ms-swift reads for the resize bounds (:func:`ms_swift_pixel_bounds`).
ENV_VARS = ("MAX_PIXELS", "MIN_PIXELS", "IMAGE_MAX_TOKEN_NUM", "IMAGE_MIN_TOKEN_NUM")

#: Qwen2-VL's default system prompt (ms-swift 4.6.0 ``qwen2_vl`` / ``qwen2_5_vl`` template meta).
SYSTEM = "You are a helpful assistant."
#: Qwen2-VL / Qwen2.5-VL vision and grounding tokens (added tokens of the Qwen2-VL tokenizer, one id each);
#: :mod:`swift_ocr.codecs.qwen2_vl` writes the box ones.
SPECIALS = ("<|vision_start|>", "<|vision_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
            "<|box_end|>", "<|quad_start|>", "<|quad_end|>")


def ms_swift_pixel_bounds(environ: Mapping[str, str]) -> Tuple[int, int]:
    """``(min_pixels, max_pixels)`` of the ``smart_resize`` ms-swift 4.6.0 + qwen-vl-utils 0.0.14 apply under
    ``environ``.

    Mirrors ms-swift ``swift/model/models/qwen.py`` ``compat_qwen_vl_utils``: ``MAX_PIXELS`` / ``MIN_PIXELS`` become
    ``IMAGE_MAX_TOKEN_NUM`` / ``IMAGE_MIN_TOKEN_NUM = value // 28**2`` unless those are set; unset, qwen-vl-utils'
    16384 / 4 tokens apply; pixels = tokens * 28**2.

    Raises:
        ValueError: a value that is not an integer.
    """

    def tokens(pixels_var: str, tokens_var: str, default: int) -> int:
        if environ.get(tokens_var):
            return int(environ[tokens_var])
        if environ.get(pixels_var):
            return int(environ[pixels_var]) // FACTOR ** 2
        return default

    return (tokens("MIN_PIXELS", "IMAGE_MIN_TOKEN_NUM", QWEN_VL_UTILS_MIN_TOKENS) * FACTOR ** 2,
            tokens("MAX_PIXELS", "IMAGE_MAX_TOKEN_NUM", QWEN_VL_UTILS_MAX_TOKENS) * FACTOR ** 2)


@dataclass(frozen=True)
class QwenVLSettings:
    """``smart_resize`` pixel bounds of the image ms-swift feeds to Qwen2-VL / Qwen2.5-VL (qwen-vl-utils defaults
    4 * 28**2 and 16384 * 28**2; :func:`ms_swift_pixel_bounds`)."""

    min_pixels: int = QWEN_VL_UTILS_MIN_TOKENS * FACTOR ** 2
    max_pixels: int = QWEN_VL_UTILS_MAX_TOKENS * FACTOR ** 2

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "QwenVLSettings":
        """Raises ValueError: a value that is not an integer."""
        lo, hi = ms_swift_pixel_bounds(environ)
        return cls(min_pixels=lo, max_pixels=hi)


def qwen_vl_resized(width: int, height: int, min_pixels: int, max_pixels: int) -> Tuple[int, int]:
    """``(W', H')`` of the image Qwen2-VL / Qwen2.5-VL see (``smart_resize``, factor 28).

    Uses :func:`swift_ocr.codecs.qwen2_5_vl.smart_resize` (transformers' implementation; qwen-vl-utils, which
    ms-swift calls, differs only for sides under 14 px or aspect ratios near 200).

    Raises:
        ValueError: aspect ratio over 200 (transformers refuses such images).
    """
    from swift_ocr.codecs.qwen2_5_vl import smart_resize

    check_size(width, height)
    return smart_resize(width, height, min_pixels, max_pixels)


def qwen_vl_image_tokens(width: int, height: int, min_pixels: int = QWEN_VL_UTILS_MIN_TOKENS * FACTOR ** 2,
                         max_pixels: int = QWEN_VL_UTILS_MAX_TOKENS * FACTOR ** 2) -> int:
    """``<|image_pad|>`` tokens of one image: ``(H' / 28) * (W' / 28)`` (14-px patches merged 2x2).

    Raises:
        ValueError: aspect ratio over 200.
    """
    w, h = qwen_vl_resized(width, height, min_pixels, max_pixels)
    return (w // FACTOR) * (h // FACTOR)


def image_tokens(width: int, height: int, settings: QwenVLSettings) -> int:
    """:func:`qwen_vl_image_tokens` with ``settings``' bounds (the family's ``image_tokens``)."""
    return qwen_vl_image_tokens(width, height, settings.min_pixels, settings.max_pixels)


FAMILY = register_family(ModelFamily(
    name="qwen2_vl",
    title="Qwen2-VL",
    model_type="qwen2_vl",
    template="qwen2_vl",
    rec_prompt="Read all the text in the image.",
    codec="swift_ocr.codecs.qwen2_vl:Qwen2VLCodec",
    scaffold=chatml("qwen2_vl", SYSTEM, "<|vision_start|>", "<|vision_end|>", SPECIALS),
    image_settings=QwenVLSettings.from_env,
    image_tokens=image_tokens,
    env_vars=ENV_VARS,
))
