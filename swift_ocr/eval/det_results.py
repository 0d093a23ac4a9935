"""Turn ``swift infer`` detection result rows into per-image ground-truth and detection region lists.

Input: the jsonl file ``swift infer --result_path`` writes (row format in :mod:`swift_ocr.eval.results`), for a
model trained on detection-as-text targets (:mod:`swift_ocr.codecs`). Each row's ``response`` is parsed
back into regions with the family codec; the ground truth is either

* the row's ``labels`` (the target text the converter wrote), parsed with the same codec. Those targets
  hold no ``###`` regions (do-not-care regions are left out of training targets), so nothing is
  do-not-care; or
* the original ICDAR label files (:class:`GroundTruthIndex`, ``--gt``): a dataset root
  (``imgs/``+``gts/``, ``img/``+``box/``, ... see :mod:`swift_ocr.formats.layout`), a folder of label
  files, or a DBNet list file. A row's image is matched to its label by image path, else by file stem
  (``img_1.jpg`` <-> ``gt_img_1.txt``, ``000.jpg`` <-> ``000.csv``). ``###`` regions are then
  do-not-care, as the ICDAR 2015 protocol wants.

Coordinates: every region returned is in **pixels of the original (source) image**. The codec needs the
size of the image the row's text refers to; it is read from the header of the row's image file
(``images[0]``: a path string or ms-swift's ``{"bytes": null, "path": ...}`` dict). A relative path is
looked up from the current folder, then from the result file's folder.

Tiled / split samples: a row may carry ``"swift_ocr": {"image_size": [w, h], "offset": [x, y],
"source_image": path}``. Its response and labels are then parsed in the tile's space (``image_size``, no
file needed) and shifted by ``offset`` into ``source_image``. Rows are grouped by source image (the
row's own image when there is no ``swift_ocr`` field) and the regions of all rows of one image are
concatenated, in file order, before scoring. With overlapping tiles, ground truth taken from ``labels``
repeats the regions of the overlap; score such files against ``--gt``.

Recorded codec settings: a row whose ``swift_ocr`` field holds ``"codec": {option: value}`` (what ``convert --task
det`` records for a family with codec options, :data:`~swift_ocr.tasks.tiling.CODEC_META_KEY`: Qwen2.5-VL's
``min_pixels``/``max_pixels``, the ``smart_resize`` bounds whose resized image the boxes are pixels of) is parsed --
response and labels -- with the family's codec built with those settings, not with the ``codec`` given: the targets
were written on that grid and the model learnt it. A codec option given explicitly (``eval det --max-pixels``,
``codec_options`` of :func:`load_det_images`) that differs from a row's recorded value is an error naming the row and
both values (scoring with other bounds maps every box wrongly); so are recorded settings the family does not take
(rows written for another family). Rows without recorded settings (files converted before they were recorded, or
``swift infer`` without ``--remove_unused_columns false``) are parsed with ``codec``.

Errors (:class:`~swift_ocr.errors.OcrFormatError`, always naming the result file and 1-based line, or the
ground-truth file): unreadable rows, a row without an image path, a missing or unreadable image, a bad
``swift_ocr`` field, labels that do not parse with the codec (objects cut off, malformed, or no object of
the family at all in non-empty labels: usually a wrong ``--model-family``), an image without a ground-truth
label under ``--gt``, or two candidate labels for one image.
"""
from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from swift_ocr.codecs.base import Codec
from swift_ocr.codecs.parsing import ParseReport
from swift_ocr.errors import OcrFormatError
from swift_ocr.formats import icdar
from swift_ocr.formats.icdar import read_icdar_labels
from swift_ocr.formats.layout import (IMAGE_EXTENSIONS, Pair, _label_stems, pairs_from_folders, pairs_from_list,
                             resolve_root)
from swift_ocr.images import image_size as read_image_size
from swift_ocr.eval.results import ResultRow, iter_raw_rows, parse_row
from swift_ocr.sample import Region
from swift_ocr.families import get_family
from swift_ocr.tasks.tiling import CODEC_META_KEY, TILE_META_KEY

__all__ = ["LABEL_EXTENSIONS", "RowInfo", "DetImage", "GroundTruthIndex", "iter_rows",
           "load_det_images", "load_gt_images", "shift_region"]

PathLike = Union[str, "os.PathLike[str]"]

#: Label file extensions of ICDAR-style quad labels (ICDAR 2015 ``.txt``, SROIE ``.csv``): the icdar format's.
LABEL_EXTENSIONS = icdar.LABEL_EXTENSIONS


