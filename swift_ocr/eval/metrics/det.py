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
miss *and* a false positive. Comparison is on ``str.upper()`` of both sides; by default (``text_norm=None``,
as the official script) with no Unicode normalisation and no whitespace trimming of the detection.
``text_norm`` (a ``str -> str`` function, e.g. :func:`swift_ocr.eval.metrics.rec.normalize_text`: NFKC and
whitespace runs to one space, what ``swift-ocr eval det --spotting`` passes) is applied to the text of
*both* sides, every ground-truth and every detection region, before any of the rules below (the reported
indices still refer to the regions as passed in):

* ``True`` or ``"end_to_end"`` (the script with ``WORD_SPOTTING = False``): the texts are equal, or equal
  after removing one special character (``!?.:,*"()·[]/'``) from the start and/or the end of the
  ground truth (``transcription_match`` with ``ONLY_REMOVE_FIRST_LAST_CHARACTER = True``).
* ``"word_spotting"`` (``WORD_SPOTTING = True``): a care ground truth that is not a "dictionary word" in
  the script's sense (``include_in_dictionary``: after dropping a final ``'s``, stripping ``-`` and
  replacing ``'!?.:,*"()·[]/`` by spaces, it must be a single word of at least 3 characters from
  ``a-z A-Z À-ƿ Ǆ-ɿ Ά-Ͽ -`` -- so no digits) becomes do-not-care (and discards detections like one);
  the others are normalised that way and must equal the detection's text exactly (case-insensitive).

Every detection counts: nothing here removes repeated detections (a repetition loop writing one box 5 times
gives 1 match and 4 false positives, as in the official script, whose only filter is the do-not-care area
rule above).

Two implementations with identical results (every count, every index list, bit-identical IoU values):

* :func:`match_image_naive`, the reference: the official script's approach -- polygons built once per
  region, then one shapely intersection per (ground truth, detection) pair, in the script's loop order.
* :func:`match_image` / :func:`evaluate`, the fast path, which processes many images at once with numpy:

  1. **Bounding-box prefilter.** Pairs whose bounding boxes do not touch have intersection area exactly 0
     (GEOS returns an empty geometry), so they can neither match (thresholds are ``>= 0`` and the test is
     strict) nor discard a detection. Candidates come from a sort-and-sweep over all images of a batch on
     one axis, then get the exact box test, so the work grows with the number of touching pairs rather than
     with ``n_gt * n_det``.
  2. **Closed form for axis-aligned rectangles.** A 4-point polygon whose consecutive vertices alternately
     share x and y (any start vertex, either orientation) with positive width and height is a rectangle.
     For two rectangles in *general position* (no x coordinate of one equals an x coordinate of the other,
     same for y) the intersection is the rectangle ``[max(x1), min(x2)] x [max(y1), min(y2)]`` whose
     corners are either input corners or crossings of a horizontal and a vertical edge, which GEOS
     computes exactly; GEOS's shoelace area (``Area::ofRing``, relative to the first vertex) of a
     4-vertex axis-aligned ring is then exactly ``fl(fl(w) * fl(h))``, and so is a rectangle's own area.
     So ``inter``, ``area`` and therefore the IoU and do-not-care ratio come out bit-identical to shapely's
     without building any geometry (checked on real and random data by ``tests/metrics/test_det_fast.py``).
  3. **Exact polygons for everything else** (rotated quads, rectangles sharing a coordinate, other
     polygons): an upper bound ``b = min(bbox intersection area, area_gt, area_det)`` of the intersection
     gives ``IoU <= b / (area_gt + area_det - b)`` and ``ratio <= b / area_det``; only pairs whose bound
     reaches the threshold minus a safety margin (:data:`_BOUND_MARGIN`) are intersected with shapely
     (vectorised ``shapely.intersection`` over all of them at once), with the same operand order and
     formulas as the reference. The margin only decides which pairs get the exact computation, never a
     result, so ties (IoU exactly 0.5, do-not-care ratio exactly 0.5) are decided by the exact values.
  4. The greedy one-to-one matching visits the surviving pairs in the reference's (gt, det) order.

  Images with a polygon of other than 4 vertices, or with malformed input (which raises), go through the
  per-image vectorised path (:func:`_match_image_general`), with identical results and errors.
