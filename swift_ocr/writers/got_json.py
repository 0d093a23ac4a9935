"""Writer of GOT-OCR2's own training-data format (github Ucas-HaoranWei/GOT-OCR2.0,
``GOT/data/conversation_dataset_qwen.py``; read back by :mod:`swift_ocr.formats.got_json`): one JSON list of ::

    {"image": "path.jpg" or ["a.jpg", ...],
     "conversations": [{"from": "human", "value": "<image>\\nOCR: "}, {"from": "gpt", "value": "the text"}]}

``swift-ocr convert --output-format got`` (the default for a ``.json`` output); image paths are written relative to
the output file's folder when the image lies inside it, absolute otherwise.
"""
from __future__ import annotations

import json
import os
from typing import Iterable, List, Optional

from swift_ocr.families.got import OCR_PROMPT
from swift_ocr.io_utils import atomic_write
from swift_ocr.sample import Sample
from swift_ocr.writers.registry import OutputWriter, register_writer

#: The human turn GOT's own data uses (``<image>`` tag, a newline, GOT's plain OCR prompt).
GOT_PROMPT = "<image>\n" + OCR_PROMPT


def _relative_if_inside(path: str, root: str) -> str:
    path, root = os.path.normpath(os.path.abspath(path)), os.path.normpath(os.path.abspath(root))
    try:
        inside = os.path.commonpath([root, path]) == root
    except ValueError:
        inside = False
    return os.path.relpath(path, root) if inside else path


def to_got_entry(sample: Sample, prompt: str = GOT_PROMPT, image_root: Optional[str] = None) -> dict:
    """One GOT conversation entry; image paths relative to ``image_root`` when given and the image lies inside it,
    absolute otherwise (a ``../`` path would be refused when the file is read back, see
    :func:`swift_ocr.formats.got_json.sample_from_entry`).
    The human turn is the sample's own ``Sample.prompt`` when set (``<image>\\n`` per image in front), else
    ``prompt``.

    Raises:
        ValueError: the sample has no image file (encoded bytes only); write those to files first.
    """
    if sample.image_bytes is not None or not sample.images:
        raise ValueError(f"{sample.where()}: GOT JSON needs image files, not in-memory bytes")
    paths = [_relative_if_inside(p, image_root) if image_root else p for p in sample.images]
    n = len(paths)
    if sample.prompt is not None:
        prompt = "<image>\n" + sample.prompt
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


class GotJsonWriter(OutputWriter):
    """``--output-format got``: one GOT conversation JSON list per split (a whole-file writer)."""

    name = "got"
    description = "GOT-OCR2 conversation JSON (a list of {image, conversations})"
    suffixes = (".json",)
    line_based = False

    def check(self, row):
        if row.task.task == "det":
            raise ValueError("GOT's conversation JSON has no place for detection tile metadata; write ms-swift jsonl "
                             "for --task det")

    def write_file(self, f, samples, path, row):
        """:func:`to_got_entry` of each sample (human turn ``<image>\\n`` + the instruction, or the sample's own
        prompt), image paths relative to ``path``'s folder, as an indented JSON list and a final newline."""
        entries = [to_got_entry(s, "<image>\n" + row.instruction, os.path.dirname(path)) for s in samples]
        json.dump(entries, f, ensure_ascii=False, indent=1)
        f.write("\n")


register_writer(GotJsonWriter())
