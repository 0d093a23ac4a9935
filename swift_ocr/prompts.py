"""Default prompts per model family, with exactly one ``<image>`` tag per image.

ms-swift replaces each ``<image>`` tag with the family's image tokens (its template's ``replace_tag``),
so the query is ``<image>`` * n_images followed by the instruction.

Sources: GOT-OCR2 ``OCR: `` / ``OCR with format: `` (github Ucas-HaoranWei/GOT-OCR2.0, ``run_ocr_2.0.py``);
DeepSeek-OCR ``Free OCR.`` (github deepseek-ai/DeepSeek-OCR, README prompts); InternVL2 and Qwen2(.5)-VL take
a plain instruction.
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


def build_query(instruction: str, n_images: int = 1) -> str:
    """``<image>`` * n_images + instruction; any ``<image>`` tags already in ``instruction`` are removed first so
    the count always equals the number of images."""
    if n_images < 1:
        raise ValueError("an OCR sample needs at least one image")
    return "<image>" * n_images + instruction.replace("<image>", "")
