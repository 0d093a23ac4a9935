"""GOT-OCR2.0 (stepfun-ai/GOT-OCR-2.0-hf; ms-swift ``--model_type got_ocr2_hf --template got_ocr2_hf``).

Prompts (github Ucas-HaoranWei/GOT-OCR2.0, ``GOT-OCR-2.0-master/GOT/demo/run_ocr_2.0.py``): ``OCR: `` (plain
text) and ``OCR with format: `` (markdown/LaTeX-like output); its fine-grained prompts put a box
``[x1, y1, x2, y2]`` on a 0-1000 grid or a colour ``[red]`` / ``[green]`` / ``[blue]`` before either tail (written and
parsed by :mod:`swift_ocr.codecs.got`). Box codec: :class:`swift_ocr.codecs.got.GOTCodec`.

Image tokens: 256 per image whatever its size: GOT resizes every image to 1024x1024 (ms-swift 4.6.0 ``got_ocr2_hf``:
``'<img>' + '<imgpad>' * 256 + '</img>\\n'``, ``swift/template/templates/stepfun.py``).
"""
from __future__ import annotations

import re

from swift_ocr.families.base import ModelFamily, TinyArch, register_family
from swift_ocr.families.scaffold import chatml

#: GOT's plain OCR prompt (``run_ocr_2.0.py`` ``--type ocr``).
OCR_PROMPT = "OCR: "
#: GOT's formatted-output prompt (``--type format``), selectable with ``prompt_style='format'``.
FORMAT_PROMPT = "OCR with format: "
#: The system prompt of ms-swift 4.6.0's ``got_ocr2`` / ``got_ocr2_hf`` templates (``QwenTemplateMeta`` default).
SYSTEM = "        You should follow the instructions carefully and explain your answers in detail."
#: Image tokens per image (1024x1024 input, 16x16 patches, two stride-2 convs -> 16 x 16).
IMAGE_TOKENS = 256

#: GOT-OCR2's region prompts (``run_ocr_2.0.py``): a box ``[x1, y1, x2, y2]`` on its 0-1000 grid or a colour
#: ``[red]`` (then ``[green]``, ``[blue]``) before the plain or formatted tail; spaces in the brackets optional.
_REGION_PROMPT = re.compile(r"^\s*(?P<ref>\[[^\[\]]*\])\s*OCR(?: with format)?:\s*$")
_BOX = re.compile(r"^\[\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)*\s*\]$")


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
    if text == OCR_PROMPT.strip():
        return "plain"
    if text == FORMAT_PROMPT.strip():
        return "format"
    m = _REGION_PROMPT.match(instruction)
    if m is not None:
        return "box" if _BOX.match(m.group("ref")) else "colour"
    return "other"


def _image_tokens(width: int, height: int, settings=None) -> int:
    return IMAGE_TOKENS


FAMILY = register_family(ModelFamily(
    name="got",
    title="GOT-OCR2.0",
    model_type="got_ocr2_hf",
    template="got_ocr2_hf",
    template_prefixes=("got_ocr2",),
    rec_prompt=OCR_PROMPT,
    prompt_styles={"format": FORMAT_PROMPT},
    keeps_region_prompts=True,
    codec="swift_ocr.codecs.got:GOTCodec",
    scaffold=chatml("got_ocr2_hf", SYSTEM, "<img>", "</img>\n", ("<img>", "</img>")),
    image_tokens=_image_tokens,
    recipe="got_ocr2",
    tiny_archs={"got_ocr2_hf": TinyArch("swift_ocr.tiny.models:build_tiny_got_ocr2_hf", "got_ocr2_hf",
                                        "got_ocr2_hf")},
))
