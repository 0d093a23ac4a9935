"""The instructions of a row, from the family's spec (:class:`swift_ocr.families.base.ModelFamily`), with exactly one
``<image>`` tag per image.

ms-swift replaces each ``<image>`` tag with the family's image tokens (its template's ``replace_tag``),
so the query is ``<image>`` * n_images followed by the instruction (:func:`build_query`).

Detection-as-text prompts (``det`` task, :func:`det_prompt`): the generic defaults are :data:`DET_PROMPTS`; a family
may replace them per language (:attr:`~swift_ocr.families.base.ModelFamily.det_prompts`). The Chinese default is the
query of OCRDetInternVL2 (github leeguandong/OCRDetInternVL2, ``scripts/convert_ocr_det_swift_internvl2.py``), an
InternVL2-8B LoRA fine-tuned for text detection with ms-swift; the English default is ours.
"""
from __future__ import annotations

from typing import Dict, Optional

from swift_ocr.families.base import family_names, get_family
from swift_ocr.families.got import got_prompt_kind

#: Default detection-as-text instructions per language (``det`` task). The answer format itself comes from the
#: family's codec (:mod:`swift_ocr.codecs`); the instruction only asks for "text with boxes".
DET_PROMPTS: Dict[str, str] = {
    "en": "Detect every line of text in the image and give its text and bounding box.",
    "zh": "请目标检测图像中的信息并给出边界框",
}


def det_system(family: str, det_shape: str = "box", order: str = "tb-lr") -> Optional[str]:
    """The system prompt that describes exactly the ``det`` targets that ``swift-ocr convert --task det`` writes for
    ``family`` with these options (:attr:`~swift_ocr.families.base.ModelFamily.det_system`), or None where the
    family has no detection system prompt of ours.

    Raises:
        ValueError: unknown family, or a shape/order the family's system prompt cannot describe.
    """
    spec = get_family(family)
    return None if spec.det_system is None else spec.det_system(det_shape, order)


def rec_prompt(family: str, prompt: Optional[str] = None, prompt_style: str = "plain") -> str:
    """The instruction (without ``<image>``) for recognition: ``prompt`` if given, else the family's default
    (``plain``: :attr:`~swift_ocr.families.base.ModelFamily.rec_prompt`; another style: the family's
    :attr:`~swift_ocr.families.base.ModelFamily.prompt_styles` entry, e.g. GOT's ``format``).

    Raises:
        ValueError: unknown family or style (a style only other families have is named as such).
    """
    spec = get_family(family)
    if prompt is not None:
        return prompt
    if prompt_style == "plain":
        return spec.rec_prompt
    if prompt_style in spec.prompt_styles:
        return spec.prompt_styles[prompt_style]
    owners = [name for name in family_names() if prompt_style in get_family(name).prompt_styles]
    if owners:
        raise ValueError(f"prompt_style {prompt_style!r} exists for the {', '.join(owners)} "
                         f"famil{'y' if len(owners) == 1 else 'ies'} only")
    raise ValueError(f"unknown prompt style {prompt_style!r}")


def prompt_styles() -> tuple:
    """Every ``--prompt-style`` name over the registered families, ``plain`` first."""
    styles = ["plain"]
    for name in family_names():
        styles += [s for s in get_family(name).prompt_styles if s not in styles]
    return tuple(styles)


def det_prompt(family: str, lang: str = "en", prompt: Optional[str] = None) -> str:
    """The instruction (without ``<image>``) for detection as text: ``prompt`` if given, else the family's default
    in ``lang`` (the family's :attr:`~swift_ocr.families.base.ModelFamily.det_prompts`, then :data:`DET_PROMPTS`).

    Args:
        family: a registered family (checked even when ``prompt`` is given).
        lang: ``"en"`` or ``"zh"`` (ignored when ``prompt`` is given).
        prompt: a user instruction that replaces the default.

    Raises:
        ValueError: unknown family or language, or an empty ``prompt``.
    """
    spec = get_family(family)
    if prompt is not None:
        if not prompt.strip():
            raise ValueError("the detection prompt is empty")
        return prompt
    if lang not in DET_PROMPTS:
        raise ValueError(f"unknown prompt language {lang!r}; choose from {', '.join(DET_PROMPTS)}")
    return spec.det_prompts.get(lang, DET_PROMPTS[lang])


def source_instruction(human: str) -> str:
    """The instruction of a source's own user turn (e.g. a GOT JSON ``human`` value): the text with its
    ``<image>`` tags removed, a newline right after a tag included (``'<image>\\nOCR: '`` -> ``'OCR: '``). The
    writers put the tags back in front (:func:`build_query`)."""
    return human.replace("<image>\n", "").replace("<image>", "")


def carry_prompt(instruction: str, family: str, prompt: Optional[str] = None) -> str:
    """The instruction for ``family`` of an item that brings its own (a GOT JSON entry's human turn, without
    ``<image>`` tags, see :func:`source_instruction`; classified by :func:`swift_ocr.families.got.got_prompt_kind`),
    for the ``rec`` task.

    Only whole-page prompts are ever replaced; an instruction about one region is never turned into "read the
    whole page":

    * GOT's plain ``OCR: `` (or an empty turn) -> ``prompt`` if given, else the family's ``rec_prompt``;
    * GOT's ``OCR with format: `` -> the family's own ``format`` prompt style where it has one, else kept as it is
      (the target stays formatted text);
    * GOT box and colour prompts (``[x1, y1, x2, y2] OCR: ``, ``[red] OCR: ``) -> kept as they are for a family
      with ``keeps_region_prompts`` (GOT); refused for other families (their boxes live on other grids and they were
      never trained on GOT's colour boxes);
    * any other instruction -> kept as it is.

    Raises:
        ValueError: unknown family, or a box/colour prompt for a family that cannot keep it (the message says why).
    """
    spec = get_family(family)
    kind = got_prompt_kind(instruction)
    if kind in ("plain", "empty"):
        return rec_prompt(family, prompt, "plain")
    if kind == "format":
        return spec.prompt_styles.get("format", instruction)
    if kind in ("box", "colour") and not spec.keeps_region_prompts:
        keepers = [name for name in family_names() if get_family(name).keeps_region_prompts]
        raise ValueError(f"GOT region ({kind}) prompt {instruction.strip()!r} asks for one region; model family "
                         f"{family!r} has no equivalent prompt and rewriting it to read the whole page would mislabel "
                         f"the text (convert with --model-family {' or '.join(keepers)} to keep it)")
    return instruction


def build_query(instruction: str, n_images: int = 1) -> str:
    """``<image>`` * n_images + instruction; any ``<image>`` tags already in ``instruction`` are removed first so
    the count always equals the number of images."""
    if n_images < 1:
        raise ValueError("an OCR sample needs at least one image")
    return "<image>" * n_images + instruction.replace("<image>", "")
