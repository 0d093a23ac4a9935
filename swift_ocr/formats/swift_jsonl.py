"""Writer for ms-swift's standard multimodal jsonl (ms-swift docs, "Custom Dataset"):
``{"messages": [{"role": "user", "content": "<image>..."}, {"role": "assistant", "content": "..."}],
"images": ["path", ...]}`` -- one ``<image>`` tag per entry of ``images``, in order."""
from __future__ import annotations

from typing import Dict, List, Optional


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
