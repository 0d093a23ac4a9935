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
     reaches the threshold minus a safety margin (:data:`~swift_ocr.eval.metrics.det.fast._BOUND_MARGIN`) are
     intersected with shapely (vectorised ``shapely.intersection`` over all of them at once), with the same
     operand order and formulas as the reference. The margin only decides which pairs get the exact computation, never a
     result, so ties (IoU exactly 0.5, do-not-care ratio exactly 0.5) are decided by the exact values.
  4. The greedy one-to-one matching visits the surviving pairs in the reference's (gt, det) order.

  Images with a polygon of other than 4 vertices, or with malformed input (which raises), go through the
  per-image vectorised path (:func:`~swift_ocr.eval.metrics.det.fast.match_image_general`), with identical results
  and errors.

Modules: :mod:`~swift_ocr.eval.metrics.det.scores` (the result types), :mod:`~swift_ocr.eval.metrics.det.spotting`
(Task 4.4 text rules), :mod:`~swift_ocr.eval.metrics.det.protocol` (per-image steps shared by the matchers),
:mod:`~swift_ocr.eval.metrics.det.naive` (the reference matcher), :mod:`~swift_ocr.eval.metrics.det.fast` (the
batched matcher, checked against the reference by ``tests/metrics/test_det_fast.py``),
:mod:`~swift_ocr.eval.metrics.det.dataset` (:func:`evaluate`, dataset sums). Import the public names from here.
"""
from __future__ import annotations

from swift_ocr.eval.metrics.det.dataset import ImagePair, evaluate
from swift_ocr.eval.metrics.det.fast import match_image
from swift_ocr.eval.metrics.det.naive import match_image_naive
from swift_ocr.eval.metrics.det.protocol import box_region, box_to_polygon
from swift_ocr.eval.metrics.det.scores import DetResult, ImageMatch, Match
from swift_ocr.eval.metrics.det.spotting import SPECIAL_CHARACTERS, TextNorm

__all__ = ["DetResult", "ImageMatch", "ImagePair", "Match", "SPECIAL_CHARACTERS", "TextNorm", "box_region",
           "box_to_polygon", "evaluate", "match_image", "match_image_naive"]