@dataclass
class RowInfo:
    """One result row that contributed to an image.

    Attributes:
        line: 1-based line of the row in the result file.
        image: the row's own image (the tile's file for tiles; may be ``'<bytes>'`` for a tile).
        image_size: ``(width, height)`` in pixels the row's text refers to (the tile's size for tiles).
        offset: ``(x, y)`` pixels added to parsed coordinates to reach the source image (``(0, 0)`` untiled).
        report: the codec's :class:`~swift_ocr.codecs.parsing.ParseReport` of the ``response``.
        label_report: the report of the ``labels`` (None when the ground truth came from ``--gt``).
        n_det: detections (regions) parsed from the ``response``, duplicates included.
    """

    line: int
    image: str
    image_size: Tuple[int, int]
    offset: Tuple[float, float]
    report: ParseReport
    label_report: Optional[ParseReport] = None
    n_det: int = 0


@dataclass
class DetImage:
    """Everything scored for one source image: ground truth and detections in its pixels.

    Attributes:
        image: the source image path (absolute, normalised): the key rows are grouped by.
        gt: ground-truth regions (from ``labels`` or the label file; ``dont_care`` for ``###``).
        det: detections parsed from the responses of all its rows, in file order.
        rows: the rows, in file order (empty for ground truth shown without results).
        label_file: the ground-truth label file (``--gt``), else None.
        image_size: ``(width, height)`` of the source image when known (read from its header), else None.
        pred_source: for predictions of other detectors (:mod:`swift_ocr.eval.predictions`): where the image's
            detections were read (``file`` or ``file:line``; None when it had none); None for result rows.
    """

    image: str
    gt: List[Region] = field(default_factory=list)
    det: List[Region] = field(default_factory=list)
    rows: List[RowInfo] = field(default_factory=list)
    label_file: Optional[str] = None
    image_size: Optional[Tuple[int, int]] = None
    pred_source: Optional[str] = None

    @property
    def lines(self) -> List[int]:
        """Result-file lines of the rows, in file order."""
        return [r.line for r in self.rows]

    @property
    def unparsed(self) -> List[str]:
        """Response fragments the codec could not parse (all rows, in order; a cut-off object is one)."""
        return [s for r in self.rows for s in r.report.unparsed]

    @property
    def truncated(self) -> int:
        """Rows whose response ends inside an object (cut-off generation)."""
        return sum(r.report.truncated for r in self.rows)

    @property
    def duplicates(self) -> int:
        """Exact duplicate objects in the responses (repeats of an earlier object of the same response with the
        same text and grid box: repetition loops). They are kept in :attr:`det` and scored like any detection,
        as the official ICDAR 2015 script does; this count only makes the loops visible."""
        return sum(r.report.duplicates for r in self.rows)

    @property
    def extra_text(self) -> List[str]:
        """Non-blank response text outside any detection object (prose, or a whole answer in another family's
        format), all rows, in order (:attr:`~swift_ocr.codecs.parsing.ParseReport.extra_text`)."""
        return [s for r in self.rows for s in r.report.extra_text]

    @property
    def responses_without_detections(self) -> int:
        """Rows whose response gave no detection at all (empty, prose only, broken, or another format)."""
        return sum(1 for r in self.rows if r.n_det == 0)


def shift_region(region: Region, dx: float, dy: float) -> Region:
    """A copy of ``region`` with every vertex moved by ``(dx, dy)`` pixels (tile -> source image)."""
    if dx == 0 and dy == 0:
        return region
    return Region(polygon=[(x + dx, y + dy) for x, y in region.polygon], text=region.text,
                  dont_care=region.dont_care, line=region.line, issue=region.issue)


def _is_paddle_det_labels(path: str) -> bool:
    """``path``'s first non-blank line reads ``<image><TAB>[...`` (a PaddleOCR detection label file, not a DBNet
    list file)."""
    try:
        with open(path, "rb") as fh:
            for raw in fh:
                line = raw.decode("utf-8", "replace").lstrip("\ufeff")
                if line.strip():
                    image, tab, rest = line.partition("\t")
                    return bool(tab and image.strip() and rest.lstrip().startswith("["))
    except OSError:
        return False
    return False


