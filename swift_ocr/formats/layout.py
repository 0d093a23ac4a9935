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

File names:

* a name that is not valid UTF-8 (GBK names from a zip made on Chinese Windows) cannot be written to a dataset
  file: its item (the image with its label) is rejected with kind ``bad_filename``, the name's bytes shown escaped
  (``b'\\xb7\\xa2\\xc6\\xb1.jpg'``); the other items are kept;
* an image and a label whose names differ only in Unicode normalisation (macOS writes NFD: ``cafe\\u0301.jpg``,
  next to ``caf\\u00e9.txt`` from elsewhere) are paired by their NFC-normalised stems (only where that is
  unambiguous; otherwise the ``no_label`` / ``no_image`` reasons name the look-alikes). Paths are kept as they are on
  disk;
* list files: a path written with Windows backslashes (``imgs\\img_1.jpg``) is read with ``/`` when no file of the
  backslashed name exists; a name that exists only in another Unicode normalisation is found as well.
"""
from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence as _SequenceABC
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from swift_ocr.errors import OcrFormatError, Rejection, printable, read_error
from swift_ocr.formats.checks import resolve_inside_root
from swift_ocr.formats.text_io import decode_label_bytes

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

    #: ``keys`` of this sequence are sorted and unique (see :func:`swift_ocr.convert.split.val_positions`).
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


def _invalid_utf8(names: np.ndarray) -> np.ndarray:
    """Which byte-string file ``names`` are not valid UTF-8 (boolean mask). Decided a chunk at a time on the names
    joined by ``/``: an ASCII byte never occurs inside a UTF-8 sequence, so the join is valid exactly when every name
    is (no file name holds ``/``); only a chunk that fails is checked name by name."""
    bad = np.zeros(len(names), bool)
    if names.tobytes().isascii():  # the usual case, at memory speed
        return bad
    for start in range(0, len(names), _CHUNK):
        chunk = names[start:start + _CHUNK].tolist()
        try:
            b"/".join(chunk).decode("utf-8")
        except UnicodeDecodeError:
            for j, name in enumerate(chunk):
                try:
                    name.decode("utf-8")
                except UnicodeDecodeError:
                    bad[start + j] = True
    return bad


def utf8_ok(text: str) -> bool:
    """Whether ``text`` (a path as Python sees it) can be written as UTF-8: False for a file name whose bytes are not
    UTF-8 (:func:`os.fsdecode` turns them into lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bad_filename_reason(paths: Sequence[str], note: str = "") -> str:
    """The rejection reason (kind ``bad_filename``) for ``paths`` whose file names are not valid UTF-8: each name's
    bytes, escaped (``b'\\xb7\\xa2\\xc6\\xb1.jpg'``), what they read as in GB18030 where they decode (the usual case:
    a zip made on Chinese Windows), then ``note``, and how to fix it."""
    shown = []
    for path in paths:
        raw = os.fsencode(os.path.basename(path))
        try:
            guess = f" (as GB18030: {raw.decode('gb18030')!r})"
        except UnicodeDecodeError:
            guess = ""
        shown.append(f"{raw!r}{guess}")
    return (f"file name is not valid UTF-8: {', '.join(shown)}{note}; rename the file(s) to UTF-8 (e.g. "
            "'convmv -f gbk -t utf-8 -r --notest DIR', or unzip with '-O gbk')")


def _check_folder_name(folder: str) -> None:
    if not utf8_ok(folder):
        raise OcrFormatError(printable(folder), None, "the folder's path is not valid UTF-8, so no path under it can "
                             "be written to a dataset file; rename it to UTF-8 (e.g. 'convmv -f gbk -t utf-8')",
                             "bad_filename")


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


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

    File names that are not valid UTF-8 give ``bad_filename`` rejections (the image with its label, as one item);
    an image and a label left unmatched whose names differ only in Unicode normalisation are paired by their NFC
    stems (see module docstring).

    Raises:
        OcrFormatError: a folder does not exist, or its path is not valid UTF-8 (kind ``bad_filename``).
    """
    images_dir, labels_dir = os.path.realpath(images_dir), os.path.realpath(labels_dir)
    for d in (images_dir, labels_dir):
        if not os.path.isdir(d):
            raise OcrFormatError(d, None, "folder does not exist", "file_not_found")
        _check_folder_name(d)
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

    # File names that are not valid UTF-8 (GBK names from a zip made on Chinese Windows): no row could name the file,
    # so the item is rejected (kind bad_filename), its bytes shown escaped; pairing itself works on the bytes.
    bad_image, bad_label = _invalid_utf8(images), _invalid_utf8(labels)
    settled = duplicated_image.copy()  # images whose rejection is already recorded
    if bad_image.any() or bad_label.any():
        has = label_of >= 0
        bad_pair = bad_image.copy()
        bad_pair[has] |= bad_label[label_of[has]]
        for i in np.flatnonzero(bad_pair).tolist():
            files = [img_path(images[i])] + ([lbl_path(labels[label_of[i]])] if label_of[i] >= 0 else [])
            note = " (no label file matches it)" if label_of[i] < 0 else f" (its label: {printable(files[1])})"
            why = bad_filename_reason([f for f in files if not utf8_ok(f)], note)
            rejections.append(Rejection(printable(files[0]), None, why, "bad_filename"))
            label_of[i] = -1
            settled[i] = True
        bad_no_image = [i for i in no_image if bad_label[i]]
        no_image = [i for i in no_image if not bad_label[i]]
        for i in bad_no_image:
            path = lbl_path(labels[i])
            rejections.append(Rejection(printable(path), None, bad_filename_reason([path], " (no image matches it)"),
                                        "bad_filename"))
    unmatched = np.flatnonzero((label_of < 0) & ~settled).tolist()
    hints: Dict[int, str] = {}  # reasons for unmatched images and labels (negative: ~label index) -- see below
    if unmatched and no_image:
        unmatched, no_image, hints = _pair_by_nfc(images, labels, unmatched, no_image, label_of, label_exts)
    for i in unmatched:
        rejections.append(Rejection(img_path(images[i]), None, "no label file for image" + hints.get(i, ""),
                                    "no_label"))
    for i in no_image:
        rejections.append(Rejection(lbl_path(labels[i]), None, "no image for label file" + hints.get(~i, ""),
                                    "no_image"))
    matched = label_of >= 0
    which = label_of[matched]
    if len(which) == len(labels) and bool((which == np.arange(len(labels))).all()):
        pair_labels = labels  # the usual case: every label used, in image order -- no copy
    else:
        pair_labels = labels[which] if len(labels) else _names_array([])
    pair_images = images if bool(matched.all()) else images[matched]
    return FolderPairs(images_dir, labels_dir, pair_images, pair_labels), rejections


def _pair_by_nfc(images: np.ndarray, labels: np.ndarray, unmatched: List[int], no_image: List[int],
                 label_of: np.ndarray, label_exts: Sequence[str]) -> Tuple[List[int], List[int], Dict[int, str]]:
    """Pair the images and labels left over by the byte-wise match whose names differ only in Unicode normalisation
    (macOS writes NFD: ``cafe\\u0301.jpg`` next to ``caf\\u00e9.txt``): an image and a label whose NFC-normalised
    stems match (:func:`_label_stems`) are paired, in ``label_of``, when that stem belongs to exactly one leftover
    image; the first such label in name order wins. Where it is ambiguous (two leftover images with one NFC stem, or
    a second label) nothing is paired and the rejection reason says which names differ only in normalisation.

    Returns:
        ``(unmatched, no_image, hints)``: the images and labels still unpaired, and reason suffixes for them keyed
        by image index, or ``~label index`` for labels.
    """
    by_stem: Dict[str, List[int]] = {}
    for i in unmatched:
        stem = os.path.splitext(os.fsdecode(images[i]))[0]
        by_stem.setdefault(_nfc(stem), []).append(i)
    paired: Dict[int, int] = {}  # image -> label
    hints: Dict[int, str] = {}
    for j in no_image:
        name = os.fsdecode(labels[j])
        for stem in _label_stems(_nfc(name), label_exts):
            cands = by_stem.get(stem)
            if not cands:
                continue
            names = ", ".join(repr(os.fsdecode(images[i])) for i in cands)
            if len(cands) == 1 and cands[0] not in paired:
                paired[cands[0]] = j
            else:
                hints[~j] = f" (images whose names differ from it only in Unicode normalisation (NFC/NFD): {names})"
                for i in cands:
                    if i in paired:
                        hints[~paired[i]] = hints[~j]
                    hints[i] = (f" (label {name!r} and images {names} differ only in Unicode normalisation (NFC/NFD); "
                                "rename them to one form)")
            break
    for i, j in paired.items():
        if i not in hints:
            label_of[i] = j
    done = {i for i in paired if i not in hints}
    used = {paired[i] for i in done}
    return [i for i in unmatched if i not in done], [j for j in no_image if j not in used], hints


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
    label is looked up (:func:`_label_candidates`) as ``gt_<stem>.txt`` next to it, ``gt_<stem>.txt`` or
    ``<image name>.txt`` in a sibling ``*_gts`` folder, or ``<image name>.txt`` / ``<stem>.txt`` next to it or in the
    label folder paired with its folder (``imgs/`` -> ``gts/``). DBNet's own ``train_list.txt`` names the image only
    (``img_1.jpg``); an image not found next to the list file is looked up in ``train_images/`` (``test_images/``,
    ... -- :data:`ROOT_SUBFOLDERS`, the one sharing the list file's prefix first), its label then being
    ``train_gts/img_1.jpg.txt``. Windows paths (``imgs\\img_1.jpg``) are read with ``/`` when no file of the
    backslashed name exists, and a file that exists only under a name in another Unicode normalisation (NFD/NFC) is
    found under that name.

    Args:
        encoding: the list file's encoding; None: UTF-8 (BOM allowed), then GB18030.
        allow_outside_root: accept paths outside the list file's folder (refused by default).

    Returns ``(pairs, rejections)``; rejections name the list file and line (kinds ``bad_list_line``,
    ``outside_root``, ``file_not_found``, ``bad_filename``).

    Raises:
        OcrFormatError: the list file cannot be read or decoded, or its folder's path is not valid UTF-8 (kind
            ``bad_filename``).
    """
    list_path = Path(list_file).resolve()
    try:
        data = list_path.read_bytes()
    except OSError as e:
        raise read_error(list_path, e, "cannot read list file") from e
    text, _ = decode_label_bytes(data, str(list_path), encoding)
    base = list_path.parent
    _check_folder_name(str(base))
    pairs, rejections = [], []
    listings: Dict[Path, Dict[str, List[str]]] = {}  # folder -> NFC name -> names (for names in another form)
    for line_no, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) > 2:
            rejections.append(Rejection(str(list_path), line_no, f"expected '<image> <label>', got {raw[:80]!r}",
                                        "bad_list_line"))
            continue
        # Windows paths (imgs\img_1.jpg): read with "/" unless a file of that very name exists
        slashed = ["\\" in p and os.sep == "/" and not (base / p).exists() for p in parts]
        parts = [p.replace("\\", "/") if s else p for p, s in zip(parts, slashed)]
        try:
            resolved = [Path(resolve_inside_root(p, str(base), allow_outside_root, str(list_path), line_no))
                        for p in parts]
        except OcrFormatError as e:
            rejections.append(Rejection.from_error(e))
            continue
        if len(resolved) == 1:
            image = resolved[0]
            if not image.is_file() and len(Path(parts[0]).parts) == 1:
                # DBNet's own lists name the image only (img_1.jpg): it lies in train_images/ (test_images/, ...)
                image = next((c for c in _image_folder_candidates(base, list_path.stem, parts[0]) if c.is_file()),
                             image)
            if not image.is_file():
                image = _normalisation_variant(image, listings)
            candidates = _label_candidates(image)
            label = next((c for c in candidates if c.is_file()), None)
            label = label or _normalisation_variant(candidates[0], listings)
        else:
            image, label = (p if p.is_file() else _normalisation_variant(p, listings) for p in resolved)
        missing = [str(p) for p in (image, label) if not p.is_file()]
        if missing:
            hint = " (backslashes in the list file read as '/')" if any(slashed) else ""
            rejections.append(Rejection(str(list_path), line_no, f"file not found: {', '.join(missing)}{hint}",
                                        "file_not_found"))
            continue
        image_s, label_s = str(image.resolve()), str(label.resolve())
        if not (utf8_ok(image_s) and utf8_ok(label_s)):  # e.g. a symbolic link to a GBK-named file
            rejections.append(Rejection(str(list_path), line_no, bad_filename_reason(
                [p for p in (image_s, label_s) if not utf8_ok(p)]), "bad_filename"))
            continue
        pairs.append(Pair(image_s, label_s, str(list_path), line_no))
    return pairs, rejections


