"""DeepSeek-OCR (v1; ms-swift ``--model_type deepseek_ocr --template deepseek_ocr``).

Prompt: ``Free OCR.`` (github deepseek-ai/DeepSeek-OCR, README prompts). Box codec:
:class:`swift_ocr.codecs.deepseek_ocr.DeepSeekOCRCodec` (``<|ref|>..<|det|>``, 0-999).

Image tokens: ms-swift's default is DeepSeek-OCR's "Gundam" mode (``CROP_MODE=1 BASE_SIZE=1024 IMAGE_SIZE=640``): a
1024x1024 global view = (16 + 1) * 16 + 1 = 273 tokens (16x16 queries, a newline token per row, a view separator),
plus, when a side exceeds 640 px, ``(10 * w + 1) * (10 * h)`` tokens for a w x h grid of 640x640 crops (DeepSeek-OCR's
``dynamic_preprocess``, min 2, max 9 crops) (:func:`deepseek_ocr_image_tokens`; ms-swift 4.6.0
``swift/template/templates/deepseek.py``, ``DeepseekOCR._preprocess_image``). Environment: ``CROP_MODE``,
``BASE_SIZE``, ``IMAGE_SIZE``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Tuple

from swift_ocr.families.base import ModelFamily, register_family
from swift_ocr.families.scaffold import Scaffold
from swift_ocr.families.tiles import check_size, closest_tile_grid, env_bool, env_int

#: DeepSeek-OCR (v1) defaults of ms-swift's ``deepseek_ocr`` template and of ``modeling_deepseekocr.py``.
BASE_SIZE = 1024
IMAGE_SIZE = 640
CROP_MODE = True
MIN_CROPS = 2
MAX_CROPS = 9
_PATCH = 16
_DOWNSAMPLE = 4

BOS, EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
#: DeepSeek-OCR's grounding tokens (inherited from DeepSeek-VL2's tokenizer, where they are added special tokens;
#: not checked against DeepSeek-OCR's own tokenizer files, which this project cannot download).
BOX_SPECIALS = ("<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>", "<|grounding|>")


@dataclass(frozen=True)
class DeepSeekOCRSettings:
    """DeepSeek-OCR's global-view size, crop size and crop mode (``BASE_SIZE`` 1024, ``IMAGE_SIZE`` 640,
    ``CROP_MODE`` true)."""

    base_size: int = BASE_SIZE
    image_size: int = IMAGE_SIZE
    crop_mode: bool = CROP_MODE

    @classmethod
    def from_env(cls, environ: Mapping[str, str]):
        """The settings ``BASE_SIZE``, ``IMAGE_SIZE`` and ``CROP_MODE`` of ``environ`` give, the class's defaults for
        those unset (so a subclass with other defaults reads its own).

        Raises:
            ValueError: a value that is not an integer / boolean.
        """
        default = cls()
        crop = environ.get("CROP_MODE")
        return cls(base_size=env_int(environ, "BASE_SIZE", default.base_size),
                   image_size=env_int(environ, "IMAGE_SIZE", default.image_size),
                   crop_mode=default.crop_mode if crop is None else env_bool(crop))


def deepseek_queries(side: int) -> int:
    """``ceil((side // 16) / 4)``: vision queries per side of a ``side``-px view (16-px patches, 4x downsampling),
    DeepSeek-OCR and DeepSeek-OCR-2 alike."""
    return math.ceil((side // _PATCH) / _DOWNSAMPLE)


def deepseek_ocr_grid(width: int, height: int, image_size: int = IMAGE_SIZE, min_crops: int = MIN_CROPS,
                      max_crops: int = MAX_CROPS) -> Tuple[int, int]:
    """``(columns, rows)`` of DeepSeek-OCR's local crops: ``(1, 1)`` (no crops) when both sides are at most
    ``image_size``, else ``dynamic_preprocess(image, min_num=min_crops, max_num=max_crops, image_size=image_size)``'s
    grid (ms-swift 4.6.0 ``DeepseekOCR._preprocess_image``: ``crop_threshold`` 640, 2 to 9 crops for v1;
    DeepSeek-OCR-2 passes its own 768, 2 and 6)."""
    check_size(width, height)
    if width <= image_size and height <= image_size:
        return 1, 1
    return closest_tile_grid(width, height, min_crops, max_crops, image_size)


def deepseek_ocr_image_tokens(width: int, height: int, base_size: int = BASE_SIZE, image_size: int = IMAGE_SIZE,
                              crop_mode: bool = CROP_MODE) -> int:
    """Image tokens of one image for DeepSeek-OCR (v1, ms-swift ``deepseek_ocr`` template).

    With ``q(s) = ceil((s // 16) / 4)`` queries per side (:func:`deepseek_queries`):

    * crop mode (ms-swift default, "Gundam"): global view ``(q(base) + 1) * q(base) + 1`` (a newline token per
      row and a view separator: 273 for 1024) plus, for a ``w x h`` crop grid (:func:`deepseek_ocr_grid`) with
      more than one crop, ``(q(image_size) * w + 1) * (q(image_size) * h)`` (100 queries per 640 crop);
    * no crop mode: ``(q(image_size) + 1) * q(image_size) + 1``.
    """
    check_size(width, height)
    if not crop_mode:
        n = deepseek_queries(image_size)
        return (n + 1) * n + 1
    nb = deepseek_queries(base_size)
    tokens = (nb + 1) * nb + 1
    w, h = deepseek_ocr_grid(width, height, image_size)
    if w > 1 or h > 1:
        n = deepseek_queries(image_size)
        tokens += (n * w + 1) * (n * h)
    return tokens


def _image_tokens(width: int, height: int, settings: DeepSeekOCRSettings) -> int:
    return deepseek_ocr_image_tokens(width, height, settings.base_size, settings.image_size, settings.crop_mode)


FAMILY = register_family(ModelFamily(
    name="deepseek_ocr",
    title="DeepSeek-OCR",
    model_type="deepseek_ocr",
    template="deepseek_ocr",
    rec_prompt="Free OCR.",
    codec="swift_ocr.codecs.deepseek_ocr:DeepSeekOCRCodec",
    # template: prefix [bos], prompt ['{{QUERY}}'], no chat_sep, suffix [eos]; '<image>' -> '<image>\n'
    scaffold=Scaffold(template="deepseek_ocr", bos_tokens=0, prefix=BOS, system_prefix=None, default_system=None,
                      prompt="{{QUERY}}", suffix=EOS, chat_sep="", image_prefix="", image_suffix="\n",
                      specials=(BOS, EOS) + BOX_SPECIALS),
    image_settings=DeepSeekOCRSettings.from_env,
    image_tokens=_image_tokens,
    env_vars=("CROP_MODE", "BASE_SIZE", "IMAGE_SIZE"),
    recipe="deepseek_ocr",
))
