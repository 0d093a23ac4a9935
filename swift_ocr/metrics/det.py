"""Text detection scoring: the ICDAR 2015 Challenge 4 protocol (precision / recall / Hmean) and word spotting.

Protocol source: the official evaluation script of the Robust Reading Competition, Challenge 4 "Incidental
Scene Text" (https://rrc.cvc.uab.es/?ch=4, ``script.py`` + ``rrc_evaluation_funcs.py``; Task 4.1 for
detection, Task 4.4 for end-to-end / word spotting), as also reproduced by PaddleOCR
(``ppocr/metrics/eval_det_iou.py``, after DBNet's ``concern/icdar2015_eval/detection/iou.py``) and MMOCR
(``mmocr/evaluation/metrics/hmean_iou_metric.py``, ``strategy='vanilla'``). Per image:

1. Ground-truth regions marked do-not-care (``Region.dont_care``, ``###`` in ICDAR files) are not targets.
2. A detection whose intersection with **any one** do-not-care region is ``> dont_care_threshold`` (0.5) of
   the detection's own area is discarded: it counts neither as a detection nor as an error. A detection
   with zero area is never discarded (the script's ``precision = 0 if pdDimensions == 0``).
3. One-to-one matching: pairs are visited in order (ground truth outer loop, detections inner loop, both
   in input order); a pair matches when neither side is matched yet, the ground truth is not
   do-not-care, the detection is not discarded and ``IoU > iou_threshold`` -- **strictly greater**, as the
   script's ``iouMat[gtNum, detNum] > evaluationParams['IOU_CONSTRAINT']``. IoU is computed as the script
   does: ``inter / (area_det + area_gt - inter)`` with ``inter = area(det & gt)``; IoU exactly 0.5 does
   not match.
4. Dataset scores come from **sums over images** (``matchedSum``, ``numGlobalCareGt``,
   ``numGlobalCareDet``), never from averaging per-image scores: ``recall = matched / care_gt`` (0 when
   there is no care ground truth), ``precision = matched / kept_det`` (0 when there is no kept detection),
   ``hmean = 2PR / (P + R)`` (0 when ``P + R == 0``). So a dataset with no ground truth and no detection
   scores P = R = H = 0. Per-image scores (:class:`ImageMatch` properties) follow the script's
   per-sample rules instead: no care ground truth gives recall 1 and precision 1 if there is no kept
   detection either, else 0.

Coordinates: polygons are ``[(x, y), ...]`` in pixels of the original image (:class:`swift_ocr.sample.Region`),
3 or more vertices (ICDAR quads have 4; the official script accepts only 4), any orientation (area and
intersection do not depend on it; the official script *rejects* a submission with counter-clockwise
quads at format-validation time, this module does not). Boxes ``(x1, y1, x2, y2)`` go through
:func:`box_to_polygon` / :func:`box_region`. The official script truncates every coordinate with
``int()`` before building polygons (its ``polygon_from_points`` fills an ``int32`` array);
PaddleOCR/MMOCR do not. ``truncate_coords=True`` reproduces the official script; the default (False)
keeps float coordinates, which is identical for integer coordinates such as the ICDAR/SROIE ground truth.

Invalid polygons (shapely ``is_valid`` is False: self-intersecting "bow-tie" quads, zero-area boxes,
repeated vertices that collapse the ring). The official script hands them to the ``Polygon`` (GPC) library
without checks, whose areas for such shapes are not meaningful; a zero-area detection there has IoU 0
with everything and still counts as a detection. ``invalid=`` chooses:

* ``"count"`` (default): the region stays in the counts (a care ground truth still needs a match, a
  detection still counts as a detection) but it matches nothing and discards nothing -- the official
  script's behaviour for zero-area detections, applied to every invalid polygon, so a malformed output
  costs precision instead of vanishing. Listed in :attr:`ImageMatch.invalid_gt` / ``invalid_det``.
* ``"skip"``: PaddleOCR/DBNet behaviour (``if not Polygon(points).is_valid ...: continue``): left out of
  every count and of the matching, still listed in ``invalid_gt`` / ``invalid_det`` (never dropped silently).
* ``"raise"``: :class:`ValueError` naming the image, the side, the index and the line.

Polygons with fewer than 3 vertices or non-finite coordinates are malformed input and always raise
:class:`ValueError`.

Word spotting / end-to-end (``spotting=``). As in the Task 4.4 script, matching is geometric first
(exactly the detection protocol above) and a matched pair then counts only if its transcriptions agree; a
pair with the wrong text uses up both its ground truth and its detection (no re-matching), so it is a
miss *and* a false positive. Comparison is on ``str.upper()`` of both sides, no Unicode normalisation,
no whitespace trimming of the detection:

* ``True`` or ``"end_to_end"`` (the script with ``WORD_SPOTTING = False``): the texts are equal, or equal
  after removing one special character (``!?.:,*"()·[]/'``) from the start and/or the end of the
  ground truth (``transcription_match`` with ``ONLY_REMOVE_FIRST_LAST_CHARACTER = True``).
* ``"word_spotting"`` (``WORD_SPOTTING = True``): a care ground truth that is not a "dictionary word" in
  the script's sense (``include_in_dictionary``: after dropping a final ``'s``, stripping ``-`` and
  replacing ``'!?.:,*"()·[]/`` by spaces, it must be a single word of at least 3 characters from
  ``a-z A-Z À-ƿ Ǆ-ɿ Ά-Ͽ -`` -- so no digits) becomes do-not-care (and discards detections like one);
  the others are normalised that way and must equal the detection's text exactly (case-insensitive).

Two implementations with identical results: :func:`match_image_naive` (the reference: all pairs, one
shapely call per pair, the script's loop order) and :func:`match_image` (bounding-box prefilter with
numpy, then exact polygon intersections only for pairs whose boxes touch, computed with shapely's
vectorised functions; the greedy matching visits the surviving pairs in the same order). Pairs whose
bounding boxes do not touch have intersection area exactly 0, so they can neither match (thresholds are
``>= 0`` and the test is strict) nor discard a detection.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import shapely
from shapely.validation import explain_validity

from ..sample import Point, Region, Sample

SPECIAL_CHARACTERS = "!?.:,*\"()·[]/'"
"""``SPECIAL_CHARACTERS`` of the Task 4.4 script: may be missing at the start/end of a detection (end-to-end)."""

_WS_SPECIAL = "'!?.:,*\"()·[]/"
_WS_NOT_ALLOWED = "×÷·"
_WS_RANGES = ((ord("a"), ord("z")), (ord("A"), ord("Z")), (ord("À"), ord("ƿ")), (ord("Ǆ"), ord("ɿ")),
              (ord("Ά"), ord("Ͽ")), (ord("-"), ord("-")))
_WS_MIN_LENGTH = 3  # MIN_LENGTH_CARE_WORD of the Task 4.4 script

_INVALID_POLICIES = ("count", "skip", "raise")
_SPOTTING_MODES = ("end_to_end", "word_spotting")


# ----------------------------------------------------------------------------------------------- results


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
        return _hmean(self.precision, self.recall)

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


# ----------------------------------------------------------------------------------------------- helpers


def box_to_polygon(box: Sequence[float]) -> List[Point]:
    """Axis-aligned box ``(x1, y1, x2, y2)`` (pixels, ``x1 <= x2``, ``y1 <= y2``) to its 4 corners
    ``[(x1, y1), (x2, y1), (x2, y2), (x1, y2)]``, clockwise from the top-left in image coordinates (y down).

    Coordinates are not truncated (the official script's ``LTRB`` mode applies ``int()``; see
    ``truncate_coords``). A zero-width or zero-height box is accepted here and is an invalid polygon for
    scoring.

    Raises:
        ValueError: not 4 finite numbers, or ``x2 < x1`` / ``y2 < y1``.
    """
    if len(box) != 4:
        raise ValueError(f"box must be (x1, y1, x2, y2), got {len(box)} value(s): {box!r}")
    x1, y1, x2, y2 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        raise ValueError(f"box has a non-finite coordinate: {box!r}")
    if x2 < x1 or y2 < y1:
        raise ValueError(f"box must have x1 <= x2 and y1 <= y2, got {box!r}")
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


def box_region(box: Sequence[float], text: str = "", dont_care: bool = False) -> Region:
    """A :class:`Region` from an axis-aligned box ``(x1, y1, x2, y2)`` in pixels (see :func:`box_to_polygon`)."""
    return Region(polygon=box_to_polygon(box), text=text, dont_care=dont_care)


def _hmean(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2.0 * p * r / (p + r)


def _ws_normalise(t: str) -> str:
    """``include_in_dictionary_transcription`` of the Task 4.4 script."""
    if t[-2:] in ("'s", "'S"):
        t = t[:-2]
    t = t.strip("-")
    for c in _WS_SPECIAL:
        t = t.replace(c, " ")
    return t.strip()


def _ws_in_dictionary(t: str) -> bool:
    """``include_in_dictionary`` of the Task 4.4 script (with ``MIN_LENGTH_CARE_WORD = 3``)."""
    t = _ws_normalise(t)
    if " " in t or len(t) < _WS_MIN_LENGTH:
        return False
    for ch in t:
        if ch in _WS_NOT_ALLOWED:
            return False
        if not any(lo <= ord(ch) <= hi for lo, hi in _WS_RANGES):
            return False
    return True


def _e2e_match(gt: str, det: str) -> bool:
    """``transcription_match`` of the Task 4.4 script on upper-cased texts (``ONLY_REMOVE_FIRST_LAST_CHARACTER``)."""
    g, d = gt.upper(), det.upper()
    if g == d:
        return True
    if not g:  # the script indexes transGt[0], raises, and its caller scores the pair as wrong
        return False
    first, last = g[0] in SPECIAL_CHARACTERS, g[-1] in SPECIAL_CHARACTERS
    return ((first and g[1:] == d) or (last and g[:-1] == d)
            or (first and last and g[1:-1] == d))


def _spotting_mode(spotting: Union[bool, str]) -> Optional[str]:
    if spotting is False or spotting is None:
        return None
    if spotting is True:
        return "end_to_end"
    if spotting in _SPOTTING_MODES:
        return spotting
    raise ValueError(f"spotting must be False, True, 'end_to_end' or 'word_spotting', got {spotting!r}")


def _check_params(iou_threshold: float, dont_care_threshold: float, invalid: str) -> None:
    for name, v in (("iou_threshold", iou_threshold), ("dont_care_threshold", dont_care_threshold)):
        if not (0.0 <= v <= 1.0):
            raise ValueError(f"{name} must be in [0, 1], got {v!r}")
    if invalid not in _INVALID_POLICIES:
        raise ValueError(f"invalid must be one of {_INVALID_POLICIES}, got {invalid!r}")


def _where(image_id: Optional[str], side: str, index: int, region) -> str:
    line = getattr(region, "line", None)
    img = image_id if image_id is not None else "<image>"
    return f"{img}: {side} #{index}" + (f" (line {line})" if line is not None else "")


@dataclass
class _Side:
    """Polygons of one side of one image. ``geoms[i]`` is None for invalid polygons."""

    geoms: np.ndarray  # object array of shapely Polygons / None
    valid: np.ndarray  # bool
    area: np.ndarray  # float64, 0.0 where invalid
    bounds: np.ndarray  # (n, 4) float64 (xmin, ymin, xmax, ymax), nan where invalid


def _prepare(regions: Sequence[Region], side: str, image_id: Optional[str], invalid: str,
             truncate: bool) -> _Side:
    n = len(regions)
    coords = []
    for i, r in enumerate(regions):
        try:
            arr = np.asarray(r.polygon, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{_where(image_id, side, i, r)}: polygon is not a list of (x, y) points: {e}") from None
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 3:
            raise ValueError(f"{_where(image_id, side, i, r)}: polygon must be at least 3 (x, y) points, "
                             f"got {r.polygon!r}")
        coords.append(arr)
    # one vectorised shapely call per vertex count (all 4 for quads and boxes)
    geoms = np.empty(n, dtype=object)
    sizes = np.array([len(c) for c in coords], dtype=np.intp)
    for k in np.unique(sizes):
        idx = np.flatnonzero(sizes == k)
        stacked = np.stack([coords[i] for i in idx])
        finite = np.isfinite(stacked).all(axis=(1, 2))
        if not finite.all():
            i = int(idx[np.flatnonzero(~finite)[0]])
            raise ValueError(f"{_where(image_id, side, i, regions[i])}: polygon has a non-finite coordinate: "
                             f"{regions[i].polygon!r}")
        if truncate:
            stacked = np.trunc(stacked)
        geoms[idx] = shapely.polygons(stacked)
    valid = shapely.is_valid(geoms) if n else np.zeros(0, dtype=bool)
    valid = np.asarray(valid, dtype=bool)
    if invalid == "raise" and not valid.all():
        i = int(np.flatnonzero(~valid)[0])
        raise ValueError(f"{_where(image_id, side, i, regions[i])}: invalid polygon "
                         f"({explain_validity(geoms[i])}): {regions[i].polygon!r}")
    geoms[~valid] = None
    area = np.zeros(n, dtype=np.float64)
    bounds = np.full((n, 4), np.nan)
    if valid.any():
        area[valid] = shapely.area(geoms[valid])
        bounds[valid] = shapely.bounds(geoms[valid])
    return _Side(geoms, valid, area, bounds)


def _setup(gt, det, image_id, spotting, invalid, truncate):
    """Shared by both implementations: polygons, do-not-care flags, ground-truth texts to compare."""
    mode = _spotting_mode(spotting)
    g = _prepare(gt, "gt", image_id, invalid, truncate)
    d = _prepare(det, "det", image_id, invalid, truncate)
    dont_care = np.array([bool(r.dont_care) for r in gt], dtype=bool)
    gt_texts = [r.text for r in gt]
    if mode == "word_spotting":
        for i, r in enumerate(gt):
            if not dont_care[i]:
                if _ws_in_dictionary(r.text):
                    gt_texts[i] = _ws_normalise(r.text)
                else:
                    dont_care[i] = True
    return mode, g, d, dont_care, gt_texts


def _text_ok(mode: Optional[str], gt_text: str, det_text: Optional[str]) -> bool:
    if mode is None:
        return True
    det_text = det_text or ""
    if mode == "word_spotting":
        return gt_text.upper() == det_text.upper()
    return _e2e_match(gt_text, det_text)


def _finish(image_id, gt, det, g, d, dont_care, discarded, matches, invalid) -> ImageMatch:
    counted_gt = ~dont_care
    counted_det = ~discarded
    if invalid == "skip":
        counted_gt &= g.valid
        counted_det &= d.valid
    matched_g = {m.gt for m in matches}
    matched_d = {m.det for m in matches}
    return ImageMatch(
        image_id=image_id,
        n_gt=int(counted_gt.sum()),
        n_det=int(counted_det.sum()),
        n_matched=sum(1 for m in matches if m.text_ok),
        matches=matches,
        unmatched_gt=[i for i in range(len(gt)) if counted_gt[i] and i not in matched_g],
        unmatched_det=[j for j in range(len(det)) if counted_det[j] and j not in matched_d],
        dont_care_gt=[int(i) for i in np.flatnonzero(dont_care)],
        discarded_det=[int(j) for j in np.flatnonzero(discarded)],
        invalid_gt=[int(i) for i in np.flatnonzero(~g.valid)],
        invalid_det=[int(j) for j in np.flatnonzero(~d.valid)],
    )


# ------------------------------------------------------------------------------------------ the matchers


def match_image_naive(gt: Sequence[Region], det: Sequence[Region], iou_threshold: float = 0.5,
                      dont_care_threshold: float = 0.5, spotting: Union[bool, str] = False,
                      invalid: str = "count", truncate_coords: bool = False,
                      image_id: Optional[str] = None) -> ImageMatch:
    """Reference implementation: every (ground truth, detection) pair, one shapely call each, in the
    official script's loop order. Same arguments, result and errors as :func:`match_image`; use it to
    check faster implementations, not for large datasets (O(n_gt * n_det) polygon intersections)."""
    _check_params(iou_threshold, dont_care_threshold, invalid)
    mode, g, d, dont_care, gt_texts = _setup(gt, det, image_id, spotting, invalid, truncate_coords)

    # 2. discard detections lying mostly on a do-not-care region (script: get_intersection(dontCarePol, detPol))
    discarded = np.zeros(len(det), dtype=bool)
    for j in range(len(det)):
        if not d.valid[j]:
            continue
        for i in range(len(gt)):
            if not (dont_care[i] and g.valid[i]):
                continue
            inter = g.geoms[i].intersection(d.geoms[j]).area
            ratio = 0.0 if d.area[j] == 0 else inter / d.area[j]
            if ratio > dont_care_threshold:
                discarded[j] = True
                break

    # 3. IoU of every pair (script: get_intersection_over_union(pD, pG)), then greedy one-to-one matching
    iou = np.zeros((len(gt), len(det)))
    for i in range(len(gt)):
        for j in range(len(det)):
            if g.valid[i] and d.valid[j]:
                inter = d.geoms[j].intersection(g.geoms[i]).area
                union = d.area[j] + g.area[i] - inter
                iou[i, j] = 0.0 if union == 0 else inter / union
    gt_used = np.zeros(len(gt), dtype=bool)
    det_used = np.zeros(len(det), dtype=bool)
    matches: List[Match] = []
    for i in range(len(gt)):
        for j in range(len(det)):
            if (not gt_used[i] and not det_used[j] and not dont_care[i] and not discarded[j]
                    and g.valid[i] and d.valid[j] and iou[i, j] > iou_threshold):
                gt_used[i] = det_used[j] = True
                matches.append(Match(i, j, float(iou[i, j]), _text_ok(mode, gt_texts[i], det[j].text)))
    return _finish(image_id, gt, det, g, d, dont_care, discarded, matches, invalid)


def _touching_pairs(a: np.ndarray, b: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Index pairs (row-major order) of bounding boxes ``a[i]`` and ``b[j]`` that overlap or touch."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    hit = ((a[:, None, 0] <= b[None, :, 2]) & (b[None, :, 0] <= a[:, None, 2])
           & (a[:, None, 1] <= b[None, :, 3]) & (b[None, :, 1] <= a[:, None, 3]))
    return np.nonzero(hit)


def match_image(gt: Sequence[Region], det: Sequence[Region], iou_threshold: float = 0.5,
                dont_care_threshold: float = 0.5, spotting: Union[bool, str] = False,
                invalid: str = "count", truncate_coords: bool = False,
                image_id: Optional[str] = None) -> ImageMatch:
    """Match one image's detections to its ground truth under the ICDAR 2015 protocol (module docstring).

    Args:
        gt: ground-truth regions (polygons in pixels of the original image; ``dont_care`` = ``###``).
        det: detected regions in the same pixel space (``text`` used only in spotting modes; may be "").
        iou_threshold: a pair matches when IoU is strictly greater (official ``IOU_CONSTRAINT`` 0.5).
        dont_care_threshold: a detection is discarded when its intersection with one do-not-care region is
            strictly greater than this fraction of its own area (official ``AREA_PRECISION_CONSTRAINT`` 0.5).
        spotting: False (detection only), True / ``"end_to_end"``, or ``"word_spotting"``.
        invalid: ``"count"``, ``"skip"`` or ``"raise"`` for polygons shapely finds invalid.
        truncate_coords: apply ``int()`` truncation to coordinates like the official script.
        image_id: name used in error messages and stored in the result.

    Returns:
        :class:`ImageMatch`, identical to :func:`match_image_naive`'s.

    Raises:
        ValueError: bad thresholds / mode / policy, a polygon with < 3 points or non-finite coordinates,
            or an invalid polygon under ``invalid="raise"``.
    """
    _check_params(iou_threshold, dont_care_threshold, invalid)
    mode, g, d, dont_care, gt_texts = _setup(gt, det, image_id, spotting, invalid, truncate_coords)
    discarded = np.zeros(len(det), dtype=bool)

    # 2. do-not-care discarding, only for boxes that touch
    dc_idx = np.flatnonzero(dont_care & g.valid)
    det_idx = np.flatnonzero(d.valid)
    gi, dj = _touching_pairs(g.bounds[dc_idx], d.bounds[det_idx])
    if len(gi):
        gi, dj = dc_idx[gi], det_idx[dj]
        inter = shapely.area(shapely.intersection(g.geoms[gi], d.geoms[dj]))
        darea = d.area[dj]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(darea == 0, 0.0, inter / darea)
        discarded[dj[ratio > dont_care_threshold]] = True

    # 3. IoU only where boxes touch; greedy matching over the surviving pairs in (gt, det) order
    care_idx = np.flatnonzero(~dont_care & g.valid)
    kept_idx = np.flatnonzero(d.valid & ~discarded)
    gi, dj = _touching_pairs(g.bounds[care_idx], d.bounds[kept_idx])
    matches: List[Match] = []
    if len(gi):
        gi, dj = care_idx[gi], kept_idx[dj]
        inter = shapely.area(shapely.intersection(d.geoms[dj], g.geoms[gi]))
        union = d.area[dj] + g.area[gi] - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = np.where(union == 0, 0.0, inter / union)
        sel = iou > iou_threshold
        gt_used = np.zeros(len(gt), dtype=bool)
        det_used = np.zeros(len(det), dtype=bool)
        for i, j, v in zip(gi[sel].tolist(), dj[sel].tolist(), iou[sel].tolist()):
            if not gt_used[i] and not det_used[j]:
                gt_used[i] = det_used[j] = True
                matches.append(Match(i, j, v, _text_ok(mode, gt_texts[i], det[j].text)))
    return _finish(image_id, gt, det, g, d, dont_care, discarded, matches, invalid)


# ----------------------------------------------------------------------------------------------- dataset


ImagePair = Union[Tuple[Union[Sequence[Region], Sample], Sequence[Region]],
                  Tuple[Optional[str], Union[Sequence[Region], Sample], Sequence[Region]]]


def evaluate(pairs: Iterable[ImagePair], iou_threshold: float = 0.5, dont_care_threshold: float = 0.5,
             spotting: Union[bool, str] = False, invalid: str = "count", truncate_coords: bool = False,
             naive: bool = False) -> DetResult:
    """Score a dataset: one ``(gt, det)`` or ``(image_id, gt, det)`` tuple per image.

    ``gt`` is a list of :class:`Region` or a :class:`Sample` (its ``regions``; ``image_id`` then defaults
    to ``Sample.where()``); ``det`` is a list of :class:`Region` in the same pixel space. An image with no
    detections must still be passed (with ``det=[]``): its ground truth counts as missed, as in the
    official script. Scores are computed from dataset sums (module docstring); ``naive=True`` uses
    :func:`match_image_naive`. Other arguments as :func:`match_image`.

    Raises:
        ValueError: a tuple that is not of length 2 or 3, or any error of :func:`match_image`.
    """
    _check_params(iou_threshold, dont_care_threshold, invalid)
    _spotting_mode(spotting)
    matcher = match_image_naive if naive else match_image
    images: List[ImageMatch] = []
    for k, item in enumerate(pairs):
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise ValueError(f"evaluate: item #{k} must be (gt, det) or (image_id, gt, det), got {type(item).__name__}")
        image_id, gt, det = (None, *item) if len(item) == 2 else item
        if isinstance(gt, Sample):
            if image_id is None:
                image_id = gt.where() if gt.source is not None else (gt.images[0] if gt.images else None)
            gt = gt.regions
        if image_id is None:
            image_id = f"image #{k}"
        images.append(matcher(gt, det, iou_threshold=iou_threshold, dont_care_threshold=dont_care_threshold,
                              spotting=spotting, invalid=invalid, truncate_coords=truncate_coords,
                              image_id=str(image_id)))
    n_gt = sum(m.n_gt for m in images)
    n_det = sum(m.n_det for m in images)
    n_matched = sum(m.n_matched for m in images)
    recall = 0.0 if n_gt == 0 else n_matched / n_gt
    precision = 0.0 if n_det == 0 else n_matched / n_det
    return DetResult(precision=precision, recall=recall, hmean=_hmean(precision, recall),
                     n_images=len(images), n_gt=n_gt, n_det=n_det, n_matched=n_matched, images=images)
