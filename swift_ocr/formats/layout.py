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
from collections.abc import Sequence as _SequenceABC
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import OcrFormatError, Rejection
from .checks import resolve_inside_root
from .text_io import decode_label_bytes

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")
_IMAGE_EXTENSIONS_B = tuple(os.fsencode(e) for e in IMAGE_EXTENSIONS)
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


class FolderPairs(_SequenceABC):
    """The pairs of a folder layout, held compactly: a read-only sequence of :class:`Pair` (absolute paths), sorted by
    image path, that stores only the two folders and the file *names* (numpy byte-string arrays, a few dozen bytes per
    pair), so that listing 1,000,000 images does not cost a Python object per file. Items are built on access.

    ``keys`` is the matching sequence of image paths (sorted, unique), the converter's split keys.
    """

    #: ``keys`` of this sequence are sorted and unique (see :func:`swift_ocr.convert.val_positions`).
    sorted_unique = True

    def __init__(self, image_dir: str, label_dir: str, images: np.ndarray, labels: np.ndarray):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images for {len(labels)} labels")
        self.image_dir, self.label_dir = image_dir, label_dir
        self._images, self._labels = images, labels

    def __len__(self) -> int:
        return len(self._images)

    def image(self, index: int) -> str:
        """The absolute path of the ``index``-th image."""
        return os.path.join(self.image_dir, os.fsdecode(self._images[index]))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [Pair(image, label) for image, label in self.paths(index)]
        return Pair(self.image(index), os.path.join(self.label_dir, os.fsdecode(self._labels[index])))

    def paths(self, index: slice) -> List[Tuple[str, str]]:
        """``[(image, label), ...]``: the absolute paths of the pairs ``self[index]``, as plain tuples (a chunk of
        pairs listed at once, without a :class:`Pair` object each: the converter's readers take the two paths)."""
        # os.path.join(folder, name) for a name of a folder listing (never absolute, no separator)
        image_dir, label_dir, fsdecode = os.path.join(self.image_dir, ""), os.path.join(self.label_dir, ""), os.fsdecode
        return [(image_dir + fsdecode(image), label_dir + fsdecode(label))
                for image, label in zip(self._images[index].tolist(), self._labels[index].tolist())]

    def __eq__(self, other) -> bool:
        if isinstance(other, _SequenceABC) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"FolderPairs({self.image_dir!r}, {self.label_dir!r}, {len(self)} pairs)"

    @property
    def keys(self) -> "_ImageKeys":
        return _ImageKeys(self)


class _ImageKeys(_SequenceABC):
    """Image paths of a :class:`FolderPairs`, built on access (sorted and unique)."""

    sorted_unique = True

    def __init__(self, pairs: FolderPairs):
        self._pairs = pairs

    def __len__(self) -> int:
        return len(self._pairs)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._pairs.image(i) for i in range(*index.indices(len(self)))]
        return self._pairs.image(index)


_CHUNK = 1024


def _names_array(names: List[bytes], dtype=None) -> np.ndarray:
    return np.array(names, dtype=dtype or np.bytes_) if names else np.empty(0, dtype=dtype or "S1")


def _ext_mask(names: np.ndarray, exts: Sequence[bytes]) -> np.ndarray:
    """Which byte-string ``names`` have one of ``exts`` (lower case, with the dot, one dot each) as their
    ``os.path.splitext`` extension, case-insensitively -- vectorised. As splitext, a name that is only dots before
    its last dot (``.jpg``, ``..jpg``) has no extension."""
    lower = np.strings.lower(names)
    body = np.strings.str_len(np.strings.lstrip(names, b"."))
    mask = np.zeros(len(names), bool)
    for ext in exts:
        mask |= np.strings.endswith(lower, ext) & (body > len(ext))
    return mask


def _scan_names(folder: str, exts: Sequence[bytes]) -> np.ndarray:
    """Sorted names (bytes) of the files in ``folder`` (not recursive) whose extension is one of ``exts`` (see
    :func:`_ext_mask`), as a numpy byte-string array. Read in chunks, so that no Python object per file outlives its
    chunk."""
    chunks, buf = [], []

    def flush():
        names = _names_array(buf)
        chunks.append(names[_ext_mask(names, exts)])
        buf.clear()

    with os.scandir(os.fsencode(folder)) as it:
        for entry in it:
            if entry.is_file():
                buf.append(entry.name)
                if len(buf) == _CHUNK:
                    flush()
    flush()
    names = np.concatenate(chunks)
    names.sort(kind="stable")  # byte order of UTF-8 names = code point order of the decoded names
    return names