def _image_folder_candidates(base: Path, list_stem: str, name: str) -> List[Path]:
    """Where a list file's bare image ``name`` may lie: in the image folders of :data:`ROOT_SUBFOLDERS` under
    ``base``, the one that shares the list file's prefix first (``train_list.txt`` -> ``train_images/``)."""
    prefix = list_stem.split("_")[0] + "_"
    folders = [img for img, _ in ROOT_SUBFOLDERS]
    folders.sort(key=lambda f: not f.startswith(prefix))  # stable: otherwise in ROOT_SUBFOLDERS order
    return [base / f / name for f in folders]


def _label_candidates(image: Path) -> List[Path]:
    """Label files that may belong to a list file's ``image`` given alone, in the order they are tried (the first
    that exists wins): ``gt_<stem>.txt`` next to it; ``gt_<stem>.txt`` and ``<image name>.txt`` in the sibling
    ``*_gts`` folder (DBNet: ``train_gts/img_1.jpg.txt``); ``<image name>.txt`` and ``<stem>.txt`` next to it; then
    ``gt_<stem>.txt``, ``<image name>.txt`` and ``<stem>.txt`` in the label folder that :data:`ROOT_SUBFOLDERS`
    pairs with the image's folder (``imgs/`` -> ``gts/``). The first three are the ones tried before issue 19, in
    the same order, so lists that worked pick the same labels."""
    folder, stem, name = image.parent, image.stem, image.name
    gts_dir = folder.with_name(folder.name.replace("images", "gts"))
    out = [folder / f"gt_{stem}.txt", gts_dir / f"gt_{stem}.txt", gts_dir / f"{name}.txt"]
    out += [folder / f"{name}.txt", folder / f"{stem}.txt"]
    for img, lbl in ROOT_SUBFOLDERS:
        if folder.name == img:
            out += [folder.with_name(lbl) / n for n in (f"gt_{stem}.txt", f"{name}.txt", f"{stem}.txt")]
    seen = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def _normalisation_variant(path: Path, listings: Dict[Path, Dict[str, List[str]]]) -> Path:
    """For a ``path`` that does not exist: the one file of its folder whose name differs from it only in Unicode
    normalisation (NFC/NFD), if there is exactly one; else ``path``. Folder listings are kept in ``listings``."""
    if not path.parent.is_dir():
        return path
    names = listings.get(path.parent)
    if names is None:
        names = listings[path.parent] = {}
        for entry in os.listdir(path.parent):
            names.setdefault(_nfc(entry), []).append(entry)
    found = names.get(_nfc(path.name), [])
    return path.parent / found[0] if len(found) == 1 else path


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