"""
from __future__ import annotations

import contextlib
import gc
import math
from itertools import chain
from dataclasses import asdict, dataclass, field
from dataclasses import replace as _replace
from typing import Callable, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import shapely
from shapely.validation import explain_validity

from swift_ocr.sample import Point, Region, Sample

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


TextNorm = Optional[Callable[[str], str]]


def _normalised(regions: Sequence[Region], spotting: Union[bool, str], text_norm: TextNorm) -> Sequence[Region]:
    """``regions`` with ``text_norm`` applied to every text (copies; the inputs are not changed), when a spotting
    mode compares texts and ``text_norm`` is given; else ``regions`` itself."""
    if text_norm is None or _spotting_mode(spotting) is None:
        return regions
    if not isinstance(regions, (list, tuple)) or not all(isinstance(r, Region) for r in regions):
        return regions  # malformed input: the matcher raises what it raises for it
    return [_replace(r, text=text_norm(r.text)) if isinstance(r.text, str) else r for r in regions]


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
                      image_id: Optional[str] = None, text_norm: TextNorm = None) -> ImageMatch:
    """Reference implementation: every (ground truth, detection) pair, one shapely call each, in the
    official script's loop order. Same arguments, result and errors as :func:`match_image`; use it to
    check faster implementations, not for large datasets (O(n_gt * n_det) polygon intersections)."""
    _check_params(iou_threshold, dont_care_threshold, invalid)
    gt, det = _normalised(gt, spotting, text_norm), _normalised(det, spotting, text_norm)
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


def _match_image_general(gt: Sequence[Region], det: Sequence[Region], iou_threshold: float,
                         dont_care_threshold: float, spotting: Union[bool, str], invalid: str,
                         truncate_coords: bool, image_id: Optional[str]) -> ImageMatch:
    """One image, any polygons: bounding-box prefilter, then shapely on every touching pair (vectorised).

    The fallback of the batch path for images it does not handle (polygons of other than 4 vertices, malformed
    input, invalid polygons under ``invalid="raise"``); raises exactly what :func:`match_image_naive` raises.
    """
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


# --------------------------------------------------------------------------------- batch (fast) path

_BOUND_MARGIN = 1e-3
"""A pair whose IoU (or do-not-care ratio) upper bound is at most ``threshold - _BOUND_MARGIN`` is not
intersected exactly. The bound is >= the true value and shapely's value is within ~1e-12 of the true value
for any sane polygon, so the margin only trades a few extra exact intersections for safety; it never decides
a result."""
_RECT_MAX_ABS = 1e100   # rectangles with larger coordinates take the polygon path (products could overflow)
_RECT_MIN_AREA = 1e-200  # ... and so do rectangles whose area would be subnormal
_BLOCK_PAIRS = 1 << 20  # candidate (gt, det) pairs bounding-box-tested per numpy block
_CHUNK_REGIONS = 200_000  # evaluate(): images are batched until they hold this many regions ...
_CHUNK_IMAGES = 4096      # ... or this many images


def _quads_flat(polys: list) -> Optional[np.ndarray]:
    """All polygons as one float64 ``(n, 4, 2)`` array, or None unless every polygon is 4 points of 2 numbers."""
    n = len(polys)
    if n == 0:
        return np.zeros((0, 4, 2))
    try:
        if set(map(len, polys)) != {4}:
            return None
        points = list(chain.from_iterable(polys))
        if set(map(len, points)) != {2}:
            return None
        arr = np.fromiter(chain.from_iterable(points), dtype=np.float64, count=8 * n)
    except (TypeError, ValueError):
        return None
    return arr.reshape(n, 4, 2)


def _quads_of(polys: list) -> Optional[np.ndarray]:
    """One image's polygons as a float64 ``(n, 4, 2)`` array, or None (see :func:`_quads_flat`)."""
    try:
        arr = np.array(polys, dtype=np.float64) if polys else np.zeros((0, 4, 2))
    except (TypeError, ValueError):
        return None
    return arr if arr.shape == (len(polys), 4, 2) else None