def _norm_path(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


# ---------------------------------------------------------------------------------------------- reading


def iter_rows(path: PathLike) -> Iterator[Tuple[ResultRow, Dict[str, Any]]]:
    """Yield ``(ResultRow, raw row dict)`` for each row of a result file, in file order.

    Same reading rules as :func:`swift_ocr.eval.results.iter_results` (rows read by
    :func:`swift_ocr.eval.results.iter_raw_rows`, validated by :func:`swift_ocr.eval.results.parse_row`); the raw dict is
    kept for the extra :data:`TILE_META_KEY` field.

    Raises:
        OSError: the file cannot be opened.
        OcrFormatError: a line is not valid UTF-8 / JSON or not a valid row (``file:line: reason``).
    """
    source = os.fspath(path)
    for line_no, row in iter_raw_rows(source):
        yield parse_row(row, source, line_no), row


def _pair_of_numbers(value: Any, positive: bool) -> Optional[Tuple[float, float]]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return None
    if positive and not all(v > 0 for v in value):
        return None
    return value[0], value[1]


TileInfo = Tuple[Tuple[int, int], Tuple[float, float], str]


def _recorded_codec(raw: Dict[str, Any], source: str, line: int) -> Optional[Dict[str, Any]]:
    """The codec settings a row records (``swift_ocr.codec``, :data:`CODEC_META_KEY`), or None when absent.

    Raises:
        OcrFormatError: a record that is not a non-empty object.
    """
    info = raw.get(TILE_META_KEY)
    if not isinstance(info, dict) or CODEC_META_KEY not in info:
        return None
    codec = info[CODEC_META_KEY]
    if not isinstance(codec, dict) or not codec:
        raise OcrFormatError(source, line, f"'{TILE_META_KEY}.{CODEC_META_KEY}' must be an object of codec settings "
                             f"(option: value), got {codec!r:.80}")
    return codec


class _RowCodecs:
    """The codec each row is parsed with (see the module docstring): ``codec``, or the family's codec built with the
    settings the row records, checked against the explicitly given ``codec_options``; one codec per setting."""

    def __init__(self, codec: Codec, codec_options: Optional[Mapping[str, Any]], family: str):
        self.codec, self.family = codec, family
        self.explicit = dict(codec_options or {})
        self._built: Dict[Tuple, Codec] = {}

    def __call__(self, recorded: Optional[Dict[str, Any]], source: str, line: int) -> Codec:
        if recorded is None:
            return self.codec
        key = tuple(sorted((k, repr(v)) for k, v in recorded.items()))
        if key in self._built:
            return self._built[key]
        where = f"'{TILE_META_KEY}.{CODEC_META_KEY}' {recorded}"
        try:
            spec = get_family(getattr(self.codec, "family", self.family))
            params = spec.check_codec_options(recorded)
        except ValueError as e:
            raise OcrFormatError(source, line, f"{where}: {e}; rows written for another --model-family?") from None
        for name, value in self.explicit.items():
            if name in params and params[name] != value:
                flag = "--" + name.replace("_", "-")
                raise OcrFormatError(source, line, f"{flag} {value} differs from {name}={params[name]} that the row "
                                     f"records ({where}): its target was written, and the model trained, for the "
                                     f"recorded value; drop {flag} to score with it")
        try:
            codec = spec.make_codec(**params)
        except ValueError as e:
            raise OcrFormatError(source, line, f"{where}: {e}") from None
        codec.dedupe = self.codec.dedupe
        self._built[key] = codec
        return codec


def _tile_info(raw: Dict[str, Any], source: str, line: int) -> Optional[TileInfo]:
    """``(image_size, offset, source_image)`` of a row's :data:`TILE_META_KEY` field, or None when absent."""
    info = raw.get(TILE_META_KEY)
    if info is None:
        return None
    if not isinstance(info, dict):
        raise OcrFormatError(source, line, f"'{TILE_META_KEY}' must be an object with image_size, offset, source_image; "
                             f"got {info!r:.80}")
    size = _pair_of_numbers(info.get("image_size"), positive=True)
    if size is None or not all(float(v).is_integer() for v in size):
        raise OcrFormatError(source, line, f"'{TILE_META_KEY}.image_size' must be [width, height] in whole pixels > 0, "
                             f"got {info.get('image_size')!r}")
    offset = _pair_of_numbers(info.get("offset", [0, 0]), positive=False)
    if offset is None:
        raise OcrFormatError(source, line, f"'{TILE_META_KEY}.offset' must be [x, y] in pixels, got {info.get('offset')!r}")
    src = info.get("source_image")
    if not isinstance(src, str) or not src:
        raise OcrFormatError(source, line, f"'{TILE_META_KEY}.source_image' must be a non-empty path, got {src!r}")
    return (int(size[0]), int(size[1])), (float(offset[0]), float(offset[1])), src


def _locate(path: str, results_dir: str) -> Optional[str]:
    """An existing file for ``path``: as given (absolute, or relative to the current folder), else relative
    to the result file's folder; None when neither exists."""
    if os.path.isfile(path):
        return path
    if not os.path.isabs(path):
        alt = os.path.join(results_dir, path)
        if os.path.isfile(alt):
            return alt
    return None


def _row_image(row: ResultRow, results_dir: str) -> str:
    """The existing image file of an untiled row (``images[0]``).

    Raises:
        OcrFormatError: no image path, or the file is missing.
    """
    if not row.images or row.images[0] == "<bytes>":
        raise OcrFormatError(row.source, row.line, "row has no image path (images[0]); detection scoring reads "
                             "the image size from the image file", "image_missing")
    found = _locate(row.images[0], results_dir)
    if found is None:
        raise OcrFormatError(row.source, row.line, f"image {row.images[0]!r} not found (looked relative to the "
                             f"current folder and to {results_dir})", "image_missing")
    return found


def _header_size(path: str, row: ResultRow) -> Tuple[int, int]:
    try:
        return read_image_size(path)
    except OcrFormatError as e:
        raise OcrFormatError(row.source, row.line, f"image {path}: {e.reason}", e.kind) from e


def _check_labels(report: ParseReport, label_text: str, family: str, row: ResultRow) -> None:
    """Ground truth must parse completely: a broken target means a broken file or a wrong family."""
    if report.unparsed or report.truncated:
        raise OcrFormatError(row.source, row.line, f"'labels' (the ground truth) do not parse as {family} "
                             f"detection text: {len(report.unparsed)} broken fragment(s), first "
                             f"{report.unparsed[0] if report.unparsed else ''!r:.80}")
    if report.objects == 0 and report.extra_text:
        raise OcrFormatError(row.source, row.line, f"'labels' hold no {family} detection objects, only text "
                             f"{label_text!r:.60}; wrong --model-family, or not a detection result file?")


# ------------------------------------------------------------------------------------------ ground truth


class GroundTruthIndex:
    """Original ICDAR-style label files, looked up by image path or by file stem.

    ``gt`` is one of:

    * a DBNet list file (``<image> <label>`` per line, see :func:`swift_ocr.formats.layout.pairs_from_list`;
      paths outside the list file's folder are refused unless ``allow_outside_root``);
    * a dataset root with image and label sub-folders (:func:`swift_ocr.formats.layout.resolve_root`);
    * a folder of label files (``.txt`` / ``.csv``), matched to images by stem only
      (``gt_<stem>.txt``, ``<stem>.txt``, ``<stem>.csv``, ``<stem>.<ext>.txt``);
    * a PaddleOCR / PPOCRLabel detection label file (``<image><TAB>[{"transcription", "points"}, ...]`` per line,
      :mod:`swift_ocr.formats.paddle_det`; told from a list file by its first line); each line is one image, its
      label named ``<file>:<line>``.

    Attributes:
        path: the ``gt`` argument as given.
        pairs: (image, label) pairs when ``gt`` names images too (list file, root, PaddleOCR file), else empty.
        rejections: entries of a list file / root that gave no pair (missing files, images without labels);
            named in the lookup error of an image that needed one.
        n_labels: label files found.

    Raises:
        OcrFormatError: ``gt`` does not exist, cannot be read, or holds no label file.
    """

    def __init__(self, gt: PathLike, allow_outside_root: bool = False):
        self.path = os.fspath(gt)
        self.pairs: List[Pair] = []
        self.rejections: list = []
        self._by_path: Dict[str, str] = {}
        self._by_stem: Dict[str, List[str]] = {}
        self._paddle: Dict[str, Tuple[str, int]] = {}
        p = Path(self.path)
        if p.is_file() and _is_paddle_det_labels(self.path):
            self._index_paddle(allow_outside_root)
        elif p.is_file():
            self.pairs, self.rejections = pairs_from_list(p, allow_outside_root=allow_outside_root)
        elif p.is_dir():
            try:
                images_dir, labels_dir = resolve_root(p)
            except OcrFormatError:
                self._index_label_folder(p)
            else:
                self.pairs, self.rejections = pairs_from_folders(images_dir, labels_dir, LABEL_EXTENSIONS)
        else:
            raise OcrFormatError(self.path, None, "ground truth: no such file or folder", "file_not_found")
        self._image_by_label: Dict[str, str] = {}
        for pair in self.pairs:
            self._by_path[_norm_path(pair.image)] = pair.label
            self._add_stem(Path(pair.image).stem, pair.label)
            self._image_by_label.setdefault(pair.label, _norm_path(pair.image))
        labels = {lbl for lbls in self._by_stem.values() for lbl in lbls}
        self.n_labels = len(labels)
        if not labels:
            skipped = (f"; {len(self.rejections)} entries were unusable, first: {self.rejections[0].to_error()}"
                       if self.rejections else "")
            raise OcrFormatError(self.path, None, "ground truth: no label files found (expected a dataset root, a "
                                 f"folder of .txt/.csv label files, or a DBNet list file){skipped}", "file_not_found")

    def _add_stem(self, stem: str, label: str) -> None:
        lst = self._by_stem.setdefault(stem, [])
        if label not in lst:
            lst.append(label)

    def _index_label_folder(self, folder: Path) -> None:
        for f in sorted(folder.iterdir()):
            if f.is_file():
                for stem in _label_stems(f.name, LABEL_EXTENSIONS):
                    self._add_stem(stem, str(f.resolve()))

    def _index_paddle(self, allow_outside_root: bool) -> None:
        """Index a PaddleOCR detection label file: one pair per line, its label ``<file>:<line>``."""
        from swift_ocr.errors import Rejection
        from swift_ocr.formats.checks import ReadOptions
        from swift_ocr.formats.paddle_list import json_key, list_items

        for item in list_items(self.path, ReadOptions(allow_outside_root=allow_outside_root), label_key=json_key):
            if item["error"]:
                kind, reason = item["error"]
                self.rejections.append(Rejection(self.path, item["line"], reason, kind))
                continue
            label = f"{self.path}:{item['line']}"
            self.pairs.append(Pair(item["image"], label, self.path, item["line"]))
            self._paddle[label] = (item["label"], item["line"])

    def read(self, label: str) -> List[Region]:
        """The ground-truth regions of ``label`` (a label :meth:`label_for` gave: an ICDAR-style file, or
        ``<file>:<line>`` of a PaddleOCR label file), in file order; ``###`` regions (and PaddleOCR's ``*`` and
        ``difficult`` ones, :mod:`swift_ocr.formats.paddle_det`) are do-not-care. An empty PaddleOCR region list is
        an image without text.

        Raises:
            OcrFormatError: an unreadable or malformed label file or line.
        """
        if label in self._paddle:
            from swift_ocr.formats.paddle_det import parse_det_label

            text, line = self._paddle[label]
            try:
                return parse_det_label(text, self.path, line)
            except OcrFormatError as e:
                if e.kind == "empty_label":
                    return []
                raise
        return read_icdar_labels(label)

    def label_files(self) -> List[str]:
        """Every ground-truth label file found, sorted (each once)."""
        return sorted({lbl for lbls in self._by_stem.values() for lbl in lbls})

    def image_for_label(self, label: str) -> Optional[str]:
        """The image (absolute, normalised) the ground truth pairs with ``label``, or None when ``gt`` names no
        images (a bare label folder)."""
        return self._image_by_label.get(label)

    def label_for(self, image: str) -> str:
        """The label file of ``image`` (a path; only its name is used when it is not a known image path).

        Raises:
            KeyError: no label, or several candidate labels (the message says which).
        """
        hit = self._by_path.get(_norm_path(image))
        if hit is not None:
            return hit
        name = os.path.basename(image)
        stem, ext = os.path.splitext(name)
        if ext.lower() not in IMAGE_EXTENSIONS:
            stem = name
        found = self._by_stem.get(stem, [])
        if len(found) == 1:
            return found[0]
        if not found:
            skipped = (f"; {len(self.rejections)} ground-truth entries were unusable, first: "
                       f"{self.rejections[0].to_error()}" if self.rejections else "")
            raise KeyError(f"no ground-truth label for image {image!r} under {self.path} (looked for its path and "
                           f"for a label named {stem}.txt / gt_{stem}.txt / {stem}.csv){skipped}")
        raise KeyError(f"image {image!r} matches several ground-truth labels under {self.path}: {', '.join(found)}")


# ---------------------------------------------------------------------------------------------- loading


def load_det_images(results: PathLike, codec: Codec, gt: Union[None, PathLike, GroundTruthIndex] = None,
                    family: Optional[str] = None, allow_outside_root: bool = False,
                    codec_options: Optional[Mapping[str, Any]] = None) -> List[DetImage]:
    """Read a result file into one :class:`DetImage` per source image (first-appearance order).

    Args:
        results: the ``swift infer --result_path`` jsonl file.
        codec: the family codec (:func:`swift_ocr.codecs.get_codec`) the model was trained with.
        gt: None (ground truth = the rows' ``labels``) or the original labels (path or index; see
            :class:`GroundTruthIndex`).
        family: name used in error messages (default: ``codec.family``).
        allow_outside_root: for a ``gt`` list file, accept paths outside its folder.
        codec_options: the codec options ``codec`` was built with explicitly (``eval det --max-pixels``), checked
            against the settings rows record; rows that record settings are parsed with them (module docstring).

    Returns:
        Images with ground truth and detections in pixels of the source image; per-row parse reports in
        ``rows``. An image whose response parsed to nothing has ``det == []`` (its ground truth counts as
        missed). Exact duplicate objects are kept (every detection counts, as in the official ICDAR 2015
        script; ``codec`` is used as if built with ``dedupe=False``) and counted in the reports.

    Raises:
        OSError: the result file cannot be opened.
        OcrFormatError: see the module docstring; always names ``file:line`` of the row or the label file.
    """
    family = family or getattr(codec, "family", type(codec).__name__)
    if getattr(codec, "dedupe", False):  # scoring sees every detection: a repetition loop costs precision
        codec = copy.copy(codec)
        codec.dedupe = False
    source = os.fspath(results)
    results_dir = os.path.dirname(os.path.abspath(source))
    index = gt
    if gt is not None and not isinstance(gt, GroundTruthIndex):
        index = GroundTruthIndex(gt, allow_outside_root)
    images: Dict[str, DetImage] = {}
    row_codecs = _RowCodecs(codec, codec_options, family)
    for row, raw in iter_rows(source):
        tile = _tile_info(raw, source, row.line)
        row_codec = row_codecs(_recorded_codec(raw, source, row.line), source, row.line)
        if tile is not None:
            size, offset, src_image = tile
            own_image = row.images[0] if row.images else "<none>"
            key = _locate(src_image, results_dir) or src_image
        else:
            own_image = _row_image(row, results_dir)
            size, offset, key = _header_size(own_image, row), (0.0, 0.0), own_image
        key = _norm_path(key)
        item = images.get(key)
        if item is None:
            item = images[key] = DetImage(image=key)
            if tile is None:
                item.image_size = size
            elif os.path.isfile(key):
                item.image_size = _header_size(key, row)
            if index is not None:
                try:
                    item.label_file = index.label_for(key)
                except KeyError as e:
                    raise OcrFormatError(source, row.line, e.args[0], "no_label") from None
                item.gt = index.read(item.label_file)
        parsed = row_codec.parse(row.pred, size)
        item.det.extend(shift_region(r, *offset) for r in parsed.regions)
        info = RowInfo(line=row.line, image=own_image, image_size=size, offset=offset, report=parsed.report,
                       n_det=len(parsed.regions))
        if index is None:
            labels = row_codec.parse(row.ref, size)
            _check_labels(labels.report, row.ref, family, row)
            item.gt.extend(shift_region(r, *offset) for r in labels.regions)
            info.label_report = labels.report
        item.rows.append(info)
    return list(images.values())


def load_gt_images(gt: Union[PathLike, GroundTruthIndex], allow_outside_root: bool = False) -> List[DetImage]:
    """Ground truth alone (no results), one :class:`DetImage` per (image, label) pair, sorted by image path.

    Only layouts that name the images work: a dataset root or a list file.

    Raises:
        OcrFormatError: ``gt`` is a bare label folder (no images), has no pairs, or a label file is malformed.
    """
    index = gt if isinstance(gt, GroundTruthIndex) else GroundTruthIndex(gt, allow_outside_root)
    if not index.pairs:
        raise OcrFormatError(index.path, None, "ground truth alone needs the images too: pass a dataset root "
                             "(e.g. imgs/ + gts/) or a DBNet list file, not a folder of label files")
    out = []
    for pair in index.pairs:
        out.append(DetImage(image=_norm_path(pair.image), gt=index.read(pair.label), label_file=pair.label))
    return out
