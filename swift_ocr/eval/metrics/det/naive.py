"""The reference matcher of the ICDAR 2015 detection protocol (:mod:`swift_ocr.eval.metrics.det`): the official
script's structure -- polygons built once per region, then one shapely intersection per (ground truth, detection)
pair, in the script's loop order. The fast path (:mod:`swift_ocr.eval.metrics.det.fast`) is checked against it by
``tests/metrics/test_det_fast.py`` (and it is the baseline of ``benchmarks/det_metric.py``)."""
from __future__ import annotations

from typing import List, Optional, Sequence, Union

import numpy as np

from swift_ocr.eval.metrics.det.protocol import check_params, finish_image, setup_image
from swift_ocr.eval.metrics.det.scores import ImageMatch, Match
from swift_ocr.eval.metrics.det.spotting import TextNorm, apply_text_norm, text_ok
from swift_ocr.sample import Region


def match_image_naive(gt: Sequence[Region], det: Sequence[Region], iou_threshold: float = 0.5,
                      dont_care_threshold: float = 0.5, spotting: Union[bool, str] = False,
                      invalid: str = "count", truncate_coords: bool = False,
                      image_id: Optional[str] = None, text_norm: TextNorm = None) -> ImageMatch:
    """Reference implementation: every (ground truth, detection) pair, one shapely call each, in the
    official script's loop order. Same arguments, result and errors as
    :func:`~swift_ocr.eval.metrics.det.fast.match_image`; use it to
    check faster implementations, not for large datasets (O(n_gt * n_det) polygon intersections)."""
    check_params(iou_threshold, dont_care_threshold, invalid)
    gt, det = apply_text_norm(gt, spotting, text_norm), apply_text_norm(det, spotting, text_norm)
    mode, g, d, dont_care, gt_texts = setup_image(gt, det, image_id, spotting, invalid, truncate_coords)

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
                matches.append(Match(i, j, float(iou[i, j]), text_ok(mode, gt_texts[i], det[j].text)))
    return finish_image(image_id, gt, det, g, d, dont_care, discarded, matches, invalid)
