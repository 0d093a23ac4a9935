"""Default prompts per model family, with exactly one ``<image>`` tag per image.

ms-swift replaces each ``<image>`` tag with the family's image tokens (its template's ``replace_tag``),
so the query is ``<image>`` * n_images followed by the instruction.

Sources: GOT-OCR2 ``OCR: `` / ``OCR with format: `` (github Ucas-HaoranWei/GOT-OCR2.0, ``run_ocr_2.0.py``);
DeepSeek-OCR ``Free OCR.`` (github deepseek-ai/DeepSeek-OCR, README prompts); InternVL2 and Qwen2(.5)-VL take
a plain instruction.

Detection-as-text prompts (``det`` task, :func:`det_prompt`): the Chinese default is the query of
OCRDetInternVL2 (github leeguandong/OCRDetInternVL2, ``scripts/convert_ocr_det_swift_internvl2.py``), an InternVL2-8B
LoRA fine-tuned for text detection with ms-swift; the English default is ours. Qwen2.5-VL's English default is the
Qwen2.5-VL cookbook's text-spotting prompt (github QwenLM/Qwen2.5-VL, ``cookbooks/ocr.ipynb``), whose answer is the
JSON list our ``qwen2_5_vl`` codec writes.
"""
from __future__ import annotations

from typing import Dict, Optional

FAMILIES = ("got", "internvl", "qwen2_vl", "qwen2_5_vl", "deepseek_ocr")

REC_PROMPTS: Dict[str, str] = {
    "got": "OCR: ",
    "deepseek_ocr": "Free OCR.",
    "internvl": "Read all the text in the image.",
    "qwen2_vl": "Read all the text in the image.",
    "qwen2_5_vl": "Read all the text in the image.",
}
# GOT's formatted-output prompt (markdown/LaTeX-like output), selectable with ``prompt_style='format'``.
GOT_FORMAT_PROMPT = "OCR with format: "

# Default ms-swift template per family (``--template``); ``got`` maps to the transformers-native GOT.
SWIFT_TEMPLATES: Dict[str, str] = {
    "got": "got_ocr2_hf",
    "internvl": "internvl2",
    "qwen2_vl": "qwen2_vl",
    "qwen2_5_vl": "qwen2_5_vl",
    "deepseek_ocr": "deepseek_ocr",
}


#: Default detection-as-text instructions per language (``det`` task). The answer format itself comes from the
#: family's codec (:mod:`swift_ocr.codecs`); the instruction only asks for "text with boxes".
DET_PROMPTS: Dict[str, str] = {
    "en": "Detect every line of text in the image and give its text and bounding box.",
    "zh": "请目标检测图像中的信息并给出边界框",
}
#: Family-specific overrides of :data:`DET_PROMPTS`: ``{family: {lang: instruction}}``.
DET_FAMILY_PROMPTS: Dict[str, Dict[str, str]] = {
    "qwen2_5_vl": {"en": "Spotting all the text in the image with line-level, and output in JSON format."},
}


def check_family(family: str) -> str:
    """Return ``family`` or raise ``ValueError`` naming the known families."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; choose from {', '.join(FAMILIES)}")
    return family


def rec_prompt(family: str, prompt: Optional[str] = None, prompt_style: str = "plain") -> str:
    """The instruction (without ``<image>``) for recognition: ``prompt`` if given, else the family default.

    ``prompt_style='format'`` selects GOT's ``OCR with format: `` (only for ``got``).

    Raises:
        ValueError: unknown family or style.
    """
    check_family(family)
    if prompt is not None:
        return prompt
    if prompt_style == "format":
        if family != "got":
            raise ValueError("prompt_style 'format' exists for the got family only")
        return GOT_FORMAT_PROMPT
    if prompt_style != "plain":
        raise ValueError(f"unknown prompt style {prompt_style!r}")
    return REC_PROMPTS[family]


def det_prompt(family: str, lang: str = "en", prompt: Optional[str] = None) -> str:
    """The instruction (without ``<image>``) for detection as text: ``prompt`` if given, else the family's default
    in ``lang`` (:data:`DET_FAMILY_PROMPTS`, then :data:`DET_PROMPTS`).

    Args:
        family: one of :data:`FAMILIES` (checked even when ``prompt`` is given).
        lang: ``"en"`` or ``"zh"`` (ignored when ``prompt`` is given).
        prompt: a user instruction that replaces the default.

    Raises:
        ValueError: unknown family or language, or an empty ``prompt``.
    """
    check_family(family)
    if prompt is not None:
        if not prompt.strip():
            raise ValueError("the detection prompt is empty")
        return prompt
    if lang not in DET_PROMPTS:
        raise ValueError(f"unknown prompt language {lang!r}; choose from {', '.join(DET_PROMPTS)}")
    return DET_FAMILY_PROMPTS.get(family, {}).get(lang, DET_PROMPTS[lang])


def build_query(instruction: str, n_images: int = 1) -> str:
    """``<image>`` * n_images + instruction; any ``<image>`` tags already in ``instruction`` are removed first so
    the count always equals the number of images."""
    if n_images < 1:
        raise ValueError("an OCR sample needs at least one image")
    return "<image>" * n_images + instruction.replace("<image>", "")
