"""InternVL (InternVL2 1B-76B, e.g. OpenGVLab/InternVL2-8B: ms-swift ``--model_type internvl_chat --template
internvl2``; transformers-native InternVL3-*-hf: ``--model_type internvl --template internvl_hf``).

Prompts: a plain instruction for ``rec``; the Chinese ``det`` instruction is the query of OCRDetInternVL2 (github
leeguandong/OCRDetInternVL2, ``scripts/convert_ocr_det_swift_internvl2.py``), an InternVL2-8B LoRA fine-tuned for
text detection with ms-swift. ``det`` training uses our ``internvl2_ocr_det`` template
(:mod:`swift_ocr.msswift.templates`), whose default system prompt is :func:`det_system` with the default options.
Box codec: :class:`swift_ocr.codecs.internvl.InternVLCodec` (InternVL grounding, 0-1000; our ``<quad>``).

Image tokens: 256 per 448x448 tile; tiles = InternVL's ``dynamic_preprocess`` grid (min 1, max ``MAX_NUM`` = 12
tiles, the grid whose aspect ratio is closest to the image's) + 1 thumbnail tile when the grid has more than 1 tile
(:func:`internvl_grid`; ms-swift 4.6.0 ``internvl2``: ``<img>`` + ``<IMG_CONTEXT>`` * 256 * tiles + ``</img>\\n``,
``swift/template/templates/internvl.py``). Environment: ``MAX_NUM``, ``INPUT_SIZE`` (read as ms-swift reads them).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Tuple

from swift_ocr.families.base import ModelFamily, TinyArch, register_family
from swift_ocr.families.scaffold import chatml
from swift_ocr.families.tiles import closest_tile_grid, env_int

#: InternVL2: tile side (``INPUT_SIZE``), tile limits (``MAX_NUM``; min is fixed at 1 by ms-swift).
INPUT_SIZE = 448
MAX_NUM = 12
MIN_NUM = 1

#: InternVL2's default system prompt (ms-swift 4.6.0 ``internvl2`` template meta).
SYSTEM = "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, 是一个有用无害的人工智能助手。"
#: InternVL's added tokens for grounding (OpenGVLab/InternVL ``internvl_chat/internvl/train/constants.py``: one id
#: each in InternVL2's tokenizer and in ``swift-ocr tiny-model --arch internvl_hf``'s); :mod:`swift_ocr.codecs.internvl`
#: writes them.
BOX_SPECIALS = ("<ref>", "</ref>", "<box>", "</box>", "<quad>", "</quad>")


@dataclass(frozen=True)
class InternVLSettings:
    """InternVL image settings (defaults = ms-swift 4.6.0's).

    Attributes:
        max_num: most tiles per image (``MAX_NUM``, default 12), thumbnail not counted.
        input_size: tile side in pixels (``INPUT_SIZE``, default 448).
    """

    max_num: int = MAX_NUM
    input_size: int = INPUT_SIZE

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "InternVLSettings":
        """Raises ValueError: a value that is not an integer."""
        return cls(max_num=env_int(environ, "MAX_NUM", MAX_NUM), input_size=env_int(environ, "INPUT_SIZE", INPUT_SIZE))


def internvl_grid(width: int, height: int, max_num: int = MAX_NUM, input_size: int = INPUT_SIZE) -> Tuple[int, int]:
    """``(columns, rows)`` of 448-px tiles InternVL2 cuts an image into (ms-swift: min 1 tile, ``max_num`` tiles)."""
    return closest_tile_grid(width, height, MIN_NUM, max_num, input_size)


def internvl_tiles(width: int, height: int, max_num: int = MAX_NUM, input_size: int = INPUT_SIZE) -> int:
    """Number of tiles fed to InternVL2: the grid's tiles + 1 thumbnail when the grid has more than one tile
    (ms-swift ``transform_image`` calls ``_dynamic_preprocess(..., use_thumbnail=True)``)."""
    cols, rows = internvl_grid(width, height, max_num, input_size)
    n = cols * rows
    return n + 1 if n != 1 else n


def internvl_tokens_per_tile(input_size: int = INPUT_SIZE) -> int:
    """``int((input_size // 14) ** 2 * 0.5 ** 2)``: 14-px ViT patches, pixel shuffle 0.5 -> 256 for 448."""
    return int((input_size // 14) ** 2 * (0.5 ** 2))


def internvl_image_tokens(width: int, height: int, max_num: int = MAX_NUM, input_size: int = INPUT_SIZE) -> int:
    """``<IMG_CONTEXT>`` tokens of one image for InternVL2 (``internvl2`` template): tiles x tokens per tile."""
    return internvl_tiles(width, height, max_num, input_size) * internvl_tokens_per_tile(input_size)


def _image_tokens(width: int, height: int, settings: InternVLSettings) -> int:
    return internvl_image_tokens(width, height, settings.max_num, settings.input_size)


#: Reading orders of ``det`` targets (:data:`swift_ocr.tasks.det.ORDERS`) as the det system prompt words them;
#: ``source`` (the label file's order) is not a rule a model can follow, so the prompt then names no order.
_DET_ORDER_WORDS = {
    "tb-lr": ", in reading order (top to bottom, left to right)",
    "tb-rl": ", in reading order (top to bottom, each line right to left)",
    "source": "",
}
#: The answer format and what its numbers mean, per ``det_shape`` (InternVL grounding, :mod:`swift_ocr.codecs.internvl`).
_DET_SHAPE_WORDS = {
    "box": ("<ref>the text</ref><box>[[x1, y1, x2, y2]]</box>, where the box is the text line's bounding box"),
    "quad": ("<ref>the text</ref><quad>[[x1, y1, x2, y2, x3, y3, x4, y4]]</quad>, where the quad is the text "
             "line's four corners, clockwise from its top-left corner,"),
}


def det_system(det_shape: str = "box", order: str = "tb-lr") -> str:
    """The system prompt that describes exactly the ``det`` targets ``swift-ocr convert --task det`` writes for
    InternVL with these options. The ``internvl2_ocr_det`` / ``internvl_hf_ocr_det`` templates
    (:mod:`swift_ocr.msswift.templates`) use ``det_system()`` (boxes, top-to-bottom left-to-right) as their default;
    targets written with other options carry the matching prompt as the row's own ``system`` message
    (:meth:`swift_ocr.tasks.core.TaskConfig.system`). Coordinates are on InternVL's 0-1000 grid of the image (or
    tile) width and height.

    Raises:
        ValueError: unknown shape or order.
    """
    if det_shape not in _DET_SHAPE_WORDS:
        raise ValueError(f"unknown det shape {det_shape!r}; choose from {', '.join(_DET_SHAPE_WORDS)}")
    if order not in _DET_ORDER_WORDS:
        raise ValueError(f"unknown det order {order!r}; choose from {', '.join(_DET_ORDER_WORDS)}")
    return ("You are an OCR text-detection engine. Find every line of text in the image, read it exactly as written, "
            f"and answer with one line per text line{_DET_ORDER_WORDS[order]}: {_DET_SHAPE_WORDS[det_shape]} in "
            "coordinates from 0 to 1000 of the image width and height. Answer with nothing else.")


FAMILY = register_family(ModelFamily(
    name="internvl",
    title="InternVL2 / InternVL3",
    model_type="internvl_chat",
    template="internvl2",
    det_template="internvl2_ocr_det",
    template_prefixes=("internvl",),
    rec_prompt="Read all the text in the image.",
    det_system=det_system,
    codec="swift_ocr.codecs.internvl:InternVLCodec",
    scaffold=chatml("internvl2", SYSTEM, "<img>", "</img>\n", ("<img>", "</img>") + BOX_SPECIALS, bos_tokens=1),
    image_settings=InternVLSettings.from_env,
    image_tokens=_image_tokens,
    env_vars=("MAX_NUM", "INPUT_SIZE"),
    recipe="internvl2_8b",
    counter_hint=("For a transformers-native InternVL folder pass --model-type internvl --template internvl_hf "
                  "(see docs/internvl_cpu.md for the image-only processor it needs without torchvision)."),
    model_type_notes={"internvl": "a transformers-native InternVL, InternVLForConditionalGeneration; without "
                                  "torchvision its folder needs the image-only processor of docs/internvl_cpu.md, "
                                  "which `swift-ocr tiny-model --arch internvl_hf` writes"},
    tiny_archs={
        "internvl_hf": TinyArch("swift_ocr.tiny.models:build_tiny_internvl_hf", "internvl", "internvl_hf"),
        "internvl_hf_112": TinyArch("swift_ocr.tiny.models:build_tiny_internvl_hf_112", "internvl", "internvl_hf"),
    },
))
