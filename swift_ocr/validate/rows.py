"""Checks of one parsed ms-swift row's shape and messages (no images, boxes or tokens).

A row is ms-swift's standard multimodal jsonl object (ms-swift docs, "Custom Dataset")::

    {"messages": [{"role": "user", "content": "<image>OCR: "}, {"role": "assistant", "content": "..."}],
     "images": ["path.jpg" | {"path": "path.jpg", "bytes": null}, ...]}

* :func:`row_shape`: a non-empty ``messages`` list of ``{"role", "content"}`` dicts, roles among ms-swift's
  (:data:`ROLES`), string contents, a system message only in first place, and ``images`` (or ``image``) a list of
  strings / dicts [``bad_row``];
* :func:`image_tag_problem`: the number of ``<image>`` tags in the messages (all of them, as ms-swift counts) equals
  the number of images [``image_tag_mismatch``] - ms-swift would silently prepend missing tags to the first message,
  or leave surplus tags unreplaced;
* :func:`target_problem`: the last message is a non-blank assistant message, the training target [``empty_target``];
* :func:`row_digest`: the identity of a row's images and messages [``duplicate``].

Functions return the problem's message (None: no problem); none raises for a bad row.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, List, Optional, Sequence, Tuple

#: ms-swift's message roles (``swift/dataset/preprocessor/core.py``, ``_check_messages``).
ROLES = frozenset({"system", "user", "tool_call", "tool_response", "tool", "assistant"})


def row_shape(row: Any) -> Tuple[Optional[str], List[Any]]:
    """``(reason, images)``: reason is None for a well-formed row; images normalised to a list."""
    if not isinstance(row, dict):
        return f"a row must be a JSON object, got {type(row).__name__}", []
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty list", []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            return f"messages[{i}] must be an object", []
        if m.get("role") not in ROLES:
            return f"messages[{i}] has role {m.get('role')!r}; ms-swift accepts {', '.join(sorted(ROLES))}", []
        if not isinstance(m.get("content"), str):
            return f"messages[{i}] content must be a string, got {type(m.get('content')).__name__}", []
        if m["role"] == "system" and i > 0:
            return f"messages[{i}] is a system message; ms-swift accepts one only as the first message", []
    images = row.get("images", row.get("image"))
    if images is None:
        images = []
    elif isinstance(images, (str, dict)):
        images = [images]
    elif not isinstance(images, list):
        return f"'images' must be a list, got {type(images).__name__}", []
    return None, images


def image_tag_problem(messages: Sequence[dict], n_images: int) -> Optional[str]:
    """The ``image_tag_mismatch`` message when the ``<image>`` tags of ``messages`` (a shape-checked row's) are not
    ``n_images``; None when they are."""
    n_tags = sum(m["content"].count("<image>") for m in messages)
    if n_tags == n_images:
        return None
    return (f"{n_tags} <image> tag(s) in the messages but {n_images} image(s)"
            + ("; ms-swift would prepend the missing tags to the first message" if n_tags < n_images
               else "; ms-swift would leave the surplus tags unreplaced"))


def target(messages: Sequence[dict]) -> Optional[str]:
    """The training target: the last message's content when it is an assistant message, else None."""
    last = messages[-1]
    return last["content"] if last.get("role") == "assistant" else None


def target_problem(messages: Sequence[dict]) -> Optional[str]:
    """The ``empty_target`` message when ``messages`` end without a non-blank assistant message; None otherwise."""
    text = target(messages)
    if text is None:
        return f"the last message is a {messages[-1]['role']!r} message; training needs an assistant target"
    if not text.strip():
        return "the assistant target is empty" + (" (whitespace only)" if text else "")
    return None


def row_digest(messages: Sequence[dict], image_keys: Sequence[str]) -> str:
    """SHA-1 hex digest of a row's messages and its images' identities
    (:attr:`~swift_ocr.validate.image_refs.ImageRef.key`): equal digests are ``duplicate`` rows."""
    key = json.dumps({"m": messages, "i": list(image_keys)}, sort_keys=True, ensure_ascii=False)
    # surrogatepass: a lone surrogate ("\ud800" in the JSON) is hashed as its own code point, no error
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()
