"""What every detection-prediction reader shares: the per-image record a reader yields
(:class:`ImagePredictions`), score checks, and :func:`assemble`, which pairs each image's detections with its
ground truth into the :class:`~swift_ocr.eval.det_results.DetImage` items ``swift-ocr eval det`` scores.

Coordinates: every polygon is in **pixels of the original image** (the readers' formats all write them so:
ICDAR 2015 result files, PaddleOCR's inference outputs, MMOCR's inferencer), kept as read (no clipping, no
reordering: the ICDAR 2015 protocol scores detections as given; invalid polygons are the protocol's business,
:mod:`swift_ocr.eval.metrics.det`).

Predictions have no do-not-care: a detection whose text is ``###`` is an ordinary detection with that text (when it
lies on a ground-truth do-not-care region the protocol discards it like any detection there).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from swift_ocr.errors import OcrFormatError
from swift_ocr.eval.det_results import DetImage, GroundTruthIndex
from swift_ocr.formats.coordinates import finite_number
from swift_ocr.sample import Region

__all__ = ["ImagePredictions", "number_or_none", "assemble"]


@dataclass
class ImagePredictions:
    """The detections one prediction file (or one line / entry of it) gives for one image.

    Attributes:
        image: the image as the predictions name it: a path (absolute, or relative to ``base_dir`` or the current
            folder), a file name, or a file stem (ICDAR result files, MMOCR per-image files name the stem only).
        regions: the detections, polygons in pixels of the original image, ``text`` ``""`` when the format gave
            none; ``dont_care`` always False; ``line`` the 1-based line of the detection in ``source`` when it has
            one of its own (ICDAR result files).
        scores: one confidence per region (None where the format gave none).
        source: the file the detections were read from.
        line: the 1-based line (PaddleOCR) or entry (MMOCR single file) of ``source``, None for a per-image file.
        base_dir: the folder a relative ``image`` path is looked up in first (the prediction file's folder).
    """

    image: str
    regions: List[Region] = field(default_factory=list)
    scores: List[Optional[float]] = field(default_factory=list)
    source: str = ""
    line: Optional[int] = None
    base_dir: Optional[str] = None

    def where(self) -> str:
        """``source:line`` (or ``source``) for messages."""
        return f"{self.source}:{self.line}" if self.line is not None else self.source


def number_or_none(value: Any, source: str, line: Optional[int], what: str) -> Optional[float]:
    """A score: None stays None, else a finite number.

    Raises:
        OcrFormatError: kind ``bad_record``: anything else.
    """
    if value is None:
        return None
    v = finite_number(value)
    if v is None:
        raise OcrFormatError(source, line, f"{what} must be a finite number, got {value!r:.40}", "bad_record")
    return v


def _locate(image: str, base_dir: Optional[str]) -> Optional[str]:
    """An existing file for ``image``: relative to ``base_dir`` first, then as given; None when neither exists."""
    if base_dir and not os.path.isabs(image):
        alt = os.path.join(base_dir, image)
        if os.path.isfile(alt):
            return alt
    return image if os.path.isfile(image) else None


def _threshold(pred: ImagePredictions, score_threshold: Optional[float]) -> List[Region]:
    """The regions kept: all of them, or with ``score_threshold`` those whose score is >= it.

    Raises:
        OcrFormatError: a threshold for a detection without a score.
    """
    if score_threshold is None:
        return list(pred.regions)
    kept = []
    for region, score in zip(pred.regions, pred.scores):
        if score is None:
            raise OcrFormatError(pred.source, region.line if region.line is not None else pred.line,
                                 f"--score-threshold needs a score for every detection; image {pred.image!r} has "
                                 "detections without one (this format/file gives none)", "bad_record")
        if score >= score_threshold:
            kept.append(region)
    return kept


def assemble(preds: Sequence[ImagePredictions], index: GroundTruthIndex, score_threshold: Optional[float] = None,
             every_gt_image: bool = False) -> List[DetImage]:
    """Pair each image's detections with its ground truth.

    Args:
        preds: the reader's records, in file order.
        index: the ground truth (``--gt``); an image is matched to its label by path, else by file stem
            (:meth:`~swift_ocr.eval.det_results.GroundTruthIndex.label_for`).
        score_threshold: keep only detections with a score >= this (None: every detection, scores ignored).
        every_gt_image: score every ground-truth image, those without predictions with no detection (ICDAR 2015
            submissions: an image without a result file has no detection); else only the images ``preds`` name.

    Returns:
        One :class:`~swift_ocr.eval.det_results.DetImage` per image: ``image`` the ground truth's image path when the
        ground truth names images (so that several systems key the same image alike), else the predictions' image
        file when it exists, else the name as given; ground truth read from its label file; order: the ground
        truth's (``every_gt_image``) or the predictions'.

    Raises:
        OcrFormatError: an image without ground truth (``no_label``), two records for one image
            (``duplicate_image``), a score threshold without scores, an unreadable label file.
    """
    by_label: Dict[str, DetImage] = {}
    where: Dict[str, str] = {}
    for pred in preds:
        located = _locate(pred.image, pred.base_dir)
        try:
            label = index.label_for(located or pred.image)
        except KeyError as e:
            raise OcrFormatError(pred.source, pred.line, e.args[0], "no_label") from None
        if label in by_label:
            raise OcrFormatError(pred.source, pred.line, f"image {pred.image!r} has detections twice (ground truth "
                                 f"{label}); the first are at {where[label]}", "duplicate_image")
        image = index.image_for_label(label)
        if image is None:
            image = os.path.normpath(os.path.abspath(located)) if located else pred.image
        item = DetImage(image=image, det=_threshold(pred, score_threshold), label_file=label,
                        pred_source=pred.where())
        by_label[label] = item
        where[label] = pred.where()
    if not every_gt_image:
        items = list(by_label.values())
    else:
        items = []
        for label in index.label_files():
            item = by_label.get(label)
            if item is None:
                item = DetImage(image=index.image_for_label(label) or label, label_file=label)
            items.append(item)
    for item in items:
        item.gt = index.read(item.label_file)
    return items