@dataclass
class _Batch:
    """One side (ground truth or detections) of a batch of images, all regions concatenated in image order."""

    coords: np.ndarray   # (n, 4, 2) float64 (truncated if asked); rows of general-path images are zeros
    img: np.ndarray      # (n,) image index of each region
    first: np.ndarray    # (K + 1,) offset of each image's first region
    rect: np.ndarray     # (n,) bool: an axis-aligned rectangle handled in closed form
    valid: np.ndarray    # (n,) bool
    area: np.ndarray     # (n,) float64 (== shapely.area for valid regions)
    bounds: np.ndarray   # (n, 4) float64 (xmin, ymin, xmax, ymax)
    geoms: np.ndarray    # (n,) object: shapely polygons, built only where needed (None elsewhere)


def _batch_side(polys_per_image: List[list], general: np.ndarray, truncate: bool) -> _Batch:
    """Arrays of one side; marks images whose polygons are not all finite 4-point polygons in ``general``."""
    sizes = np.fromiter(map(len, polys_per_image), dtype=np.intp, count=len(polys_per_image))
    first = np.zeros(len(sizes) + 1, dtype=np.intp)
    np.cumsum(sizes, out=first[1:])
    n = int(first[-1])
    coords = _quads_flat(list(chain.from_iterable(polys_per_image)))
    if coords is None:  # some image has other polygons: find it, keep the others
        coords = np.zeros((n, 4, 2))
        for k, polys in enumerate(polys_per_image):
            arr = _quads_of(polys)
            if arr is None:
                general[k] = True
            else:
                coords[first[k]:first[k + 1]] = arr
    img = np.repeat(np.arange(len(sizes)), sizes)
    finite = np.isfinite(coords).all(axis=(1, 2))
    if not finite.all():
        general[np.unique(img[~finite])] = True
        coords[~finite] = 0.0
    if truncate:
        coords = np.trunc(coords)
    x, y = coords[:, :, 0], coords[:, :, 1]
    bounds = np.stack([x.min(axis=1), y.min(axis=1), x.max(axis=1), y.max(axis=1)], axis=1)
    w = bounds[:, 2] - bounds[:, 0]
    h = bounds[:, 3] - bounds[:, 1]
    area = w * h
    pattern = (((x[:, 0] == x[:, 1]) & (y[:, 1] == y[:, 2]) & (x[:, 2] == x[:, 3]) & (y[:, 3] == y[:, 0]))
               | ((y[:, 0] == y[:, 1]) & (x[:, 1] == x[:, 2]) & (y[:, 2] == y[:, 3]) & (x[:, 3] == x[:, 0])))
    rect = (pattern & (w > 0) & (h > 0) & (area >= _RECT_MIN_AREA)
            & (np.abs(coords).max(axis=(1, 2), initial=0.0) <= _RECT_MAX_ABS))
    valid = rect.copy()
    geoms = np.full(n, None, dtype=object)
    other = np.flatnonzero(~rect & ~general[img])
    if len(other):
        geoms[other] = shapely.polygons(coords[other])
        ok = np.asarray(shapely.is_valid(geoms[other]), dtype=bool)
        valid[other] = ok
        area[other] = 0.0
        if ok.any():
            area[other[ok]] = shapely.area(geoms[other[ok]])
        geoms[other[~ok]] = None
    area[~valid] = 0.0
    return _Batch(coords, img, first, rect, valid, area, bounds, geoms)


def _ensure_geoms(side: _Batch, idx: np.ndarray) -> np.ndarray:
    """The shapely polygons of regions ``idx`` (built from the same coordinates as the reference's)."""
    missing = np.unique(idx[side.geoms[idx] == None])  # noqa: E711 (element-wise on an object array)
    if len(missing):
        side.geoms[missing] = shapely.polygons(side.coords[missing])
    return side.geoms[idx]


