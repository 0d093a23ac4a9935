"""Detection-as-text codecs: one per model family (issue "Detection as text").

``get_codec(family, **params)`` returns a :class:`~swift_ocr.codecs.base.Codec` with

* ``encode(regions, image_size) -> str``: the target text for regions whose polygons are in pixels of the
  original image of ``image_size = (width, height)``;
* ``parse(text, image_size) -> ParseResult``: regions (pixels of the original image) + a
  :class:`~swift_ocr.codecs.parsing.ParseReport` of what could not be parsed;
* ``grid(image_size)`` / ``tolerance(image_size)``: the family's coordinate grid and its round-trip error.

Families and their coordinates in the text (details and sources in each module and in
``docs/detection_codecs.md``):

=================  =================================================================  =================================
family             object text                                                        coordinates in the text
=================  =================================================================  =================================
``internvl``       ``<ref>T</ref><box>[[x1, y1, x2, y2]]</box>`` (or our ``<quad>``)  0-1000, round
``qwen2_vl``       ``<|object_ref_start|>T<|object_ref_end|><|box_start|>(..)``       0-1000, round
``qwen2_5_vl``     ``{"bbox_2d": [x1, y1, x2, y2], "text_content": "T"}`` (JSON)      pixels of the smart-resized image
``got``            ``[x1, y1, x2, y2] T`` (ours) + GOT's ``[..] OCR: `` prompts       0-1000, truncated
``deepseek_ocr``   ``<|ref|>T<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|>``              0-999, round
``deepseek_ocr2``  as ``deepseek_ocr``                                                0-999, round
``paddleocr_vl``   ``T<|LOC_x1|><|LOC_y1|>...<|LOC_x4|><|LOC_y4|>`` (4 corners)       0-1000, round
=================  =================================================================  =================================
"""
from __future__ import annotations

from swift_ocr.codecs.base import Codec
from swift_ocr.codecs.grid import Grid
from swift_ocr.codecs.parsing import ParseReport, ParseResult
from swift_ocr.families import family_names, get_family


def get_codec(family: str, **params) -> Codec:
    """A new codec for ``family`` (a registered family, :func:`swift_ocr.families.family_names`), built with
    ``params`` by the family's spec (:meth:`swift_ocr.families.base.ModelFamily.make_codec`).

    Params by family: ``internvl``: ``shape='box'|'quad'``; ``qwen2_5_vl``: ``min_pixels``, ``max_pixels``,
    ``fence``; all: ``dedupe``.

    Raises:
        ValueError: unknown family (the message lists the known ones) or bad params.
    """
    try:
        spec = get_family(family)
    except ValueError:
        raise ValueError(f"unknown detection codec family {family!r}; known: {', '.join(family_names())}") from None
    return spec.make_codec(**params)


__all__ = ["Codec", "Grid", "ParseReport", "ParseResult", "get_codec"]
