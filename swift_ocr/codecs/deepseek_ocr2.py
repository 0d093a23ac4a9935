"""DeepSeek-OCR-2 grounding format: DeepSeek-OCR's, unchanged (:mod:`swift_ocr.codecs.deepseek_ocr`).

One object per line, ``<|ref|>TEXT<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|>``, coordinates 0-999 of the original
image. Source: deepseek-ai/DeepSeek-OCR-2 ``DeepSeek-OCR2-master/DeepSeek-OCR2-vllm/run_dpsk_ocr2_image.py`` (the same
``re_match`` pattern and ``int(x / 999 * image_width)`` decoding as DeepSeek-OCR's ``run_dpsk_ocr_image.py``).
"""
from __future__ import annotations

from swift_ocr.codecs.deepseek_ocr import DeepSeekOCRCodec


class DeepSeekOCR2Codec(DeepSeekOCRCodec):
    """:class:`~swift_ocr.codecs.deepseek_ocr.DeepSeekOCRCodec` under the family name ``deepseek_ocr2``."""

    family = "deepseek_ocr2"
