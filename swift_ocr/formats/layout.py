"""Find (image, label file) pairs in the folder layouts OCR datasets ship with.

Layouts (all paths returned absolute):

* **folder pair** -- an image folder and a label folder matched by file stem. A label for image
  ``<stem>.<ext>`` may be called ``<stem>.txt``, ``<stem>.csv``, ``gt_<stem>.txt`` (ICDAR 2015,
  e.g. ``gt_img_1.txt`` for ``img_1.jpg``) or, for word-box labels, ``<stem>.json``.
* **list file** -- DBNet's ``train_list.txt`` / ``test_list.txt``: one ``<image> <label>`` pair per line,
  paths relative to the list file's folder (github MhLiao/DB, ``datasets/icdar2015``). Paths must stay inside
  that folder (``../../etc/x.jpg`` is refused, kind ``outside_root``) unless ``allow_outside_root``.
* **dataset root** -- a folder holding one of the known image/label sub-folder pairs
  (``imgs``/``gts`` as ICDAR 2015 in MMOCR, ``img``/``box`` as SROIE, ``images``/``labels``,
  ``train_images``/``train_gts``); resolved to a folder pair.

Nothing is dropped silently: an image without a label (kind ``no_label``), a label without an image (``no_image``),
and two images sharing one stem (``duplicate_stem``: both images and their label) are returned as
:class:`~swift_ocr.errors.Rejection` records.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..errors import OcrFormatError, Rejection
from .checks import resolve_inside_root
from .text_io import decode_label_bytes

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")
ROOT_SUBFOLDERS = (("imgs", "gts"), ("img", "box"), ("images", "labels"), ("train_images", "train_gts"),
                   ("test_images", "test_gts"))


@dataclass(frozen=True)
class Pair:
    """An image file and the label file that annotates it (absolute paths); ``line`` is the list-file line."""

    image: str
    label: str
    list_file: Optional[str] = None
    line: Optional[int] = None

    def to_row(self) -> Dict[str, Optional[str]]:
        """A flat dict (one ms-swift / Hugging Face dataset row per pair)."""
        return {"image": self.image, "label": self.label, "list_file": self.list_file, "line": self.line}


def _label_stems(name: str, label_exts: Sequence[str]) -> List[str]:
    """Image stems a label file name may belong to: ``gt_x.txt`` -> ``['gt_x', 'x']``."""
    stem, ext = os.path.splitext(name)
    if ext.lower() not in label_exts:
        return []
    stems = [stem]
    if stem.startswith("gt_"):
        stems.append(stem[3:])
    if stem.lower().endswith(IMAGE_EXTENSIONS):  # DBNet-style ``img_1.jpg.txt``
        stems.append(os.path.splitext(stem)[0])
    return stems


def pairs_from_folders(images_dir, labels_dir, label_exts: Sequence[str] = (".txt", ".csv"),
                       ) -> Tuple[List[Pair], List[Rejection]]:
    """Match images to labels by stem.

    Args:
        images_dir: folder of images (any of :data:`IMAGE_EXTENSIONS`, case-insensitive), not recursive.
        labels_dir: folder of label files with one of ``label_exts``.
        label_exts: accepted label extensions, lower case with the dot.

    Returns:
        ``(pairs, rejections)``: pairs sorted by image path; rejections for images without a label, labels
        without an image, and duplicate stems (``a.jpg`` and ``a.png``: both rejected, since neither can be
        told apart from its label, and so is the label).

    Raises:
        OcrFormatError: a folder does not exist.
    """
    images_dir, labels_dir = Path(images_dir).resolve(), Path(labels_dir).resolve()
    for d in (images_dir, labels_dir):
        if not d.is_dir():
            raise OcrFormatError(str(d), None, "folder does not exist", "file_not_found")
    label_exts = tuple(e.lower() for e in label_exts)
    rejections: List[Rejection] = []

    images: Dict[str, List[Path]] = {}
    for p in sorted(images_dir.iterdir()):
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS:
            images.setdefault(p.stem, []).append(p)
    duplicates: Dict[str, List[Path]] = {}
    for stem, paths in list(images.items()):
        if len(paths) > 1:
            for p in paths:
                rejections.append(Rejection(str(p), None, f"duplicate image stem {stem!r}: "
                                            f"{', '.join(q.name for q in paths)}", "duplicate_stem"))
            duplicates[stem] = images.pop(stem)

    labels: Dict[str, Path] = {}
    unmatched_labels: List[Path] = []
    for p in sorted(labels_dir.iterdir()):
        if not p.is_file():
            continue
        stems = _label_stems(p.name, label_exts)
        if not stems:
            continue
        for stem in stems:
            if stem in images:
                if stem in labels:
                    rejections.append(Rejection(str(p), None, f"second label for image stem {stem!r} "
                                                f"(already matched {labels[stem].name})", "duplicate_stem"))
                else:
                    labels[stem] = p
                break
            if stem in duplicates:
                rejections.append(Rejection(str(p), None, f"label for duplicate image stem {stem!r} "
                                            f"({', '.join(q.name for q in duplicates[stem])})", "duplicate_stem"))
                break
        else:
            unmatched_labels.append(p)

    pairs = []
    for stem, paths in sorted(images.items()):
        if stem in labels:
            pairs.append(Pair(str(paths[0]), str(labels[stem])))
        else:
            rejections.append(Rejection(str(paths[0]), None, "no label file for image", "no_label"))
    for p in unmatched_labels:
        rejections.append(Rejection(str(p), None, "no image for label file", "no_image"))
    pairs.sort(key=lambda pr: pr.image)
    return pairs, rejections


def pairs_from_list(list_file, encoding: Optional[str] = None,
                    allow_outside_root: bool = False) -> Tuple[List[Pair], List[Rejection]]:
    """Read a DBNet list file: each non-empty line is ``<image path> <label path>`` (whitespace separated;
    paths relative to the list file's folder). A line with one path only is taken as the image, and its
    label is looked up as ``gt_<stem>.txt`` next to it or in a sibling ``*_gts`` folder.

    Args:
        encoding: the list file's encoding; None: UTF-8 (BOM allowed), then GB18030.
        allow_outside_root: accept paths outside the list file's folder (refused by default).

    Returns ``(pairs, rejections)``; rejections name the list file and line (kinds ``bad_list_line``,
    ``outside_root``, ``file_not_found``).

    Raises:
        OcrFormatError: the list file cannot be read or decoded.
    """
    list_path = Path(list_file).resolve()
    try:
        data = list_path.read_bytes()
    except OSError as e:
        kind = "file_not_found" if isinstance(e, FileNotFoundError) else "unreadable_file"
        raise OcrFormatError(str(list_path), None, f"cannot read list file: {e}", kind) from e
    text, _ = decode_label_bytes(data, str(list_path), encoding)
    base = list_path.parent
    pairs, rejections = [], []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) > 2:
            rejections.append(Rejection(str(list_path), line_no, f"expected '<image> <label>', got {raw[:80]!r}",
                                        "bad_list_line"))
            continue
        try:
            resolved = [Path(resolve_inside_root(p, str(base), allow_outside_root, str(list_path), line_no))
                        for p in parts]
        except OcrFormatError as e:
            rejections.append(Rejection.from_error(e))
            continue
        if len(resolved) == 1:
            image = resolved[0]
            candidates = [image.with_name(f"gt_{image.stem}.txt")]
            gts_dir = image.parent.with_name(image.parent.name.replace("images", "gts"))
            candidates += [gts_dir / f"gt_{image.stem}.txt", gts_dir / f"{image.name}.txt"]
            label = next((c for c in candidates if c.is_file()), candidates[0])
        else:
            image, label = resolved
        missing = [str(p) for p in (image, label) if not p.is_file()]
        if missing:
            rejections.append(Rejection(str(list_path), line_no, f"file not found: {', '.join(missing)}",
                                        "file_not_found"))
            continue
        pairs.append(Pair(str(image.resolve()), str(label.resolve()), str(list_path), line_no))
    return pairs, rejections


def resolve_root(root) -> Tuple[Path, Path]:
    """Find the image and label sub-folders of a dataset root (see module docstring).

    Raises:
        OcrFormatError: no known pair of sub-folders exists under ``root``.
    """
    root = Path(root).resolve()
    for img_name, lbl_name in ROOT_SUBFOLDERS:
        if (root / img_name).is_dir() and (root / lbl_name).is_dir():
            return root / img_name, root / lbl_name
    known = ", ".join(f"{a}/+{b}/" for a, b in ROOT_SUBFOLDERS)
    raise OcrFormatError(str(root), None, f"no image/label folders found (looked for {known}); "
                         "pass --images and --labels explicitly", "file_not_found")


def discover_pairs(images=None, labels=None, list_file=None, root=None,
                   label_exts: Iterable[str] = (".txt", ".csv"), encoding: Optional[str] = None,
                   allow_outside_root: bool = False) -> Tuple[List[Pair], List[Rejection]]:
    """One entry point for the three layouts: ``images``+``labels`` folders, a ``list_file``, or a ``root``.
    ``encoding`` and ``allow_outside_root`` apply to list files (see :func:`pairs_from_list`).

    Raises:
        ValueError: not exactly one layout was given.
        OcrFormatError: see the layout functions.
    """
    given = [images is not None or labels is not None, list_file is not None, root is not None]
    if sum(given) != 1:
        raise ValueError("give exactly one of: images+labels folders, a list file, or a dataset root")
    if list_file is not None:
        return pairs_from_list(list_file, encoding, allow_outside_root)
    if root is not None:
        images, labels = resolve_root(root)
    if images is None or labels is None:
        raise ValueError("both an images folder and a labels folder are needed")
    return pairs_from_folders(images, labels, tuple(label_exts))
