"""GOT-OCR2's own training-data format (github Ucas-HaoranWei/GOT-OCR2.0, ``GOT/data/conversation_dataset_qwen.py``):
a JSON list of ::

    {"image": "relative/or/absolute/path.jpg",
     "conversations": [{"from": "human", "value": "<image>\\nOCR: "}, {"from": "gpt", "value": "the text"}]}

Image paths are relative to an image root (GOT's data config); by default the JSON file's folder.
``image`` may also be a list of paths (one ``<image>`` tag each). Paths that lead outside the image root
(``../secret.png``, an absolute path elsewhere) are refused (kind ``outside_root``) unless ``allow_outside_root``.

Each entry keeps its own human turn as ``Sample.prompt`` (without ``<image>`` tags): a box prompt
``[x1, y1, x2, y2] OCR: `` asks for one region's text, ``OCR with format: `` for formatted text, and the ``rec``
task carries it to the target family (:func:`swift_ocr.families.prompts.carry_prompt`) or rejects the entry
(kind ``unsupported_prompt``) -- never rewrites it to the whole-page default.

The writer of this format is :mod:`swift_ocr.writers.got_json`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Optional, Tuple

from swift_ocr.errors import OcrFormatError, read_error
from swift_ocr.families.prompts import source_instruction
from swift_ocr.sample import Sample
from swift_ocr.formats.checks import resolve_inside_root
from swift_ocr.formats.registry import FileFormat, FormatOption, register_format
from swift_ocr.formats.text_io import check_text, load_json_bytes


def load_entries(path) -> list:
    """The JSON list of a GOT conversation file.

    Raises:
        OcrFormatError: unreadable file, invalid JSON (with line), or not a list.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise read_error(source, e) from e
    data = load_json_bytes(raw, source)
    if not isinstance(data, list):
        raise OcrFormatError(source, None, f"expected a JSON list of conversations, got {type(data).__name__}",
                             "bad_record")
    return data


def sample_from_entry(entry, source: str, index: int, image_root: Optional[str] = None,
                      allow_outside_root: bool = False) -> Sample:
    """Turn one conversation entry (0-based ``index`` in the list) into a :class:`Sample`.

    ``Sample.line`` holds ``index + 1``; ``Sample.prompt`` the human turn without its ``<image>`` tags
    (:func:`swift_ocr.families.prompts.source_instruction`). Only single-turn entries (one human, one gpt message) are
    accepted.

    Raises:
        OcrFormatError: kind ``bad_record``: missing ``image``/``conversations``, not exactly one human+gpt pair, or a
            human turn whose ``<image>`` count differs from the number of images; kind ``bad_text``: a human turn
            that cannot be written as UTF-8; kind ``outside_root``: an image path outside the image root.
    """
    no = index + 1
    if not isinstance(entry, dict) or "conversations" not in entry or "image" not in entry:
        raise OcrFormatError(source, no, "entry needs 'image' and 'conversations'", "bad_record")
    images = entry["image"] if isinstance(entry["image"], list) else [entry["image"]]
    if not images or not all(isinstance(i, str) and i for i in images):
        raise OcrFormatError(source, no, f"bad 'image' value: {entry['image']!r:.80}", "bad_record")
    conv = entry["conversations"]
    if (not isinstance(conv, list) or len(conv) != 2 or not all(isinstance(m, dict) for m in conv)
            or conv[0].get("from") != "human" or conv[1].get("from") != "gpt"):
        raise OcrFormatError(source, no, "expected exactly one human turn then one gpt turn "
                             "(multi-turn conversations are not converted)", "bad_record")
    human, text = conv[0].get("value"), conv[1].get("value")
    if not isinstance(human, str) or not isinstance(text, str):
        raise OcrFormatError(source, no, "conversation values must be strings", "bad_record")
    if human.count("<image>") != len(images):
        raise OcrFormatError(source, no, f"{human.count('<image>')} <image> tag(s) for {len(images)} image(s)",
                             "bad_record")
    check_text(human, source, no)  # the prompt is written out too
    root = image_root or os.path.dirname(os.path.abspath(source))
    paths = [resolve_inside_root(p, root, allow_outside_root, source, no) for p in images]
    return Sample(images=paths, text=text, source=source, line=no, prompt=source_instruction(human))


def image_key(entry, source: str, index: int, image_root: Optional[str] = None) -> str:
    """The identity of an entry's image(s), for the train/val split (entries showing the same image land in the
    same split): the image paths resolved against the image root as :func:`sample_from_entry` resolves them
    (absolute, normalised; lexical, like :func:`~swift_ocr.formats.checks.resolve_inside_root`), joined with
    ``"\\n"`` for a multi-image entry; ``"<source>#<index + 1>"`` when the entry has no usable ``image`` value (it is
    rejected when read). Reads no file."""
    images = entry.get("image") if isinstance(entry, dict) else None
    images = images if isinstance(images, list) else [images]
    if not images or not all(isinstance(i, str) and i for i in images):
        return f"{source}#{index + 1}"
    root = os.path.normpath(os.path.abspath(image_root or os.path.dirname(os.path.abspath(source))))
    return "\n".join(os.path.normpath(os.path.join(root, p)) for p in images)


def iter_got_samples(path, image_root: Optional[str] = None,
                     allow_outside_root: bool = False) -> Iterator[Tuple[int, object]]:
    """Yield ``(entry_no, Sample or OcrFormatError)`` for each entry (1-based), so one bad entry does not stop
    the others."""
    source = str(path)
    for i, entry in enumerate(load_entries(path)):
        try:
            yield i + 1, sample_from_entry(entry, source, i, image_root, allow_outside_root)
        except OcrFormatError as e:
            yield i + 1, e


class GotJsonFormat(FileFormat):
    """``--format got``: a GOT conversation JSON list (module docstring). Own option ``image_root``: the folder the
    entries' image paths are relative to (default: the JSON file's folder)."""

    name = "got"
    description = "GOT-OCR2 conversation JSON (a list of {image, conversations})"
    options = (FormatOption("image_root", None, "the folder image paths in the file are relative to (default: the "
                            "file's folder)", path=True),)

    def load_items(self, path, params, options):
        return load_entries(path)

    def item_key(self, item, path, index, params):
        return image_key(item, path, index, params.get("image_root"))

    def item_sample(self, item, path, index, params, options):
        return sample_from_entry(item, path, index, params.get("image_root"), options.allow_outside_root)


register_format(GotJsonFormat())
