"""Detection predictions of any detector, read into the per-image items ``swift-ocr eval det``, ``draw`` and
``report`` score (:class:`~swift_ocr.eval.det_results.DetImage`: ground truth and detections in pixels of the
original image), so that a VLM fine-tuned here and DBNet / PP-OCR / MMOCR detectors are scored alike, with the same
ICDAR 2015 protocol against the same ground truth.

Formats (``--pred-format``; one module each):

* ``swift``: ``swift infer --result_path`` rows of a detection-as-text model, parsed with the family codec
  (:mod:`swift_ocr.eval.det_results`; ground truth from the rows' ``labels`` or ``--gt``);
* ``icdar``: ICDAR 2015 result files ``res_<image stem>.txt`` in a folder or ``.zip``
  (:mod:`~swift_ocr.eval.predictions.icdar_res`);
* ``paddle``: PaddleOCR results ``<image><TAB>[{"points": ..., "transcription"?}]``
  (:mod:`~swift_ocr.eval.predictions.paddle_det`);
* ``mmocr``: MMOCR 1.x inferencer predictions (:mod:`~swift_ocr.eval.predictions.mmocr`).

The last three need the ground truth (``--gt``: :class:`~swift_ocr.eval.det_results.GroundTruthIndex`), matched to
each image by path or stem. ``auto`` (:func:`detect_format`) decides from the path: a folder of ``res_*.txt`` or a
``.zip`` -> ``icdar``; a folder of ``*.json`` or a ``.json`` file -> ``mmocr``; a ``.jsonl`` file, or a file whose
first line is a JSON object -> ``swift``; a file whose first line is ``<image><TAB>[`` -> ``paddle``. Scores are
ignored unless a score threshold is given (then a detection is kept when its score is >= the threshold; a format or file without scores is
an error).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Union

from swift_ocr.errors import OcrFormatError
from swift_ocr.eval.det_results import DetImage, GroundTruthIndex

__all__ = ["PRED_FORMATS", "PredInput", "parse_pred_arg", "detect_format", "load_predictions"]

#: ``--pred-format`` values besides ``auto``.
PRED_FORMATS = ("swift", "icdar", "paddle", "mmocr")
_NAME = re.compile(r"^[\w.+-]+$")


@dataclass(frozen=True)
class PredInput:
    """One system to score: its name (shown in tables and ``--json``), prediction path and format."""

    name: str
    path: str
    format: str = "auto"

    @property
    def is_swift_rows(self) -> bool:
        """``swift infer`` result rows: model text that the family codec parses into boxes (``--model-family``
        needed); every other format is boxes already."""
        return self.format == "swift"


def parse_pred_arg(value: str) -> PredInput:
    """``NAME=PATH`` or ``PATH`` (the name is then the path's file or folder name) as a :class:`PredInput`. A value
    whose text before the first ``=`` is not a plain name (letters, digits, ``_.+-``), or that is an existing path, is
    a path.

    Raises:
        ValueError: an empty path.
    """
    name, eq, path = value.partition("=")
    if not eq or not _NAME.match(name) or os.path.exists(value):
        name, path = "", value
    if not path:
        raise ValueError(f"--pred {value!r}: give NAME=PATH or PATH")
    return PredInput(name or os.path.basename(os.path.normpath(path)) or path, path)


def _first_line(path: str) -> str:
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", "replace").lstrip("\ufeff").strip("\r\n")
            if line.strip():
                return line
    return ""


def detect_format(path: str) -> str:
    """The prediction format of ``path`` (see module docstring).

    Raises:
        OcrFormatError: the path does not exist, or it fits no format (or two: a folder of both ``res_*.txt`` and
            ``*.json``); the message says to pass the format.
    """
    from swift_ocr.eval.predictions.icdar_res import is_res_name
    from swift_ocr.eval.predictions.paddle_det import looks_like_paddle

    if os.path.isdir(path):
        names = [n for n in os.listdir(path) if not n.startswith(".")]
        res = any(is_res_name(n) for n in names)
        js = any(n.lower().endswith(".json") for n in names)
        if res != js:
            return "icdar" if res else "mmocr"
        raise OcrFormatError(path, None, "cannot tell the prediction format of this folder (expected ICDAR result "
                             "files res_<stem>.txt or MMOCR <stem>.json files" + (", found both" if res else "") +
                             "): pass --pred-format")
    low = path.lower()
    if low.endswith(".jsonl"):  # what swift infer --result_path writes (read, and checked, as such)
        return "swift"
    if not os.path.isfile(path):
        raise OcrFormatError(path, None, "predictions: no such file or folder", "file_not_found")
    if low.endswith(".zip"):
        return "icdar"
    if low.endswith(".json"):
        return "mmocr"
    try:
        line = _first_line(path)
    except OSError as e:
        raise OcrFormatError(path, None, f"cannot read predictions: {e}", "unreadable_file") from e
    if looks_like_paddle(line):
        return "paddle"
    try:
        if isinstance(json.loads(line), dict):
            return "swift"
    except ValueError:
        pass
    raise OcrFormatError(path, None, "cannot tell the prediction format from the first line "
                         f"{line[:60]!r} (swift infer rows are JSON objects, PaddleOCR results '<image><TAB>[...]'): "
                         "pass --pred-format")


def load_predictions(path: str, fmt: str = "auto", *, gt: Union[None, str, GroundTruthIndex] = None, codec=None,
                     family: Optional[str] = None, allow_outside_root: bool = False,
                     score_threshold: Optional[float] = None,
                     codec_options: Optional[Dict[str, Any]] = None) -> List[DetImage]:
    """Read one system's predictions into scored items (ground truth and detections per image).

    Args:
        path: the prediction file or folder.
        fmt: one of :data:`PRED_FORMATS` or ``auto`` (:func:`detect_format`).
        gt: the ground truth (path or index): optional for ``swift`` (default: the rows' ``labels``), required
            for the other formats.
        codec, family: ``swift`` only: the family codec and its name (:func:`swift_ocr.codecs.get_codec`).
        allow_outside_root: a ``gt`` list file: accept paths outside its folder.
        score_threshold: keep detections whose score is >= this (None: all; scores ignored).
        codec_options: ``swift`` only: the codec options given explicitly (``--max-pixels``), checked against the
            settings rows record (:func:`~swift_ocr.eval.det_results.load_det_images`).

    Returns:
        One :class:`~swift_ocr.eval.det_results.DetImage` per image (see
        :func:`~swift_ocr.eval.predictions.common.assemble`; ``swift``: as
        :func:`~swift_ocr.eval.det_results.load_det_images`).

    Raises:
        ValueError: an unknown format, ``swift`` without a codec or with a score threshold, another format without
            ``gt``.
        OcrFormatError: unreadable or malformed predictions or ground truth (naming file and line), an image without
            ground truth, an image named twice.
        OSError: a result file that cannot be opened (``swift``).
    """
    from swift_ocr.eval.det_results import load_det_images
    from swift_ocr.eval.predictions.common import assemble

    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt not in PRED_FORMATS:
        raise ValueError(f"unknown prediction format {fmt!r}; choose from auto, {', '.join(PRED_FORMATS)}")
    if fmt == "swift":
        if codec is None:
            raise ValueError(f"{path}: swift infer result rows need --model-family (the codec that parses them)")
        if score_threshold is not None:
            raise ValueError(f"{path}: --score-threshold: swift infer result rows carry no detection scores")
        return load_det_images(path, codec, gt=gt, family=family, allow_outside_root=allow_outside_root,
                               codec_options=codec_options)
    if gt is None:
        raise ValueError(f"{path}: {fmt} predictions need the ground truth: pass --gt")
    index = gt if isinstance(gt, GroundTruthIndex) else GroundTruthIndex(gt, allow_outside_root)
    if fmt == "icdar":
        from swift_ocr.eval.predictions.icdar_res import read_res_folder
        return assemble(read_res_folder(path), index, score_threshold, every_gt_image=True)
    if fmt == "paddle":
        from swift_ocr.eval.predictions.paddle_det import read_paddle_results
        return assemble(read_paddle_results(path), index, score_threshold)
    from swift_ocr.eval.predictions.mmocr import read_mmocr
    return assemble(read_mmocr(path), index, score_threshold)