def _candidate_pairs(g: _Batch, d: _Batch, g_rows: np.ndarray, d_rows: np.ndarray, n_images: int
                     ) -> Tuple[np.ndarray, np.ndarray]:
    """Global index pairs ``(gi, dj)`` of regions of the same image whose bounding boxes overlap or touch,
    for ``gi`` in ``g_rows`` and ``dj`` in ``d_rows`` (both ascending), ordered by gi, then dj.

    Sweep on one axis (the one giving fewer candidates): the detections of each image sorted by their lower
    bound; a ground-truth box ``[lo, hi]`` can only touch detections whose lower bound lies in
    ``[lo - E, hi]``, E = the image's largest detection extent on that axis. The window is widened by a few
    ulps of the sort key (``image * span + value``, images ``span`` apart so they never mix), then every
    candidate gets the exact bounding-box test.
    """
    empty = np.zeros(0, dtype=np.intp)
    if len(g_rows) == 0 or len(d_rows) == 0:
        return empty, empty
    d_img, g_img = d.img[d_rows], g.img[g_rows]
    seg = np.searchsorted(d_img, np.arange(n_images + 1))  # d_rows of image k: seg[k]:seg[k + 1]
    nonempty = np.flatnonzero(seg[1:] > seg[:-1])
    best = None
    for axis in (0, 1):
        d_lo, d_hi = d.bounds[d_rows, axis], d.bounds[d_rows, axis + 2]
        extent = np.zeros(n_images)
        extent[nonempty] = np.maximum.reduceat(d_hi - d_lo, seg[nonempty])
        g_lo = g.bounds[g_rows, axis] - extent[g_img]
        g_hi = g.bounds[g_rows, axis + 2]
        base = min(float(d_lo.min()), float(g_lo.min()))
        span = 2.0 * (max(float(d_lo.max()), float(g_hi.max())) - base) + 2.0
        tol = 16.0 * (np.spacing(span * (n_images + 1)) + np.spacing(abs(base) + span))
        d_key = d_img * span + (d_lo - base)
        order = np.argsort(d_key, kind="stable")
        keys = d_key[order]
        first = np.searchsorted(keys, g_img * span + (g_lo - base) - tol, side="left")
        last = np.searchsorted(keys, g_img * span + (g_hi - base) + tol, side="right")
        count = last - first
        total = int(count.sum())
        if best is None or total < best[0]:
            best = (total, order, first, count)
    total, order, first, count = best
    cum = np.cumsum(count)
    out_g, out_d = [], []
    start = 0
    while start < len(g_rows):
        base_n = int(cum[start - 1]) if start else 0
        end = max(int(np.searchsorted(cum, base_n + _BLOCK_PAIRS, side="right")), start + 1)
        c = count[start:end]
        n = int(c.sum())
        if n:
            gi = np.repeat(g_rows[start:end], c)
            row_start = np.cumsum(c) - c
            dj = d_rows[order[np.arange(n) - np.repeat(row_start - first[start:end], c)]]
            a, b = g.bounds[gi], d.bounds[dj]
            hit = ((a[:, 0] <= b[:, 2]) & (b[:, 0] <= a[:, 2]) & (a[:, 1] <= b[:, 3]) & (b[:, 1] <= a[:, 3])
                   & (g.img[gi] == d.img[dj]))
            out_g.append(gi[hit])
            out_d.append(dj[hit])
        start = end
    if not out_g:
        return empty, empty
    gi, dj = np.concatenate(out_g), np.concatenate(out_d)
    o = np.lexsort((dj, gi))
    return gi[o], dj[o]


