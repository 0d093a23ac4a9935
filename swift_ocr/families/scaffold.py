"""The chat markup of a model family's ms-swift template, as the token estimate of ``swift-ocr validate`` lays a row
out (:func:`swift_ocr.validate.token_budget.estimate_row`).

Each family module declares its :class:`Scaffold`, copied from ms-swift 4.6.0's registered template
(``swift.template.TEMPLATE_MAPPING[template]``: ``prefix``, ``prompt``, ``chat_sep``, ``suffix``, ``system_prefix``,
``default_system``, ``auto_add_bos``) and checked against it in tests/test_token_budget.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple


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


#: ChatML's special tokens (Qwen's ``<|im_start|>`` / ``<|im_end|>``), one token each.
CHATML_SPECIALS = ("<|im_start|>", "<|im_end|>")


def chatml(template: str, default_system: Optional[str], image_prefix: str, image_suffix: str,
           specials: Tuple[str, ...] = (), bos_tokens: int = 0) -> Scaffold:
    """A :class:`Scaffold` with ChatML markup (ms-swift's ``ChatmlTemplateMeta`` / ``QwenTemplateMeta``: prompt
    ``<|im_start|>user\\n{{QUERY}}<|im_end|>\\n<|im_start|>assistant\\n``, suffix and chat_sep ``<|im_end|>\\n``,
    system ``<|im_start|>system\\n{{SYSTEM}}<|im_end|>\\n``, no prefix); :data:`CHATML_SPECIALS` are added to
    ``specials``."""
    return Scaffold(template=template, prefix="", bos_tokens=bos_tokens,
                    system_prefix="<|im_start|>system\n{{SYSTEM}}<|im_end|>\n", default_system=default_system,
                    prompt="<|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n", suffix="<|im_end|>\n",
                    chat_sep="<|im_end|>\n", image_prefix=image_prefix, image_suffix=image_suffix,
                    specials=CHATML_SPECIALS + tuple(specials))
