"""Writer for ms-swift's standard multimodal jsonl (ms-swift docs, "Custom Dataset"):
``{"messages": [{"role": "user", "content": "<image>..."}, {"role": "assistant", "content": "..."}],
"images": ["path", ...]}`` -- one ``<image>`` tag per entry of ``images``, in order."""
from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any, Dict, List, Optional

from ..io_utils import dumps_line


def to_swift_row(query: str, response: str, images: List[str], system: Optional[str] = None) -> Dict:
    """One ms-swift row.

    Raises:
        ValueError: the number of ``<image>`` tags in ``query`` differs from ``len(images)``.
    """
    if query.count("<image>") != len(images):
        raise ValueError(f"{query.count('<image>')} <image> tag(s) for {len(images)} image(s)")
    messages = [{"role": "user", "content": query}, {"role": "assistant", "content": response}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return {"messages": messages, "images": list(images)}


def swift_row_line(query: str, response: str, images: List[str], system: Optional[str] = None,
                   extra: Optional[Dict[str, Any]] = None) -> str:
    """``dumps_line(to_swift_row(query, response, images, system) | extra)`` -- the same text, character for
    character (``json.dumps(..., ensure_ascii=False)``'s separators and string escaping, keys in that order), built
    from the encoded strings without the intermediate dicts: the converter writes one per sample.

    Raises:
        ValueError: the number of ``<image>`` tags in ``query`` differs from ``len(images)``.
    """
    if query.count("<image>") != len(images):
        raise ValueError(f"{query.count('<image>')} <image> tag(s) for {len(images)} image(s)")
    head = '{"messages": ['
    if system is not None:
        head += '{"role": "system", "content": ' + encode_basestring(system) + '}, '
    line = (head + '{"role": "user", "content": ' + encode_basestring(query) + '}, {"role": "assistant", "content": '
            + encode_basestring(response) + '}], "images": [' + ", ".join(map(encode_basestring, images)) + "]")
    if extra:
        return line + ", " + dumps_line(extra)[1:]  # '{"k": v, ...}\n' without its "{"
    return line + "}\n"