@contextlib.contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector while a batch creates its many small acyclic objects (matches,
    index lists): with a large dataset in memory, collections triggered by those allocations would traverse
    every region again and again. Restores the previous state."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _match_batch(items: Sequence[Tuple[Optional[str], Sequence[Region], Sequence[Region]]],
                 iou_threshold: float, dont_care_threshold: float, spotting: Union[bool, str],
                 invalid: str, truncate_coords: bool) -> List[ImageMatch]:
    """:func:`match_image` for many images at once (module docstring, "fast path"); parameters already checked.

    Images the batch does not handle go through :func:`_match_image_general` in input order, so the first
    error raised is the one the per-image loop would raise.
    """
    mode = _spotting_mode(spotting)
    n_images = len(items)
    general = np.zeros(n_images, dtype=bool)
    g_polys: List[list] = []
    d_polys: List[list] = []
    for k, (_, gt, det) in enumerate(items):
        try:
            gp, dp = [r.polygon for r in gt], [r.polygon for r in det]
        except Exception:  # not Regions: the per-image path raises what the reference raises
            general[k] = True
            gp, dp = [], []
        g_polys.append(gp)
        d_polys.append(dp)
    g = _batch_side(g_polys, general, truncate_coords)
    d = _batch_side(d_polys, general, truncate_coords)
    if invalid == "raise":
        for side in (g, d):
            bad = ~side.valid & ~general[side.img]
            general[np.unique(side.img[bad])] = True

    # do-not-care flags and the ground-truth texts to compare (word spotting turns non-words into ###)
    dont_care = np.zeros(len(g.img), dtype=bool)
    gt_texts: List[Optional[List[str]]] = [None] * n_images
    for k, (_, gt, _) in enumerate(items):
        if general[k]:
            continue
        base = g.first[k]
        if mode == "word_spotting":
            texts = [r.text for r in gt]
            for i, r in enumerate(gt):
                if r.dont_care:
                    dont_care[base + i] = True
                elif _ws_in_dictionary(r.text):
                    texts[i] = _ws_normalise(r.text)
                else:
                    dont_care[base + i] = True
            gt_texts[k] = texts
        else:
            flags = [bool(r.dont_care) for r in gt]
            if any(flags):
                dont_care[base:base + len(flags)] = flags

    active_g = g.valid & ~general[g.img]
    active_d = d.valid & ~general[d.img]
    gi, dj = _candidate_pairs(g, d, np.flatnonzero(active_g), np.flatnonzero(active_d), n_images)

    # per pair: bounding-box intersection, closed-form rectangles in general position, bounds for the rest
    a, b = g.bounds[gi], d.bounds[dj]
    iw = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    box_inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    closed = (g.rect[gi] & d.rect[dj]
              & (a[:, 0] != b[:, 0]) & (a[:, 0] != b[:, 2]) & (a[:, 2] != b[:, 0]) & (a[:, 2] != b[:, 2])
              & (a[:, 1] != b[:, 1]) & (a[:, 1] != b[:, 3]) & (a[:, 3] != b[:, 1]) & (a[:, 3] != b[:, 3]))
    ga, da = g.area[gi], d.area[dj]
    bound = np.minimum(box_inter, np.minimum(ga, da))  # >= the true intersection area (== it where closed)

    # 2. do-not-care discarding: intersection / detection area > threshold with any one ### region
    discarded = np.zeros(len(d.img), dtype=bool)
    is_dc = dont_care[gi]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(da == 0, 0.0, bound / da)
    exact = np.flatnonzero(is_dc & ~closed & (ratio > dont_care_threshold - _BOUND_MARGIN))
    if len(exact):
        inter = shapely.area(shapely.intersection(_ensure_geoms(g, gi[exact]), _ensure_geoms(d, dj[exact])))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio[exact] = np.where(da[exact] == 0, 0.0, inter / da[exact])
    decided = closed.copy()
    decided[exact] = True  # elsewhere ratio holds a bound <= threshold - margin: never a discard
    discarded[dj[is_dc & decided & (ratio > dont_care_threshold)]] = True

    # 3. IoU of care ground truth x kept detections; exact where the bound allows a match
    care = ~is_dc & ~discarded[dj]
    with np.errstate(divide="ignore", invalid="ignore"):
        union = (da + ga) - bound
        iou = np.where(union == 0, 0.0, bound / union)
    exact = np.flatnonzero(care & ~closed & (iou > iou_threshold - _BOUND_MARGIN))
    if len(exact):
        inter = shapely.area(shapely.intersection(_ensure_geoms(d, dj[exact]), _ensure_geoms(g, gi[exact])))
        union_x = d.area[dj[exact]] + g.area[gi[exact]] - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            iou[exact] = np.where(union_x == 0, 0.0, inter / union_x)
    decided = closed.copy()
    decided[exact] = True  # elsewhere iou holds a bound <= threshold - margin: never a match
    sel = np.flatnonzero(care & decided & (iou > iou_threshold))

    # 4. greedy one-to-one matching in (image, gt, det) order
    matches: List[List[Match]] = [[] for _ in range(n_images)]
    g_used = bytearray(len(g.img))
    d_used = bytearray(len(d.img))
    sg, sd = gi[sel], dj[sel]
    ks = g.img[sg]
    for i, j, v, k, li, lj in zip(sg.tolist(), sd.tolist(), iou[sel].tolist(), ks.tolist(),
                                  (sg - g.first[ks]).tolist(), (sd - d.first[ks]).tolist()):
        if g_used[i] or d_used[j]:
            continue
        g_used[i] = d_used[j] = 1
        if mode is None:
            matches[k].append(Match(li, lj, v))
        else:
            texts = gt_texts[k]
            ok = _text_ok(mode, texts[li] if texts is not None else items[k][1][li].text, items[k][2][lj].text)
            matches[k].append(Match(li, lj, v, ok))
    g_used = np.frombuffer(g_used, dtype=np.uint8).astype(bool)
    d_used = np.frombuffer(d_used, dtype=np.uint8).astype(bool)

    counted_g = ~dont_care
    counted_d = ~discarded
    if invalid == "skip":
        counted_g &= g.valid
        counted_d &= d.valid
    lists_g = _split(g, [counted_g & ~g_used, dont_care, ~g.valid])
    lists_d = _split(d, [counted_d & ~d_used, discarded, ~d.valid])
    cum_g = np.concatenate([[0], np.cumsum(counted_g)])[g.first]
    cum_d = np.concatenate([[0], np.cumsum(counted_d)])[d.first]

    out: List[ImageMatch] = []
    for k, (image_id, gt, det) in enumerate(items):
        if general[k]:
            out.append(_match_image_general(gt, det, iou_threshold, dont_care_threshold, spotting, invalid,
                                            truncate_coords, image_id))
            continue
        ms = matches[k]
        out.append(ImageMatch(
            image_id=image_id,
            n_gt=int(cum_g[k + 1] - cum_g[k]),
            n_det=int(cum_d[k + 1] - cum_d[k]),
            n_matched=sum(m.text_ok for m in ms),
            matches=ms,
            unmatched_gt=lists_g[0][k], dont_care_gt=lists_g[1][k], invalid_gt=lists_g[2][k],
            unmatched_det=lists_d[0][k], discarded_det=lists_d[1][k], invalid_det=lists_d[2][k],
        ))
    return out


