"""Label files that list many images (PaddleOCR / PPOCRLabel ``path<TAB>label`` lists, MMOCR ``data_list``): where
an image path named inside such a file points, and images named by more than one item.

Paths are relative to the *image root*: the label file's folder by default (PaddleOCR's ``data_dir`` when the list
sits in it, MMOCR's ``data_root``), or the folder given as ``--image-root`` (dataset option ``image_root``). They
must stay inside that root (``../../secret.png`` or an absolute path elsewhere: kind ``outside_root``) unless
``allow_outside_root`` (:func:`swift_ocr.formats.checks.resolve_inside_root`, the rule of every reader).
"""
from __future__ import annotations

import os
from typing import Dict, Hashable, List, Optional, Sequence, Tuple

from swift_ocr.errors import OcrFormatError
from swift_ocr.formats.checks import resolve_inside_root


def image_root_for(label_file: str, image_root: Optional[str] = None) -> str:
    """The folder the image paths of ``label_file`` are relative to: ``image_root`` when given, else the label file's
    own folder; absolute and normalised."""
    return os.path.normpath(os.path.abspath(image_root or os.path.dirname(os.path.abspath(label_file))))


def resolve_listed_image(path: str, root: str, allow_outside_root: bool, source: str, line: Optional[int],
                         folder_prefix: bool = False) -> str:
    """The absolute, normalised path of an image named ``path`` in a label file, relative to ``root`` (or absolute).

    * A path written with Windows backslashes (``imgs\\img_1.jpg``) is read with ``/`` when no file of the
      backslashed name exists (as DBNet list files, :func:`swift_ocr.formats.layout.pairs_from_list`).
    * ``folder_prefix`` (PPOCRLabel, with the default root): PPOCRLabel saves ``Label.txt`` *inside* the image
      folder and names each image ``<folder name>/<file>`` (``PPOCRLabel.py``, ``getImglabelidx``), i.e. relative to
      the folder above. When ``path`` does not exist under ``root`` but starts with ``root``'s own name and the rest
      exists under ``root``, that file is the image (it lies inside ``root``, so no path leaves it).

    Raises:
        OcrFormatError: kind ``outside_root`` (the path escapes ``root``, unless ``allow_outside_root``). A path that
            does not exist is returned as it is: the image checks report it (kind ``image_missing``).
    """
    if "\\" in path and os.sep == "/" and not os.path.exists(os.path.join(root, path)):
        path = path.replace("\\", "/")
    full = resolve_inside_root(path, root, allow_outside_root, source, line)
    if folder_prefix and not os.path.exists(full) and not os.path.isabs(path):
        head, sep, rest = os.path.normpath(path).partition(os.sep)
        if sep and rest and head == os.path.basename(root):
            inner = resolve_inside_root(rest, root, allow_outside_root, source, line)
            if os.path.exists(inner):
                return inner
    return full


def duplicate_reasons(items: Sequence[Tuple[Optional[str], Hashable, int]], what: str = "line"
                      ) -> Dict[int, str]:
    """Find images named by several items of one label file.

    Args:
        items: ``(image, label, number)`` per item in file order: the resolved image path (None for an item
            without a usable one: never a duplicate), something equal for equal labels (the label text), and the
            item's 1-based line / entry number.
        what: how to name an item in reasons (``line``, ``entry``).

    Returns:
        ``{number: reason}`` for each item to reject with kind ``duplicate_image``: when every item naming an image
        has the same label, the repeats (the first is kept: a file concatenated twice still trains once); when the
        labels differ, every one of them (which one is right cannot be told, as for ``duplicate_stem``).
    """
    groups: Dict[str, List[Tuple[Hashable, int]]] = {}
    for image, label, number in items:
        if image is not None:
            groups.setdefault(image, []).append((label, number))
    out: Dict[int, str] = {}
    for image, group in groups.items():
        if len(group) < 2:
            continue
        numbers = [n for _, n in group]
        if all(label == group[0][0] for label, _ in group):
            for _, n in group[1:]:
                out[n] = f"image {image} is already named by {what} {numbers[0]} with the same label (repeat left out)"
        else:
            shown = ", ".join(map(str, numbers))
            for _, n in group:
                out[n] = (f"image {image} is named by {what}s {shown} with different labels: which one is right "
                          "cannot be told (all rejected; keep one)")
    return out


def item_error(error: Optional[Sequence[str]], source: str, line: Optional[int]) -> None:
    """Raise the ``(kind, reason)`` stored with a listed item, if any.

    Raises:
        OcrFormatError: ``error``'s kind and reason, naming ``source`` and ``line``.
    """
    if error:
        kind, reason = error
        raise OcrFormatError(source, line, reason, kind)
