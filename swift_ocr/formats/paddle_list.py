"""PaddleOCR label lists: one image per line, ``<image path><TAB><label>`` (PaddleOCR ``doc/doc_en/dataset/
ocr_datasets_en.md``; read by ``ppocr/data/simple_dataset.py``, ``SimpleDataSet``, whose default delimiter is a tab).
The label is JSON for detection (:mod:`swift_ocr.formats.paddle_det`) and the text for recognition
(:mod:`swift_ocr.formats.paddle_rec`). This module lists the lines; the two formats read the labels.

* Files are decoded with :func:`swift_ocr.formats.text_io.decode_label_bytes` (UTF-8 with or without BOM, then
  GB18030, or the given encoding). Lines end at LF, CRLF or CR (as Python's ``readlines`` on a text file, which
  PaddleOCR uses; other Unicode line separators stay inside a label); blank lines are skipped, keeping the numbering.
* Image paths are relative to the label file's folder, or to ``--image-root`` (PaddleOCR's ``data_dir``), and must
  stay inside it (:mod:`swift_ocr.formats.image_lists`). PPOCRLabel's ``Label.txt`` / ``Cache.cach`` lie in the
  image folder and name images ``<folder>/<file>``: found as well (see
  :func:`~swift_ocr.formats.image_lists.resolve_listed_image`).
* An image named by several lines: :func:`~swift_ocr.formats.image_lists.duplicate_reasons` (kind
  ``duplicate_image``).

Every problem of one line (no tab: ``bad_list_line``; a path leaving the root: ``outside_root``; ...) is stored with
the listed item and raised when the item is read, naming the file and line; the other lines are read as usual.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Dict, Hashable, List, Optional

from swift_ocr.errors import OcrFormatError
from swift_ocr.formats.checks import ReadOptions
from swift_ocr.formats.image_lists import duplicate_reasons, image_root_for, resolve_listed_image
from swift_ocr.formats.text_io import decode_label_bytes, read_label_bytes

#: PaddleOCR's line ends (text-mode ``readlines``: universal newlines).
_LINE_END = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> List[tuple]:
    """``[(line_number, line), ...]`` of decoded text, 1-based, split at LF, CRLF and CR only; blank lines (nothing
    but whitespace) skipped."""
    return [(no, line) for no, line in enumerate(_LINE_END.split(text), 1) if line.strip()]


def list_items(path: str, options: ReadOptions, image_root: Optional[str] = None, tabs_in_label: bool = True,
               label_key: Callable[[str], Hashable] = str) -> List[Dict[str, Any]]:
    """The lines of a PaddleOCR label list as JSON-serialisable items, in file order::

        {"line": 1-based line number, "image": absolute image path or None, "label": the text after the first tab
         (None when the line has none), "error": [kind, reason] or None, "fixes": {key: n}}

    Args:
        path: the label file.
        options: the reading options (``encoding``, ``allow_outside_root``).
        image_root: the folder image paths are relative to (default: the label file's folder; then PPOCRLabel's
            ``<folder>/<file>`` paths are found too).
        tabs_in_label: False (recognition): a label holding a tab is an error (kind ``bad_list_line``), since
            PaddleOCR keeps only the field after the first tab and would train on part of the text.
        label_key: what makes two labels equal, for images named twice (e.g. parsed JSON).

    ``error`` is set for a line without a tab or with an empty path (kind ``bad_list_line``), a path that is a JSON
    list of images (PaddleOCR picks one at random each epoch; ``bad_record``), a path leaving the root
    (``outside_root``) and images named by several lines (``duplicate_image``). ``fixes`` of the first item count
    the file once in ``gb18030_files`` when it was not UTF-8 and was decoded as GB18030.

    Raises:
        OcrFormatError: the file cannot be read (``file_not_found``, ``unreadable_file``) or decoded
            (``bad_encoding``).
    """
    source = str(path)
    text, used = decode_label_bytes(read_label_bytes(source), source, options.encoding)
    root = image_root_for(source, image_root)
    items: List[Dict[str, Any]] = []
    for no, line in split_lines(text):
        item: Dict[str, Any] = {"line": no, "image": None, "label": None, "error": None, "fixes": {}}
        items.append(item)
        image, tab, label = line.partition("\t")
        if not tab:
            item["error"] = ["bad_list_line", f"expected '<image path><TAB><label>' (a PaddleOCR label line), found "
                                              f"no tab: {line[:80]!r}"]
            continue
        item["label"] = label
        if not image.strip():
            item["error"] = ["bad_list_line", f"empty image path before the tab: {line[:80]!r}"]
        elif image.lstrip().startswith("["):
            item["error"] = ["bad_record", f"the image is a list of paths ({image[:60]!r}): PaddleOCR picks one of "
                                           "them at random each epoch, which a fixed target cannot follow; give one "
                                           "path per line"]
        elif not tabs_in_label and "\t" in label:
            item["error"] = ["bad_list_line", f"more than one tab in {line[:80]!r}: PaddleOCR reads only the field "
                                              "after the first tab, so the rest of the label would be lost"]
        else:
            try:
                item["image"] = resolve_listed_image(image, root, options.allow_outside_root, source, no,
                                                     folder_prefix=image_root is None)
            except OcrFormatError as e:  # outside_root
                item["error"] = [e.kind, e.reason]
    dups = duplicate_reasons([(it["image"], label_key(it["label"]), it["line"]) for it in items if not it["error"]])
    for it in items:
        if it["line"] in dups:
            it["error"] = ["duplicate_image", dups[it["line"]]]
    if items and used == "gb18030" and not options.encoding:
        items[0]["fixes"]["gb18030_files"] = 1  # not UTF-8: counted once, so that a wrong guess does not go unnoticed
    return items


def json_key(label: str) -> Hashable:
    """A label's JSON value in a comparable form (sorted keys, no spacing), or the text itself when it is not JSON:
    two detection labels that differ only in spacing or key order are the same label."""
    try:
        return json.dumps(json.loads(label), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):
        return label


def item_key(item: Dict[str, Any], path: str) -> str:
    """The train/val split key of a listed item: its resolved image path (lines naming one image share a split),
    or ``<path>#<line>`` for a line without a usable one."""
    return item["image"] or f"{path}#{item['line']}"
