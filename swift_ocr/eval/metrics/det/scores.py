"""What the ICDAR 2015 detection protocol (:mod:`swift_ocr.eval.metrics.det`) returns: one :class:`Match` per
matched pair, one :class:`ImageMatch` per image (per-image precision/recall with the official per-sample rules),
one :class:`DetResult` per dataset (scores from sums over images), and the harmonic mean they share."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import List, Optional


def harmonic_mean(p: float, r: float) -> float:
    """Harmonic mean ``2PR / (P + R)`` of precision and recall, 0.0 when ``P + R == 0``."""
    return 0.0 if p + r == 0 else 2.0 * p * r / (p + r)


@dataclass(frozen=True)
class Match:
    """One geometric one-to-one match.

    Attributes:
        gt: index into the image's ground-truth list (as passed in).
        det: index into the image's detection list (as passed in).
        iou: intersection over union of the two polygons (> the IoU threshold).
        text_ok: True when the pair counts as correct: always True in detection mode; in spotting modes,
            whether the transcriptions agree (a False pair is a miss and a false positive).
    """

    gt: int
    det: int
    iou: float
    text_ok: bool = True


@dataclass
class ImageMatch:
    """Matching result for one image. All indices refer to the ground-truth / detection lists as passed in.

    Attributes:
        image_id: caller's name for the image (used in error messages), or None.
        n_gt: care ground-truth regions (excludes do-not-care, and invalid ones under ``invalid="skip"``).
        n_det: detections kept (excludes discarded ones, and invalid ones under ``invalid="skip"``).
        n_matched: correct matches (``text_ok`` pairs).
        matches: geometric one-to-one matches in the order they were made.
        unmatched_gt: care ground truth with no geometric match (misses), ascending.
        unmatched_det: kept detections with no geometric match (false positives), ascending.
        dont_care_gt: ground truth treated as do-not-care (``Region.dont_care``, plus non-dictionary words
            in ``"word_spotting"`` mode), ascending.
        discarded_det: detections discarded by the do-not-care area rule, ascending.
        invalid_gt: ground truth with an invalid polygon (see module docstring), ascending.
        invalid_det: detections with an invalid polygon, ascending.
    """

    image_id: Optional[str]
    n_gt: int
    n_det: int
    n_matched: int
    matches: List[Match] = field(default_factory=list)
    unmatched_gt: List[int] = field(default_factory=list)
    unmatched_det: List[int] = field(default_factory=list)
    dont_care_gt: List[int] = field(default_factory=list)
    discarded_det: List[int] = field(default_factory=list)
    invalid_gt: List[int] = field(default_factory=list)
    invalid_det: List[int] = field(default_factory=list)

    @property
    def wrong_text(self) -> List[Match]:
        """Geometric matches whose transcription is wrong (spotting modes only; empty in detection mode)."""
        return [m for m in self.matches if not m.text_ok]

    @property
    def recall(self) -> float:
        """Per-image recall, official per-sample rule: 1.0 when there is no care ground truth."""
        return 1.0 if self.n_gt == 0 else self.n_matched / self.n_gt

    @property
    def precision(self) -> float:
        """Per-image precision, official per-sample rule: with no care ground truth, 1.0 if no kept
        detection else 0.0; otherwise 0.0 when there is no kept detection."""
        if self.n_gt == 0:
            return 0.0 if self.n_det > 0 else 1.0
        return 0.0 if self.n_det == 0 else self.n_matched / self.n_det

    @property
    def hmean(self) -> float:
        return harmonic_mean(self.precision, self.recall)

    def to_dict(self) -> dict:
        """JSON-ready dict (lists of ints, matches as dicts, plus per-image precision/recall/hmean)."""
        d = asdict(self)
        d.update(precision=self.precision, recall=self.recall, hmean=self.hmean)
        return d


@dataclass
class DetResult:
    """Dataset-level scores (from sums over images, as the official script) plus per-image records.

    Attributes:
        precision: ``n_matched / n_det`` (0.0 when ``n_det == 0``).
        recall: ``n_matched / n_gt`` (0.0 when ``n_gt == 0``).
        hmean: ``2PR / (P + R)`` (0.0 when ``P + R == 0``).
        n_images: number of images scored.
        n_gt: care ground-truth regions over all images.
        n_det: kept (non-discarded) detections over all images.
        n_matched: correct matches over all images.
        images: one :class:`ImageMatch` per image, in input order.
    """

    precision: float
    recall: float
    hmean: float
    n_images: int
    n_gt: int
    n_det: int
    n_matched: int
    images: List[ImageMatch] = field(default_factory=list)

    def summary(self) -> dict:
        """The scalar fields as a dict (for JSON reports)."""
        return {k: getattr(self, k) for k in
                ("precision", "recall", "hmean", "n_images", "n_gt", "n_det", "n_matched")}
