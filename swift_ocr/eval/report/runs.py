"""The runs of a report: one ``swift infer --result_path`` file each, scored exactly as ``swift-ocr eval``.

Recognition runs are read with :func:`swift_ocr.eval.results.iter_results` and scored with
:func:`swift_ocr.eval.metrics.rec.score_pairs` -- the calls ``swift-ocr eval rec`` makes -- so :attr:`Run.metrics` is
the object ``eval rec --json`` prints (``cer``, ``wer``, ``ned`` = 1-NED, ``accuracy``, ``n``). Detection runs are
read with :func:`swift_ocr.eval.det_results.load_det_images` and scored with :func:`swift_ocr.eval.det_scoring.score` and
:func:`swift_ocr.eval.det_scoring.summary`, so :attr:`Run.metrics` is the object ``eval det --json`` prints.

Each run is a list of *items*: a result row (recognition) or a source image (detection, all its rows/tiles
together). Items of different runs are the same sample when their :attr:`Run.keys` are equal:

* recognition: ``(image paths, reference)`` -- the row's ``images`` (``os.path.normpath`` of each) and its raw
  (unnormalised) reference text;
* detection: ``(source image, ground truth)`` -- the normalised absolute image path and its ground-truth regions
  (polygons in pixels, texts, do-not-care flags).

Per-item error (:attr:`Run.errors`, the report's sort key, lower is better): recognition ``char_edits /
max(ref_chars, 1)`` -- the per-sample CER, and the number of inserted characters for an empty reference (whose
CER is undefined); detection ``1 - Hmean`` of the image (per-image rules of :class:`swift_ocr.eval.metrics.det.ImageMatch`).
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

import numpy as np

__all__ = ["MetricSpec", "REC_METRICS", "DET_METRICS", "DetOptions", "Run", "load_rec_run", "load_det_run"]


@dataclass(frozen=True)
class MetricSpec:
    """One column of the metrics table.

    Attributes:
        key: the key in the ``eval rec --json`` / ``eval det --json`` object.
        label: column heading.
        better: ``"lower"``, ``"higher"`` or None (a count with no better direction): colours the deltas.
        kind: ``"rate"`` (a float shown with 4 decimals) or ``"count"`` (an int).
        help: tooltip text (the definition).
    """

    key: str
    label: str
    better: Optional[str]
    kind: str
    help: str


REC_METRICS: Tuple[MetricSpec, ...] = (
    MetricSpec("cer", "CER", "lower", "rate", "character edits / reference characters, micro-averaged"),
    MetricSpec("wer", "WER", "lower", "rate", "word edits / reference words, micro-averaged"),
    MetricSpec("ned", "1-NED", "higher", "rate", "1 - mean(edits / max(len(pred), len(ref))), ICDAR 2019"),
    MetricSpec("accuracy", "accuracy", "higher", "rate", "exact-match rate"),
    MetricSpec("n", "rows", None, "count", "number of scored rows"),
)

DET_METRICS: Tuple[MetricSpec, ...] = (
    MetricSpec("precision", "precision", "higher", "rate", "matched / kept detections, summed over images"),
    MetricSpec("recall", "recall", "higher", "rate", "matched / care ground-truth regions, summed over images"),
    MetricSpec("hmean", "Hmean", "higher", "rate", "2PR / (P + R)"),
    MetricSpec("n_images", "images", None, "count", "images scored"),
    MetricSpec("n_gt", "GT regions", None, "count", "care ground-truth regions"),
    MetricSpec("n_det", "detections", None, "count", "kept detections"),
    MetricSpec("n_matched", "matched", None, "count", "one-to-one matches (IoU above the threshold)"),
    MetricSpec("unparsed", "unparsed", "lower", "count", "response fragments the codec could not parse"),
    MetricSpec("duplicates", "duplicates", "lower", "count", "exact repeats of an object in its response"),
    MetricSpec("responses_without_detections", "no detection", "lower", "count",
               "responses that gave no detection"),
    MetricSpec("extra_text", "extra text", "lower", "count", "response fragments outside any detection object"),
)


@dataclass(frozen=True)
class DetOptions:
    """How detection results are parsed and scored: the options of ``swift-ocr eval det`` of the same names.

    Attributes:
        model_family: codec family (a registered family, :func:`swift_ocr.families.family_names`); needed for
            swift infer rows only.
        min_pixels, max_pixels: qwen2_5_vl resize bounds (None: the processor's defaults).
        gt: original ICDAR-style labels (dataset root, label folder or list file), or None for the rows' labels.
        allow_outside_root: accept list-file paths outside the list file's folder.
        iou: IoU a match must exceed.
        spotting: None, ``"end_to_end"`` or ``"word_spotting"``.
        pred_format: the files' prediction format (:data:`swift_ocr.eval.predictions.PRED_FORMATS` or ``auto``):
            other detectors' files (ICDAR result files, PaddleOCR, MMOCR) need ``gt``.
        score_threshold: keep detections with a score >= this (None: all, scores ignored).
    """

    model_family: Optional[str] = None
    min_pixels: Optional[int] = None
    max_pixels: Optional[int] = None
    gt: Optional[str] = None
    allow_outside_root: bool = False
    iou: float = 0.5
    spotting: Optional[str] = None
    pred_format: str = "auto"
    score_threshold: Optional[float] = None

    def namespace(self, results: str) -> argparse.Namespace:
        """The ``argparse.Namespace`` ``eval det`` would have parsed for ``results`` (no ``--note``)."""
        return argparse.Namespace(results=results, note=None, pred=None, api=None, **{k: getattr(self, k) for k in (
            "model_family", "min_pixels", "max_pixels", "gt", "allow_outside_root", "iou", "spotting", "pred_format",
            "score_threshold")})

    def describe(self) -> str:
        """One line for the report: protocol, threshold, family, ground truth."""
        mode = (f"end-to-end spotting ({self.spotting}; texts compared case-insensitively after NFKC and whitespace "
                f"normalisation)" if self.spotting else "detection")
        gt = self.gt or "labels in the result rows (no ### regions)"
        family = f", model family {self.model_family}" if self.model_family else ""
        kept = f", detections with score >= {self.score_threshold}" if self.score_threshold is not None else ""
        return f"ICDAR 2015 Challenge 4 {mode}, IoU > {self.iou}{kept}{family}, ground truth: {gt}"


@dataclass
class Run:
    """One scored result file.

    Attributes:
        name: the run's label (``--name``).
        path: the result file.
        task: ``"rec"`` or ``"det"``.
        metrics: the ``eval rec --json`` / ``eval det --json`` object of the file.
        keys: one matching key per item (module docstring), in file order.
        errors: ``float64`` array, one error per item (module docstring), lower is better.
        rec: recognition: the :class:`~swift_ocr.eval.metrics.rec.RecResult` (item i = scored pair i).
        lines: recognition: the 1-based result-file line of each item; detection: each image's lines.
        images: recognition: the ``images`` of each row (as written in the file).
        det_items: detection: the :class:`~swift_ocr.eval.det_results.DetImage` of each item.
        det_result: detection: the :class:`~swift_ocr.eval.metrics.det.DetResult` (``images[i]`` = item i's match).
        options: recognition: the :class:`~swift_ocr.eval.metrics.rec.NormOptions`; detection: the :class:`DetOptions`.
    """

    name: str
    path: str
    task: str
    metrics: dict
    keys: List[tuple]
    errors: np.ndarray
    rec: Any = None
    lines: List[Any] = field(default_factory=list)
    images: List[List[str]] = field(default_factory=list)
    det_items: List[Any] = field(default_factory=list)
    det_result: Any = None
    options: Any = None

    def __len__(self) -> int:
        return len(self.keys)


def _image_key(path: str) -> str:
    return path if path == "<bytes>" else os.path.normpath(path)


def load_rec_run(path: str, name: str, options=None) -> Run:
    """Read and score a recognition result file as ``swift-ocr eval rec`` does.

    Args:
        path: the ``swift infer --result_path`` jsonl file.
        name: the run's label.
        options: :class:`~swift_ocr.eval.metrics.rec.NormOptions` (default: NFKC, case kept, whitespace runs -> one space).

    Raises:
        OSError: the file cannot be read.
        OcrFormatError: a malformed row (``file:line: reason``), or no rows at all.
    """
    from swift_ocr.errors import OcrFormatError
    from swift_ocr.eval.metrics.rec import DEFAULT_OPTIONS, score_pairs
    from swift_ocr.eval.results import iter_results

    options = DEFAULT_OPTIONS if options is None else options
    preds, refs, keys, lines, images = [], [], [], [], []
    for row in iter_results(path):
        preds.append(row.pred)
        refs.append(row.ref)
        keys.append((tuple(_image_key(p) for p in row.images), row.ref))
        lines.append(row.line)
        images.append(row.images)
    if not keys:
        raise OcrFormatError(os.fspath(path), None, "no result rows to score")
    result = score_pairs(preds, refs, options)
    errors = result.char_edits / np.maximum(result.ref_chars, 1)
    return Run(name=name, path=os.fspath(path), task="rec", metrics=result.overall.metrics(), keys=keys,
               errors=errors.astype(np.float64), rec=result, lines=lines, images=images, options=options)


def _gt_signature(regions) -> tuple:
    return tuple((tuple((float(x), float(y)) for x, y in r.polygon), r.text, bool(r.dont_care)) for r in regions)


def load_det_run(path: str, name: str, options: DetOptions) -> Run:
    """Read and score a detection result file (or another detector's predictions, ``options.pred_format``) as
    ``swift-ocr eval det`` does (same functions, same options).

    Raises:
        OSError: the file or an image cannot be read.
        OcrFormatError: malformed rows, missing images or ground truth, or no rows at all.
        ValueError: bad options (thresholds, pixel bounds given to another family, swift rows without a family,
            other formats without ``gt``).
    """
    from swift_ocr.eval.det_scoring import codec_for, load_system, pred_inputs, summary

    args = options.namespace(os.fspath(path))
    (system,) = pred_inputs(args)
    codec = codec_for(args, [system.path] if system.is_swift_rows else [])
    items, result = load_system(system, args, codec, args.gt)
    keys = [(it.image, _gt_signature(it.gt)) for it in items]
    errors = np.array([1.0 - m.hmean for m in result.images], dtype=np.float64)
    return Run(name=name, path=args.results, task="det", metrics=summary(result, items, args, system), keys=keys,
               errors=errors, lines=[it.lines for it in items], images=[[it.image] for it in items],
               det_items=items, det_result=result, options=options)
