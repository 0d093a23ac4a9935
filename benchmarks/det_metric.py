"""Target: the ICDAR 2015 detection metric on 1,000 images x 50 boxes at least 10x faster than the
straightforward all-pairs approach of the ICDAR script, with identical precision / recall / Hmean.

Baseline: :func:`swift_ocr.eval.metrics.det.match_image_naive` via ``evaluate(..., naive=True)`` -- the official
script's structure: polygons built once per region, then one shapely intersection for every (ground truth,
detection) pair, do-not-care filtering and greedy matching in the script's loop order. Ours:
``evaluate(...)`` (the batched fast path, see the module docstring of :mod:`swift_ocr.eval.metrics.det`). Both run in
this process on the same regions (ours: median of 3 runs after a warm-up; the baseline once); the results
must be equal as objects (every count, every index list, bit-identical IoU values).

Data (:func:`benchmarks.synth.det_images`): 1280x720 pages with ``n_boxes`` text lines each, 20 % of them
rotated quads (as in ICDAR 2015 ground truth) and the rest axis-aligned boxes (as in SROIE, and as every box
codec outputs), 5 % ``###``; detections are noisy float bounding boxes of 90 % of the lines plus 10 % spurious
boxes. A second, informational line repeats the measurement with every ground-truth region a rotated quad
(no closed form for any pair: the worst case for the fast path).
"""
from __future__ import annotations

import statistics

from .common import Result, at_least, info, timed
from .synth import det_images

TARGET = 10.0


def _compare(name: str, n_images: int, n_boxes: int, rotated: float, seed: int, log, with_target: bool) -> Result:
    from swift_ocr.eval.metrics.det import evaluate

    pairs = det_images(n_images, n_boxes, rotated=rotated, seed=seed)
    evaluate(pairs[: max(1, n_images // 20)])  # warm-up
    times = []
    for _ in range(3):
        t, fast = timed(lambda: evaluate(pairs))
        times.append(t)
    t_fast = statistics.median(times)
    t_naive, naive = timed(lambda: evaluate(pairs, naive=True))
    same = fast == naive
    s = fast.summary()
    log(f"  {name}: fast {t_fast:.2f} s (median of {[round(x, 2) for x in times]}), all-pairs {t_naive:.2f} s; "
        f"P {s['precision']:.4f} R {s['recall']:.4f} H {s['hmean']:.4f}, identical: {same}")
    ratio = t_naive / t_fast
    detail = (f"{n_images} images x {n_boxes} boxes ({rotated:.0%} rotated quads): ours {t_fast:.2f} s vs "
              f"all-pairs shapely {t_naive:.2f} s; P/R/H identical: {same}")
    extra = dict(ours_s=t_fast, baseline_s=t_naive, identical=same, **s)
    if not with_target:
        return info(name, ratio, detail, **extra)
    res = at_least(name, ratio, TARGET, detail, **extra)
    if not same:
        res.passed = False
    return res


def run(n_images: int = 1000, n_boxes: int = 50, seed: int = 0, log=print):
    yield _compare("det-metric (ICDAR 2015)", n_images, n_boxes, 0.2, seed, log, True)
    yield _compare("det-metric, all quads", n_images, n_boxes, 1.0, seed + 1, log, False)
