"""DeepSeek-OCR-2 (deepseek-ai/DeepSeek-OCR-2; ms-swift ``--model_type deepseek_ocr2 --template deepseek_ocr2``, remote
code that, like DeepSeek-OCR's, needs transformers 4.46: ms-swift 4.6.0 ``swift/model/models/deepseek.py``).

Prompts and box format: DeepSeek-OCR's (``Free OCR.``; ``<|ref|>..<|/ref|><|det|>[[..]]<|/det|>`` on 0-999:
:class:`swift_ocr.codecs.deepseek_ocr2.DeepSeekOCR2Codec`). Chat markup: the ``deepseek_ocr`` template's (the same
``TemplateMeta``: BOS prefix, ``{{QUERY}}``, ``<image>`` -> ``<image>\\n``).

Image tokens: ms-swift 4.6.0's ``DeepseekOCR2`` template (``swift/template/templates/deepseek.py``, ``version = 'v2'``:
no newline token per row) with ``q(s) = ceil((s // 16) / 4)`` queries per side:

* crop mode (default): the ``BASE_SIZE`` (1024) padded global view, ``q(base)**2 + 1`` = 257 tokens, plus, when a side
  exceeds 768 px (the v2 ``crop_threshold``), ``(q(IMAGE_SIZE) * w) * (q(IMAGE_SIZE) * h)`` for the ``w x h`` grid of
  768 px crops that DeepSeek-OCR-2's ``dynamic_preprocess(image, min_num=2, max_num=6, image_size=768)`` picks
  (``modeling_deepseekocr2.py``; ms-swift calls it with its defaults; 144 tokens per crop with ``IMAGE_SIZE`` 768);
* no crop mode: ``q(IMAGE_SIZE)**2 + 1``.

Environment: ``CROP_MODE`` [true], ``BASE_SIZE`` [1024], ``IMAGE_SIZE`` [768 for v2]. No recipe folder yet: the
DeepSeek-OCR recipes run it with ``MODEL=deepseek-ai/DeepSeek-OCR-2 MODEL_TYPE=deepseek_ocr2 TEMPLATE=deepseek_ocr2``
(their RESOLUTION_MODE names are DeepSeek-OCR's v1 modes).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Tuple

from swift_ocr.families.base import ModelFamily, register_family
from swift_ocr.families.deepseek_ocr import FAMILY as DEEPSEEK_OCR
from swift_ocr.families.deepseek_ocr import DeepSeekOCRSettings, deepseek_ocr_grid, deepseek_queries
from swift_ocr.families.tiles import check_size

#: ms-swift's ``deepseek_ocr2`` defaults (``DeepseekOCR.init_env_args``, ``image_size`` 768 for v2).
BASE_SIZE = 1024
IMAGE_SIZE = 768
CROP_MODE = True
#: DeepSeek-OCR-2's crop threshold, crop size and crop counts (``crop_threshold`` of ms-swift's v2 template;
#: ``dynamic_preprocess`` defaults of ``modeling_deepseekocr2.py``).
CROP_THRESHOLD = 768
MIN_CROPS = 2
MAX_CROPS = 6


@dataclass(frozen=True)
class DeepSeekOCR2Settings(DeepSeekOCRSettings):
    """DeepSeek-OCR-2's global-view size, crop query size and crop mode as ms-swift reads them (``from_env``:
    DeepSeek-OCR's, with these defaults)."""

    base_size: int = BASE_SIZE
    image_size: int = IMAGE_SIZE
    crop_mode: bool = CROP_MODE


def deepseek_ocr2_grid(width: int, height: int) -> Tuple[int, int]:
    """``(columns, rows)`` of DeepSeek-OCR-2's 768 px crops for an image of ``width x height`` pixels: ``(1, 1)`` (no
    crops) when both sides are at most 768, else ``dynamic_preprocess``'s grid (2 to 6 crops)."""
    return deepseek_ocr_grid(width, height, CROP_THRESHOLD, MIN_CROPS, MAX_CROPS)


def deepseek_ocr2_image_tokens(width: int, height: int, settings: DeepSeekOCR2Settings = DeepSeekOCR2Settings()
                               ) -> int:
    """Image tokens of one ``width x height`` image (pixels of the original image); see the module docstring."""
    check_size(width, height)
    n = deepseek_queries(settings.image_size)
    if not settings.crop_mode:
        return n * n + 1
    nb = deepseek_queries(settings.base_size)
    tokens = nb * nb + 1
    w, h = deepseek_ocr2_grid(width, height)
    if w > 1 or h > 1:
        tokens += (n * w) * (n * h)
    return tokens


FAMILY = register_family(ModelFamily(
    name="deepseek_ocr2",
    title="DeepSeek-OCR-2",
    model_type="deepseek_ocr2",
    template="deepseek_ocr2",
    rec_prompt=DEEPSEEK_OCR.rec_prompt,
    codec="swift_ocr.codecs.deepseek_ocr2:DeepSeekOCR2Codec",
    scaffold=dataclasses.replace(DEEPSEEK_OCR.scaffold, template="deepseek_ocr2"),
    image_settings=DeepSeekOCR2Settings.from_env,
    image_tokens=deepseek_ocr2_image_tokens,
    env_vars=("CROP_MODE", "BASE_SIZE", "IMAGE_SIZE"),
))