def _split(side: _Batch, masks: List[np.ndarray]) -> List[List[List[int]]]:
    """For each mask over the side's regions: per image, the local indices where it is True (ascending)."""
    n_images = len(side.first) - 1
    out = []
    for mask in masks:
        idx = np.flatnonzero(mask)
        cuts = np.searchsorted(idx, side.first).tolist()
        local = (idx - side.first[side.img[idx]]).tolist()
        out.append([local[cuts[k]:cuts[k + 1]] for k in range(n_images)])
    return out


def match_image(gt: Sequence[Region], det: Sequence[Region], iou_threshold: float = 0.5,
                dont_care_threshold: float = 0.5, spotting: Union[bool, str] = False,
                invalid: str = "count", truncate_coords: bool = False,
                image_id: Optional[str] = None, text_norm: TextNorm = None) -> ImageMatch:
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
        text_norm: spotting modes only: ``str -> str`` applied to the texts of both sides before comparing
            (module docstring); None (default, the official script) compares the raw texts.

    Returns:
        :class:`ImageMatch`, identical to :func:`match_image_naive`'s. To score many images use
        :func:`evaluate`, which batches them (much faster than calling this per image).

    Raises:
        ValueError: bad thresholds / mode / policy, a polygon with < 3 points or non-finite coordinates,
            or an invalid polygon under ``invalid="raise"``.
    """
    _check_params(iou_threshold, dont_care_threshold, invalid)
    _spotting_mode(spotting)
    gt, det = _normalised(gt, spotting, text_norm), _normalised(det, spotting, text_norm)
    return _match_batch([(image_id, gt, det)], iou_threshold, dont_care_threshold, spotting, invalid,
                        truncate_coords)[0]


# ----------------------------------------------------------------------------------------------- dataset


ImagePair = Union[Tuple[Union[Sequence[Region], Sample], Sequence[Region]],
                  Tuple[Optional[str], Union[Sequence[Region], Sample], Sequence[Region]]]


def evaluate(pairs: Iterable[ImagePair], iou_threshold: float = 0.5, dont_care_threshold: float = 0.5,
             spotting: Union[bool, str] = False, invalid: str = "count", truncate_coords: bool = False,
             naive: bool = False, text_norm: TextNorm = None) -> DetResult:
    """Score a dataset: one ``(gt, det)`` or ``(image_id, gt, det)`` tuple per image.

    ``gt`` is a list of :class:`Region` or a :class:`Sample` (its ``regions``; ``image_id`` then defaults
    to ``Sample.where()``); ``det`` is a list of :class:`Region` in the same pixel space. An image with no
    detections must still be passed (with ``det=[]``): its ground truth counts as missed, as in the
    official script. Scores are computed from dataset sums (module docstring). Images are matched in batches
    (the fast path of the module docstring; results identical to :func:`match_image` per image);
    ``naive=True`` uses :func:`match_image_naive` instead. Other arguments (``text_norm`` included) as
    :func:`match_image`. Every detection passed counts (no de-duplication).

    Raises:
        ValueError: a tuple that is not of length 2 or 3, or any error of :func:`match_image`.
    """
    _check_params(iou_threshold, dont_care_threshold, invalid)
    _spotting_mode(spotting)
    params = dict(iou_threshold=iou_threshold, dont_care_threshold=dont_care_threshold, spotting=spotting,
                  invalid=invalid, truncate_coords=truncate_coords)
    images: List[ImageMatch] = []
    chunk: List[Tuple[str, Sequence[Region], Sequence[Region]]] = []
    chunk_regions = 0

    def flush():
        nonlocal chunk_regions
        if chunk:
            with _gc_paused():
                images.extend(_match_batch(chunk, **params))
            chunk.clear()
            chunk_regions = 0

    for k, item in enumerate(pairs):
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            flush()  # earlier images first: their errors come first, as in a per-image loop
            raise ValueError(f"evaluate: item #{k} must be (gt, det) or (image_id, gt, det), got {type(item).__name__}")
        image_id, gt, det = (None, *item) if len(item) == 2 else item
        if isinstance(gt, Sample):
            if image_id is None:
                image_id = gt.where() if gt.source is not None else (gt.images[0] if gt.images else None)
            gt = gt.regions
        if image_id is None:
            image_id = f"image #{k}"
        gt, det = _normalised(gt, spotting, text_norm), _normalised(det, spotting, text_norm)
        if naive:
            images.append(match_image_naive(gt, det, image_id=str(image_id), **params))
            continue
        chunk.append((str(image_id), gt, det))
        try:
            chunk_regions += len(gt) + len(det)
        except TypeError:
            pass  # not sized: the per-image path reports it
        if chunk_regions >= _CHUNK_REGIONS or len(chunk) >= _CHUNK_IMAGES:
            flush()
    flush()
    n_gt = sum(m.n_gt for m in images)
    n_det = sum(m.n_det for m in images)
    n_matched = sum(m.n_matched for m in images)
    recall = 0.0 if n_gt == 0 else n_matched / n_gt
    precision = 0.0 if n_det == 0 else n_matched / n_det
    return DetResult(precision=precision, recall=recall, hmean=_hmean(precision, recall),
                     n_images=len(images), n_gt=n_gt, n_det=n_det, n_matched=n_matched, images=images)
