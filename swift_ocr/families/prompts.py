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

import re
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


#: Reading orders of ``det`` targets (:data:`swift_ocr.tasks.det.ORDERS`) as the det system prompt words them;
#: ``source`` (the label file's order) is not a rule a model can follow, so the prompt then names no order.
_DET_ORDER_WORDS: Dict[str, str] = {
    "tb-lr": ", in reading order (top to bottom, left to right)",
    "tb-rl": ", in reading order (top to bottom, each line right to left)",
    "source": "",
}
#: The answer format and what its numbers mean, per ``det_shape`` (InternVL grounding, :mod:`swift_ocr.codecs.internvl`).
_DET_SHAPE_WORDS: Dict[str, str] = {
    "box": ("<ref>the text</ref><box>[[x1, y1, x2, y2]]</box>, where the box is the text line's bounding box"),
    "quad": ("<ref>the text</ref><quad>[[x1, y1, x2, y2, x3, y3, x4, y4]]</quad>, where the quad is the text "
             "line's four corners, clockwise from its top-left corner,"),
}


def det_system(family: str, det_shape: str = "box", order: str = "tb-lr") -> Optional[str]:
    """The system prompt that describes exactly the ``det`` targets that ``swift-ocr convert --task det`` writes for
    ``family`` with these options, or None where the family has no detection system prompt of ours.

    Only ``internvl`` has one: the ``internvl2_ocr_det`` / ``internvl_hf_ocr_det`` templates
    (:mod:`swift_ocr.msswift.templates`) use ``det_system("internvl")`` (boxes, top-to-bottom left-to-right) as their
    default. Targets written with other options (``--det-shape quad``, ``--order tb-rl|source``) carry the matching
    prompt as the row's own ``system`` message (:meth:`swift_ocr.tasks.core.TaskConfig.system`), which ms-swift uses
    instead of the template's default, so the model is never told one format and trained on another. Coordinates
    are on InternVL's 0-1000 grid of the image (or tile) width and height.

    Raises:
        ValueError: unknown family, shape or order.
    """
    check_family(family)
    if det_shape not in _DET_SHAPE_WORDS:
        raise ValueError(f"unknown det shape {det_shape!r}; choose from {', '.join(_DET_SHAPE_WORDS)}")
    if order not in _DET_ORDER_WORDS:
        raise ValueError(f"unknown det order {order!r}; choose from {', '.join(_DET_ORDER_WORDS)}")
    if family != "internvl":
        return None
    return ("You are an OCR text-detection engine. Find every line of text in the image, read it exactly as written, "
            f"and answer with one line per text line{_DET_ORDER_WORDS[order]}: {_DET_SHAPE_WORDS[det_shape]} in "
            "coordinates from 0 to 1000 of the image width and height. Answer with nothing else.")


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


#: GOT-OCR2's region prompts (``run_ocr_2.0.py``): a box ``[x1, y1, x2, y2]`` on its 0-1000 grid or a colour
#: ``[red]`` (then ``[green]``, ``[blue]``) before the plain or formatted tail; spaces in the brackets optional.
_GOT_REGION_PROMPT = re.compile(r"^\s*(?P<ref>\[[^\[\]]*\])\s*OCR(?: with format)?:\s*$")
_GOT_BOX = re.compile(r"^\[\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)*\s*\]$")


def source_instruction(human: str) -> str:
    """The instruction of a source's own user turn (e.g. a GOT JSON ``human`` value): the text with its
    ``<image>`` tags removed, a newline right after a tag included (``'<image>\\nOCR: '`` -> ``'OCR: '``). The
    writers put the tags back in front (:func:`build_query`)."""
    return human.replace("<image>\n", "").replace("<image>", "")


def got_prompt_kind(instruction: str) -> str:
    """What a GOT-OCR2 instruction (without ``<image>`` tags) asks for.

    Returns:
        ``"plain"`` (whole page, ``OCR: ``), ``"format"`` (whole page, formatted: ``OCR with format: ``),
        ``"box"`` (``[x1, y1, x2, y2] OCR: `` or ``... OCR with format: ``: one region, 0-1000 grid),
        ``"colour"`` (``[red] OCR: ``...: the region outlined in that colour on the image), ``"empty"`` (no text),
        or ``"other"`` (any other instruction, e.g. GOT's multi-crop
        ``OCR with format upon the patch reference: ``). Whitespace around the prompt is ignored.
    """
    text = instruction.strip()
    if not text:
        return "empty"
    if text == "OCR:":
        return "plain"
    if text == "OCR with format:":
        return "format"
    m = _GOT_REGION_PROMPT.match(instruction)
    if m is not None:
        return "box" if _GOT_BOX.match(m.group("ref")) else "colour"
    return "other"


def carry_prompt(instruction: str, family: str, prompt: Optional[str] = None) -> str:
    """The instruction for ``family`` of an item that brings its own (a GOT JSON entry's human turn, without
    ``<image>`` tags, see :func:`source_instruction`), for the ``rec`` task.

    Only whole-page prompts are ever replaced; an instruction about one region is never turned into "read the
    whole page":

    * GOT's plain ``OCR: `` (or an empty turn) -> ``prompt`` if given, else the family's :data:`REC_PROMPTS`;
    * GOT's ``OCR with format: `` -> :data:`GOT_FORMAT_PROMPT` for ``got``, kept as it is for other families
      (none of them has a formatted-output prompt of its own, and the target stays formatted text);
    * GOT box and colour prompts (``[x1, y1, x2, y2] OCR: ``, ``[red] OCR: ``) -> kept as they are for ``got``;
      refused for other families (their boxes live on other grids and they were never trained on GOT's colour
      boxes);
    * any other instruction -> kept as it is.

    Raises:
        ValueError: unknown family, or a box/colour prompt for a family other than ``got`` (the message says why).
    """
    check_family(family)
    kind = got_prompt_kind(instruction)
    if kind in ("plain", "empty"):
        return rec_prompt(family, prompt, "plain")
    if kind == "format":
        return GOT_FORMAT_PROMPT if family == "got" else instruction
    if kind in ("box", "colour") and family != "got":
        raise ValueError(f"GOT region ({kind}) prompt {instruction.strip()!r} asks for one region; model family "
                         f"{family!r} has no equivalent prompt and rewriting it to read the whole page would mislabel "
                         "the text (convert with --model-family got to keep it)")
    return instruction


def build_query(instruction: str, n_images: int = 1) -> str:
    """``<image>`` * n_images + instruction; any ``<image>`` tags already in ``instruction`` are removed first so
    the count always equals the number of images."""
    if n_images < 1:
        raise ValueError("an OCR sample needs at least one image")
    return "<image>" * n_images + instruction.replace("<image>", "")