def _stems(names: np.ndarray) -> np.ndarray:
    """``os.path.splitext(name)[0]`` of names that have an extension (see :func:`_ext_mask`), vectorised."""
    return np.strings.rpartition(names, b".")[0] if len(names) else names


def pairs_from_folders(images_dir, labels_dir, label_exts: Sequence[str] = (".txt", ".csv"),
                       ) -> Tuple[FolderPairs, List[Rejection]]:
    """Match images to labels by stem.

    Args:
        images_dir: folder of images (any of :data:`IMAGE_EXTENSIONS`, case-insensitive), not recursive.
        labels_dir: folder of label files with one of ``label_exts``.
        label_exts: accepted label extensions, lower case with the dot.

    Returns:
        ``(pairs, rejections)``: pairs sorted by image path (a :class:`FolderPairs`); rejections for images without
        a label, labels without an image, and duplicate stems (``a.jpg`` and ``a.png``: both rejected, since
        neither can be told apart from its label, and so is the label). A label that fits two stems
        (``gt_x.txt``: image ``gt_x`` or ``x``) belongs to the first that exists (see :func:`_label_stems`); of two
        labels for one image (``x.txt`` and ``gt_x.txt``) the first in name order is used and the other rejected.

    Memory: file names are held in numpy arrays (no Python object per file), so that the listing of a folder of a
    million images costs tens of MB, not hundreds.

    Raises:
        OcrFormatError: a folder does not exist.
    """
    images_dir, labels_dir = os.path.realpath(images_dir), os.path.realpath(labels_dir)
    for d in (images_dir, labels_dir):
        if not os.path.isdir(d):
            raise OcrFormatError(d, None, "folder does not exist", "file_not_found")
    label_exts_b = tuple(os.fsencode(e.lower()) for e in label_exts)
    rejections: List[Rejection] = []
    img_path = lambda name: os.path.join(images_dir, os.fsdecode(name))  # noqa: E731
    lbl_path = lambda name: os.path.join(labels_dir, os.fsdecode(name))  # noqa: E731

    images = _scan_names(images_dir, _IMAGE_EXTENSIONS_B)
    stems = _stems(images)
    # Stems sort like their names unless a name has a character below "." right after a shared prefix ("a-b.jpg" <
    # "a.jpg" but "a-b" > "a"); then (only then) a sorting permutation is needed. ``order[k]``: the image of the k-th
    # smallest stem (None: the identity), kept as int32 to keep the listing small.
    if len(stems) < 2 or bool((stems[:-1] <= stems[1:]).all()):
        order, sorted_stems = None, stems
    else:
        order = np.argsort(stems, kind="stable").astype(np.int32)
        sorted_stems = stems[order]
    duplicated = np.zeros(len(stems), bool)  # in stem order
    if len(stems) > 1:
        same_as_next = sorted_stems[:-1] == sorted_stems[1:]
        duplicated[:-1] |= same_as_next
        duplicated[1:] |= same_as_next
    duplicated_image = duplicated  # the same flags in image name order
    if order is not None:
        duplicated_image = np.zeros(len(stems), bool)
        duplicated_image[order] = duplicated
    duplicates: Dict[bytes, List[bytes]] = {}
    for i in np.flatnonzero(duplicated_image).tolist():
        duplicates.setdefault(bytes(stems[i]), []).append(bytes(images[i]))
    for stem, names in duplicates.items():
        listed = ", ".join(os.fsdecode(n) for n in names)
        for name in names:
            rejections.append(Rejection(img_path(name), None, f"duplicate image stem {os.fsdecode(stem)!r}: {listed}",
                                        "duplicate_stem"))
    if duplicates:  # unique stems, sorted, and their image index
        keep = ~duplicated
        u_stems = sorted_stems[keep]
        u_image = order[keep] if order is not None else np.flatnonzero(keep).astype(np.int32)
    else:
        u_stems, u_image = sorted_stems, order
    del stems, sorted_stems

    def find(cands: np.ndarray) -> np.ndarray:
        """Image index of each candidate stem, -1 where none."""
        if not len(u_stems):
            return np.full(len(cands), -1)
        pos = np.minimum(np.searchsorted(u_stems, cands), len(u_stems) - 1)
        return np.where(u_stems[pos] == cands, pos if u_image is None else u_image[pos], -1)

    labels = _scan_names(labels_dir, label_exts_b)
    label_of = np.full(len(images), -1, dtype=np.int32)  # index into ``labels``
    dup_stems = _names_array(list(duplicates))
    no_image: List[int] = []
    for start in range(0, len(labels), _CHUNK):
        chunk = labels[start:start + _CHUNK]
        label_rejections = []  # (label index, rejection), put in label order below
        cands = _label_stem_columns(chunk)
        choice = np.full(len(chunk), -1, dtype=np.int8)  # which candidate decides each label (-1: none)
        image = np.full(len(chunk), -1, dtype=np.int64)
        for k, cand in enumerate(cands):
            valid = cand != b""
            found = np.where(valid, find(cand), -1)
            decided = (choice < 0) & ((found >= 0) | (valid & np.isin(cand, dup_stems)))
            choice[decided] = k
            image[decided] = found[decided]
        no_image += (start + np.flatnonzero(choice < 0)).tolist()
        for j in np.flatnonzero((choice >= 0) & (image < 0)).tolist():  # the stem is a duplicate image stem
            cand = bytes(cands[choice[j]][j])
            listed = ", ".join(os.fsdecode(n) for n in duplicates[cand])
            label_rejections.append((j, Rejection(lbl_path(chunk[j]), None, f"label for duplicate image stem "
                                                  f"{os.fsdecode(cand)!r} ({listed})", "duplicate_stem")))
        hits = np.flatnonzero(image >= 0)
        images_hit = image[hits]
        first = np.zeros(len(hits), bool)
        first[np.unique(images_hit, return_index=True)[1]] = True  # the first label (in name order) of each image
        wins = first & (label_of[images_hit] < 0)  # ... unless an earlier chunk matched that image
        label_of[images_hit[wins]] = start + hits[wins]
        for j, img in zip(hits[~wins].tolist(), images_hit[~wins].tolist()):
            cand = os.fsdecode(bytes(cands[choice[j]][j]))
            label_rejections.append((j, Rejection(lbl_path(chunk[j]), None, f"second label for image stem {cand!r} "
                                                  f"(already matched {os.fsdecode(labels[label_of[img]])})",
                                                  "duplicate_stem")))
        rejections += [rej for _, rej in sorted(label_rejections, key=lambda jr: jr[0])]

    unmatched = np.flatnonzero((label_of < 0) & ~duplicated_image)
    for i in unmatched.tolist():
        rejections.append(Rejection(img_path(images[i]), None, "no label file for image", "no_label"))
    for i in no_image:
        rejections.append(Rejection(lbl_path(labels[i]), None, "no image for label file", "no_image"))
    matched = label_of >= 0
    which = label_of[matched]
    if len(which) == len(labels) and bool((which == np.arange(len(labels))).all()):
        pair_labels = labels  # the usual case: every label used, in image order -- no copy
    else:
        pair_labels = labels[which] if len(labels) else _names_array([])
    pair_images = images if bool(matched.all()) else images[matched]
    return FolderPairs(images_dir, labels_dir, pair_images, pair_labels), rejections


def _label_stem_columns(names: np.ndarray) -> List[np.ndarray]:
    """:func:`_label_stems` for an array of byte-string label names whose extensions are known label extensions,
    vectorised: three arrays of candidate stems in :func:`_label_stems`'s order (``b""`` where a name has no such
    candidate): the stem; the stem without ``gt_``; the stem without an image extension (``img_1.jpg.txt``)."""
    stem = _stems(names)
    no_gt = np.where(np.strings.startswith(stem, b"gt_"), np.strings.partition(stem, b"gt_")[2], b"")
    lower = np.strings.lower(stem)
    has_image_ext = np.zeros(len(names), bool)
    for ext in _IMAGE_EXTENSIONS_B:
        has_image_ext |= np.strings.endswith(lower, ext)
    no_image_ext = np.where(has_image_ext, np.strings.rpartition(stem, b".")[0], b"")
    return [stem, no_gt, no_image_ext]


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
