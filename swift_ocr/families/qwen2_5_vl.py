"""Qwen2.5-VL (ms-swift ``--model_type qwen2_5_vl --template qwen2_5_vl``).

Prompts: a plain instruction for ``rec``; the English ``det`` instruction is the Qwen2.5-VL cookbook's
text-spotting prompt (github QwenLM/Qwen2.5-VL, ``cookbooks/ocr.ipynb``), whose answer is the JSON list the codec
writes. Box codec: :class:`swift_ocr.codecs.qwen2_5_vl.Qwen25VLCodec` (JSON, pixels of the smart-resized image: the
resize bounds must be the same at conversion, training, inference and scoring, hence the codec options
``min_pixels``/``max_pixels`` (``--min-pixels``/``--max-pixels``, defaulting in ``convert`` to ms-swift's
``MIN_PIXELS``/``MAX_PIXELS`` environment, :meth:`~swift_ocr.codecs.qwen2_5_vl.Qwen25VLCodec.for_ms_swift`), which
every ``det`` row records and ``validate`` / ``eval det`` read back).

Image tokens and environment: as Qwen2-VL (:mod:`swift_ocr.families.qwen2_vl`).
"""
from __future__ import annotations

from typing import Mapping

from swift_ocr.families.base import CodecOption, ModelFamily, register_family
from swift_ocr.families.qwen2_vl import (ENV_VARS, PROCESSOR_MAX_PIXELS, PROCESSOR_MIN_PIXELS, SPECIALS, SYSTEM,
                                         QwenVLSettings, image_tokens)
from swift_ocr.families.scaffold import chatml

#: The cookbook's text-spotting prompt (``cookbooks/ocr.ipynb``).
DET_PROMPT_EN = "Spotting all the text in the image with line-level, and output in JSON format."


def _codec_for_env(family: ModelFamily, environ: Mapping[str, str], **params):
    from swift_ocr.codecs.qwen2_5_vl import Qwen25VLCodec

    return Qwen25VLCodec.for_ms_swift(environ, **params)


FAMILY = register_family(ModelFamily(
    name="qwen2_5_vl",
    title="Qwen2.5-VL",
    model_type="qwen2_5_vl",
    template="qwen2_5_vl",
    rec_prompt="Read all the text in the image.",
    det_prompts={"en": DET_PROMPT_EN},
    codec="swift_ocr.codecs.qwen2_5_vl:Qwen25VLCodec",
    codec_from_env=_codec_for_env,
    codec_options=(
        CodecOption("min_pixels", f"smart_resize lower bound in pixels (the processor's default, the codec's own: "
                                  f"{PROCESSOR_MIN_PIXELS})"),
        CodecOption("max_pixels", f"smart_resize upper bound in pixels (the processor's default, the codec's own: "
                                  f"{PROCESSOR_MAX_PIXELS}; ms-swift's without MAX_PIXELS: 12845056): must be what "
                                  "resized the images at training and inference"),
    ),
    scaffold=chatml("qwen2_5_vl", SYSTEM, "<|vision_start|>", "<|vision_end|>", SPECIALS),
    image_settings=QwenVLSettings.from_env,
    image_tokens=image_tokens,
    env_vars=ENV_VARS,
    recipe="qwen2_5_vl",
))
