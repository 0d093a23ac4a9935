"""Detection-as-text codecs: one per model family (issue "Detection as text").

``get_codec(family, **params)`` returns a :class:`~swift_ocr.codecs.base.Codec` with

* ``encode(regions, image_size) -> str``: the target text for regions whose polygons are in pixels of the
  original image of ``image_size = (width, height)``;
* ``parse(text, image_size) -> ParseResult``: regions (pixels of the original image) + a
  :class:`~swift_ocr.codecs.base.ParseReport` of what could not be parsed;
* ``grid(image_size)`` / ``tolerance(image_size)``: the family's coordinate grid and its round-trip error.

Families and their coordinates in the text (details and sources in each module and in
``docs/detection_codecs.md``):

================  ===============================================================  ==================================
family            object text                                                      coordinates in the text
================  ===============================================================  ==================================
``internvl``      ``<ref>T</ref><box>[[x1, y1, x2, y2]]</box>`` (or our ``<quad>``)  0-1000, round
``qwen2_vl``      ``<|object_ref_start|>T<|object_ref_end|><|box_start|>(..)``     0-1000, round
``qwen2_5_vl``    ``{"bbox_2d": [x1, y1, x2, y2], "text_content": "T"}`` (JSON)    pixels of the smart-resized image
``got``           ``[x1, y1, x2, y2] T`` (ours) + GOT's ``[..] OCR: `` prompts      0-1000, truncated
``deepseek_ocr``  ``<|ref|>T<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|>``            0-999, round
================  ===============================================================  ==================================
"""
from __future__ import annotations

from typing import Callable, Dict

from swift_ocr.codecs.base import Codec, Grid, ParseReport, ParseResult
from swift_ocr.codecs.deepseek_ocr import DeepSeekOCRCodec
from swift_ocr.codecs.got import GOTCodec
from swift_ocr.codecs.internvl import InternVLCodec
from swift_ocr.codecs.qwen2_5_vl import Qwen25VLCodec
from swift_ocr.codecs.qwen2_vl import Qwen2VLCodec

CODECS: Dict[str, Callable[..., Codec]] = {
    "internvl": InternVLCodec,
    "qwen2_vl": Qwen2VLCodec,
    "qwen2_5_vl": Qwen25VLCodec,
    "got": GOTCodec,
    "deepseek_ocr": DeepSeekOCRCodec,
}
FAMILIES = tuple(CODECS)


def get_codec(family: str, **params) -> Codec:
    """A new codec for ``family`` (one of :data:`FAMILIES`), built with ``params``.

    Params by family: ``internvl``: ``shape='box'|'quad'``; ``qwen2_5_vl``: ``min_pixels``, ``max_pixels``,
    ``fence``; all: ``dedupe``.

    Raises:
        ValueError: unknown family (the message lists the known ones) or bad params.
    """
    try:
        factory = CODECS[family]
    except KeyError:
        raise ValueError(f"unknown detection codec family {family!r}; known: {', '.join(FAMILIES)}") from None
    try:
        return factory(**params)
    except TypeError as e:
        raise ValueError(f"bad parameters for codec {family!r}: {e}") from None


__all__ = ["CODECS", "FAMILIES", "Codec", "Grid", "ParseReport", "ParseResult", "get_codec"]
