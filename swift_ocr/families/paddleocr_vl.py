"""PaddleOCR-VL 1.5 / 1.6 (PaddlePaddle/PaddleOCR-VL-1.5, -1.6; ms-swift ``--model_type paddleocr_vl --template
paddle_ocr_1_5``, transformers-native ``PaddleOCRVLForConditionalGeneration``).

Prompts: PaddleOCR-VL's task prompts (PaddleOCR-VL 1.5 model card and vLLM recipe: ``OCR:``, ``Table Recognition:``,
``Formula Recognition:``, ``Chart Recognition:``, ``Spotting:``, ``Seal Recognition:``): ``OCR:`` for ``rec``,
``Spotting:`` (text lines with their 4 corner points, new in 1.5) for ``det`` in every language -- the model knows no
other detection instruction. Box codec: :class:`swift_ocr.codecs.paddleocr_vl.PaddleOCRVLCodec` (text followed by
8 ``<|LOC_n|>`` tokens, 0-1000 of the page).

Template: the recipes (``recipes/paddleocr_vl/``) train with the swift-ocr plugin's ``paddle_ocr_1_5_compat``
(:mod:`swift_ocr.msswift.templates`: ms-swift 4.6.0's ``paddle_ocr_1_5`` fails at the first training step with
transformers 5.19); its chat markup is ``paddle_ocr_1_5``'s, so both names belong to this family.

Image tokens: one ``<|IMAGE_PLACEHOLDER|>`` per 28x28 pixels of the smart-resized image (14 px patches, 2x2 merge):
``(H' / 28) * (W' / 28)`` with ``(W', H')`` from transformers' ``PaddleOCRVLImageProcessor`` ``smart_resize`` (sides
multiples of 28, pixels within ``min_pixels .. max_pixels``), between ``<|IMAGE_START|>`` and ``<|IMAGE_END|>``
(ms-swift 4.6.0 ``swift/template/templates/baidu.py``, ``PaddleOCRTemplate``: ``image_grid_thw.prod() //
merge_size**2``). The bounds are the model's ``preprocessor_config.json``; ms-swift reads no environment variable for
them, so the arithmetic here uses transformers' processor defaults, 384*384 and 1536*1536 (:data:`MIN_PIXELS`,
:data:`MAX_PIXELS`); a checkpoint with other bounds needs ``swift-ocr validate --model DIR`` (exact counts).
"""
from __future__ import annotations

from swift_ocr.families.base import ModelFamily, TinyArch, register_family
from swift_ocr.families.scaffold import Scaffold
from swift_ocr.families.tiles import check_size

#: transformers ``PaddleOCRVLImageProcessor`` defaults (``size={"shortest_edge": 384*384, "longest_edge": 1536*1536}``).
MIN_PIXELS = 384 * 384
MAX_PIXELS = 1536 * 1536
#: patch 14 x merge 2.
FACTOR = 28

#: PaddleOCR-VL's recognition prompt.
OCR_PROMPT = "OCR:"
#: PaddleOCR-VL 1.5's text-spotting prompt.
SPOTTING_PROMPT = "Spotting:"

#: ERNIE 4.5 chat markup of ms-swift's ``paddle_ocr_1_5`` (``ERNIETemplateMeta``), PaddleOCR-VL's image tokens and the
#: location tokens of its spotting answers: single tokens of its tokenizer.
SPECIALS = ("<|begin_of_sentence|>", "<|end_of_sentence|>", "</s>", "<|IMAGE_START|>", "<|IMAGE_END|>",
            "<|LOC_BEGIN|>", "<|LOC_END|>") + tuple(f"<|LOC_{i}|>" for i in range(1001))


def resized_size(width: int, height: int, min_pixels: int = MIN_PIXELS, max_pixels: int = MAX_PIXELS):
    """``(W', H')``: pixels of the image PaddleOCR-VL sees for an original of ``width x height`` pixels
    (transformers ``models/paddleocr_vl/image_processing_pil_paddleocr_vl.py`` ``smart_resize``, factor 28; note its
    ``(height, width)`` argument order).

    Raises:
        ValueError: a bad size, or an aspect ratio over 200 (from transformers).
    """
    from transformers.models.paddleocr_vl.image_processing_pil_paddleocr_vl import smart_resize

    check_size(width, height)
    h, w = smart_resize(int(height), int(width), factor=FACTOR, min_pixels=min_pixels, max_pixels=max_pixels)
    return w, h


def image_tokens(width: int, height: int, settings=None) -> int:
    """Image tokens of one ``width x height`` image (pixels of the original image): ``(W' / 28) * (H' / 28)`` of
    :func:`resized_size` with the processor's default bounds."""
    w, h = resized_size(width, height)
    return (w // FACTOR) * (h // FACTOR)


FAMILY = register_family(ModelFamily(
    name="paddleocr_vl",
    title="PaddleOCR-VL 1.5",
    model_type="paddleocr_vl",
    template="paddle_ocr_1_5",
    rec_prompt=OCR_PROMPT,
    det_prompts={"en": SPOTTING_PROMPT, "zh": SPOTTING_PROMPT},
    codec="swift_ocr.codecs.paddleocr_vl:PaddleOCRVLCodec",
    # template: prefix [<|begin_of_sentence|>], prompt ['User: {{QUERY}}\nAssistant:\n'], chat_sep
    # [<|end_of_sentence|>], suffix [</s>], system_prefix ['<|begin_of_sentence|>{{SYSTEM}}\n'];
    # '<image>' -> '<|IMAGE_START|><|IMAGE_PLACEHOLDER|><|IMAGE_END|>'
    scaffold=Scaffold(template="paddle_ocr_1_5", prefix="<|begin_of_sentence|>", bos_tokens=0,
                      system_prefix="<|begin_of_sentence|>{{SYSTEM}}\n", default_system=None,
                      prompt="User: {{QUERY}}\nAssistant:\n", suffix="</s>", chat_sep="<|end_of_sentence|>",
                      image_prefix="<|IMAGE_START|>", image_suffix="<|IMAGE_END|>", specials=SPECIALS),
    image_tokens=image_tokens,
    recipe="paddleocr_vl",
    tiny_archs={"paddleocr_vl": TinyArch("swift_ocr.tiny.paddleocr_vl:build_tiny_paddleocr_vl", "paddleocr_vl",
                                         "paddle_ocr_1_5_compat")},
))
