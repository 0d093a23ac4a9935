"""GOT-OCR2's own training-data format (github Ucas-HaoranWei/GOT-OCR2.0, ``GOT/data/conversation_dataset_qwen.py``):
a JSON list of ::

    {"image": "relative/or/absolute/path.jpg",
     "conversations": [{"from": "human", "value": "<image>\\nOCR: "}, {"from": "gpt", "value": "the text"}]}

Image paths are relative to an image root (GOT's data config); by default the JSON file's folder.
``image`` may also be a list of paths (one ``<image>`` tag each).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Tuple

from ..errors import OcrFormatError
from ..io_utils import atomic_write
from ..sample import Sample

GOT_PROMPT = "<image>\nOCR: "


def load_entries(path) -> list:
    """The JSON list of a GOT conversation file.

    Raises:
        OcrFormatError: unreadable file, invalid JSON (with line), or not a list.
    """
    source = str(path)
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8-sig"))
    except OSError as e:
        raise OcrFormatError(source, None, f"cannot read: {e}") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise OcrFormatError(source, getattr(e, "lineno", None), f"invalid JSON: {e}") from e
    if not isinstance(data, list):
        raise OcrFormatError(source, None, f"expected a JSON list of conversations, got {type(data).__name__}")
    return data


def sample_from_entry(entry, source: str, index: int, image_root: Optional[str] = None) -> Sample:
    """Turn one conversation entry (0-based ``index`` in the list) into a :class:`Sample`.

    ``Sample.line`` holds ``index + 1``. Only single-turn entries (one human, one gpt message) are accepted.

    Raises:
        OcrFormatError: missing ``image``/``conversations``, not exactly one human+gpt pair, or a human turn whose
            ``<image>`` count differs from the number of images.
    """
    no = index + 1
    if not isinstance(entry, dict) or "conversations" not in entry or "image" not in entry:
        raise OcrFormatError(source, no, "entry needs 'image' and 'conversations'")
    images = entry["image"] if isinstance(entry["image"], list) else [entry["image"]]
    if not images or not all(isinstance(i, str) and i for i in images):
        raise OcrFormatError(source, no, f"bad 'image' value: {entry['image']!r}")
    conv = entry["conversations"]
    if (not isinstance(conv, list) or len(conv) != 2 or not all(isinstance(m, dict) for m in conv)
            or conv[0].get("from") != "human" or conv[1].get("from") != "gpt"):
        raise OcrFormatError(source, no, "expected exactly one human turn then one gpt turn "
                             "(multi-turn conversations are not converted)")
    human, text = conv[0].get("value"), conv[1].get("value")
    if not isinstance(human, str) or not isinstance(text, str):
        raise OcrFormatError(source, no, "conversation values must be strings")
    if human.count("<image>") != len(images):
        raise OcrFormatError(source, no, f"{human.count('<image>')} <image> tag(s) for {len(images)} image(s)")
    root = image_root or os.path.dirname(os.path.abspath(source))
    paths = [p if os.path.isabs(p) else os.path.join(root, p) for p in images]
    return Sample(images=paths, text=text, source=source, line=no)


def iter_got_samples(path, image_root: Optional[str] = None) -> Iterator[Tuple[int, object]]:
    """Yield ``(entry_no, Sample or OcrFormatError)`` for each entry (1-based), so one bad entry does not stop
    the others."""
    source = str(path)
    for i, entry in enumerate(load_entries(path)):
        try:
            yield i + 1, sample_from_entry(entry, source, i, image_root)
        except OcrFormatError as e:
            yield i + 1, e


def to_got_entry(sample: Sample, prompt: str = GOT_PROMPT, image_root: Optional[str] = None) -> dict:
    """One GOT conversation entry; image paths relative to ``image_root`` when given.

    Raises:
        ValueError: the sample has no image file (encoded bytes only); write those to files first.
    """
    if sample.image_bytes is not None or not sample.images:
        raise ValueError(f"{sample.where()}: GOT JSON needs image files, not in-memory bytes")
    paths = [os.path.relpath(p, image_root) if image_root else p for p in sample.images]
    n = len(paths)
    value = prompt if prompt.count("<image>") == n else "<image>\n" * n + prompt.replace("<image>\n", "").replace(
        "<image>", "")
    return {"image": paths[0] if n == 1 else paths,
            "conversations": [{"from": "human", "value": value}, {"from": "gpt", "value": sample.text}]}


def write_got_json(samples: Iterable[Sample], path, prompt: str = GOT_PROMPT,
                   image_root: Optional[str] = None) -> int:
    """Write samples as a GOT conversation JSON list (atomically). Returns the number of entries."""
    entries: List[dict] = [to_got_entry(s, prompt, image_root) for s in samples]
    with atomic_write(path) as f:
        json.dump(entries, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return len(entries)
