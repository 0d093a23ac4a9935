"""The fast (batched) path of swift_ocr.eval.metrics.det gives exactly the reference's results.

The reference, ``match_image_naive``, is the official script's approach (one shapely intersection per
ground-truth x detection pair). The fast path never builds polygons for pairs of axis-aligned rectangles in
general position (closed form), prunes other pairs with an IoU upper bound and batches many images in one
set of numpy calls. Every comparison here is full equality of the result objects: counts, index lists and
bit-identical IoU values.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.eval.metrics.det import dataset as det_dataset, fast as det_fast
from swift_ocr.eval.metrics.det import box_region, evaluate, match_image, match_image_naive
from swift_ocr.sample import Region


def _rect(x1, y1, x2, y2, start=0, reverse=False):
    pts = [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
    if reverse:
        pts = pts[::-1]
    return pts[start:] + pts[:start]


def _rotated(cx, cy, w, h, angle):
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + c * dx - s * dy, cy + s * dx + c * dy)
            for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]


def _real_samples(shared_data: Path):
    files = sorted((shared_data / "icdar2015" / "gts").glob("gt_img_*.txt"))
    files += sorted((shared_data / "sroie" / "box").glob("*.csv"))
    assert len(files) == 30
    return [read_icdar_file(p) for p in files]


# ----------------------------------------------------------------------- the closed form is GEOS's value


def test_rectangle_area_and_intersection_closed_form_equal_shapely_bit_for_bit(shared_data):
    # the property the fast path relies on: for an axis-aligned 4-vertex ring, shapely's area is exactly
    # fl(w) * fl(h), and the intersection area of two rectangles in general position is exactly
    # fl(min x2 - max x1) * fl(min y2 - max y1), whatever the start vertex and orientation
    rng = np.random.default_rng(7)
    boxes = [r.bbox() for s in _real_samples(shared_data) for r in s.regions]
    n = 20000
    x1 = rng.uniform(-1e4, 1e4, n) * rng.choice([1e-3, 1.0, 1e2], n)
    y1 = rng.uniform(-1e4, 1e4, n)
    w = rng.uniform(1e-3, 500, n)
    h = rng.uniform(1e-3, 80, n)
    a = np.stack([x1, y1, x1 + w, y1 + h], axis=1)
    b = a + rng.uniform(-0.6, 0.6, (n, 4)) * np.stack([w, h, w, h], axis=1)
    b[:, 2] = np.maximum(b[:, 2], b[:, 0] + 1e-3)
    b[:, 3] = np.maximum(b[:, 3], b[:, 1] + 1e-3)
    real = np.array(boxes, dtype=np.float64)
    a = np.concatenate([a, real, real + 0.3])
    b = np.concatenate([b, real + rng.uniform(-3, 3, real.shape), real * 1.01])
    starts = rng.integers(0, 4, len(a))
    rev = rng.integers(0, 2, len(a)).astype(bool)
    pa = shapely.polygons(np.array([_rect(*r, s, v) for r, s, v in zip(a, starts, rev)]))
    pb = shapely.polygons(np.array([_rect(*r, s, not v) for r, s, v in zip(b, starts, rev)]))
    assert (shapely.area(pa) == (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])).all()
    assert (shapely.area(pb) == (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])).all()
    iw = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    general = np.ones(len(a), dtype=bool)
    for i in (0, 2):
        for j in (0, 2):
            general &= (a[:, i] != b[:, j]) & (a[:, i + 1] != b[:, j + 1])
    overlap = general & (iw > 0) & (ih > 0)
    assert overlap.sum() > 15000
    assert (shapely.area(shapely.intersection(pa[overlap], pb[overlap])) == (iw * ih)[overlap]).all()
    assert (shapely.area(shapely.intersection(pb[overlap], pa[overlap])) == (iw * ih)[overlap]).all()


# ----------------------------------------------------------------------- property tests against the reference


_coord = st.floats(0, 60, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 2))
_box = st.tuples(_coord, _coord, st.floats(0, 30).map(lambda v: round(v, 2)),
                 st.floats(0, 15).map(lambda v: round(v, 2)))


@st.composite
def _region(draw, allow_dc):
    x, y, w, h = draw(_box)
    kind = draw(st.sampled_from(["box", "box", "rotated", "bowtie"]))
    start = draw(st.integers(0, 3))
    reverse = draw(st.booleans())
    if kind == "box":
        poly = _rect(x, y, x + w, y + h, start, reverse)
    elif kind == "rotated":
        poly = _rotated(x, y, w, h, draw(st.floats(-0.8, 0.8)))
    else:
        poly = [(x, y), (x + w, y + h), (x + w, y), (x, y + h)]
    dc = allow_dc and draw(st.integers(0, 5)) == 0
    return Region(poly, "###" if dc else draw(st.sampled_from(["TOTAL", "total:", "12.50", "a"])), dont_care=dc)


@settings(max_examples=250, deadline=None)
@given(st.lists(st.tuples(st.lists(_region(True), max_size=8), st.lists(_region(False), max_size=8)),
                min_size=1, max_size=4),
       st.sampled_from([False, "end_to_end", "word_spotting"]), st.sampled_from(["count", "skip"]),
       st.booleans())
def test_batched_float_boxes_and_quads_equal_naive(images, spotting, invalid, truncate):
    # float boxes in any vertex order, rotated quads and bow-ties, several images in one batch
    kw = dict(spotting=spotting, invalid=invalid, truncate_coords=truncate)
    fast = evaluate(images, **kw)
    naive = evaluate(images, naive=True, **kw)
    assert fast == naive
    for k, (gt, det) in enumerate(images):
        assert match_image(gt, det, image_id=f"image #{k}", **kw) == naive.images[k]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 4), st.integers(0, 4),
                          st.booleans()), max_size=10),
       st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 4), st.integers(0, 4)),
                max_size=10),
       st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), st.sampled_from([0.0, 0.5, 1.0]))
def test_integer_ties_and_extreme_thresholds_equal_naive(gts, dets, iou_threshold, dc_threshold):
    # integer boxes (and half-shifted ones) share coordinates, so they take the exact path: ties with
    # IoU == threshold must not match; thresholds 0 and 1 exercise the pruning bounds at their ends
    gt = [box_region((x, y, x + w, y + h), dont_care=dc) for x, y, w, h, dc in gts]
    det = [box_region((x + 0.5 * (i % 2), y, x + w + 0.5 * (i % 2), y + h)) for i, (x, y, w, h) in enumerate(dets)]
    kw = dict(iou_threshold=iou_threshold, dont_care_threshold=dc_threshold)
    assert match_image(gt, det, **kw) == match_image_naive(gt, det, **kw)


# ----------------------------------------------------------------------- real data


def _codec_boxes(regions, rng, size):
    """Detections as a box codec produces them: the quad's bounding box on a 0-1000 grid, mapped back to pixels."""
    w, h = size
    out = []
    for r in regions:
        if rng.random() < 0.1:
            continue
        x1, y1, x2, y2 = r.bbox()
        q = [round(x1 / w * 1000 + rng.gauss(0, 3)), round(y1 / h * 1000 + rng.gauss(0, 3)),
             round(x2 / w * 1000 + rng.gauss(0, 3)), round(y2 / h * 1000 + rng.gauss(0, 3))]
        q[2], q[3] = max(q[2], q[0]), max(q[3], q[1])
        out.append(box_region((q[0] * w / 1000, q[1] * h / 1000, q[2] * w / 1000, q[3] * h / 1000),
                              rng.choice([r.text, r.text.lower(), "x"])))
    rng.shuffle(out)
    return out


@pytest.mark.parametrize("spotting", [False, "end_to_end", "word_spotting"])
def test_real_ground_truth_with_codec_style_box_detections(shared_data, spotting):
    rng = random.Random(5)
    samples = _real_samples(shared_data)
    sizes = {}
    for s in samples:
        xs = [x for r in s.regions for x, _ in r.polygon]
        ys = [y for r in s.regions for _, y in r.polygon]
        sizes[s.source] = (max(xs) + 10, max(ys) + 10)
    pairs = [(s, _codec_boxes(s.regions, rng, sizes[s.source])) for s in samples for _ in range(3)]
    fast = evaluate(pairs, spotting=spotting)
    naive = evaluate(pairs, spotting=spotting, naive=True)
    assert fast == naive
    assert 0 < fast.n_matched < fast.n_gt
    # SROIE ground truth is axis-aligned (closed form against box detections), ICDAR 2015's is rotated quads
    # (exact polygons): both kinds really occur
    sroie = [m for (s, _), m in zip(pairs, fast.images) if "sroie" in s.source]
    icdar = [m for (s, _), m in zip(pairs, fast.images) if "icdar2015" in s.source]
    assert sum(m.n_matched for m in sroie) > 100 and sum(m.n_matched for m in icdar) > 5
    assert any(m.discarded_det for m in icdar)


def test_real_ground_truth_in_small_chunks_equals_one_batch(shared_data, monkeypatch):
    rng = random.Random(11)
    samples = _real_samples(shared_data)
    pairs = [(s, [Region([(x + rng.uniform(-2, 2), y + rng.uniform(-2, 2)) for x, y in r.polygon], r.text)
                  for r in s.regions]) for s in samples]
    whole = evaluate(pairs)
    monkeypatch.setattr(det_dataset, "_CHUNK_IMAGES", 3)
    monkeypatch.setattr(det_fast, "_BLOCK_PAIRS", 7)
    chunked = evaluate(pairs)
    assert chunked == whole == evaluate(pairs, naive=True)


# ----------------------------------------------------------------------- batches with unusual images


def test_images_do_not_see_each_others_regions():
    # identical coordinates in two images: each detection may only match its own image's ground truth
    a = [box_region((0, 0, 10, 10), "a")]
    b = [box_region((0, 0, 10, 10), "b")]
    r = evaluate([(a, []), ([], b), (a, b)])
    assert [(m.n_gt, m.n_det, m.n_matched) for m in r.images] == [(1, 0, 0), (0, 1, 0), (1, 1, 1)]
    assert r == evaluate([(a, []), ([], b), (a, b)], naive=True)


def test_mixed_batch_with_general_polygons_and_touching_boxes():
    pent = Region([(0, 0), (10, 0), (12, 5), (10, 10), (0, 10)], "pent")
    images = [
        ([pent], [box_region((0, 0, 10, 10))]),                       # 5 vertices: the per-image path
        ([box_region((0, 0, 10, 10))], [box_region((10, 0, 20, 10))]),  # touching edge: IoU 0
        ([box_region((0, 0, 10, 10))], [box_region((0, 0, 10, 10))]),   # identical: IoU 1
        ([], []),
    ]
    fast = evaluate(images)
    assert fast == evaluate(images, naive=True)
    assert [m.n_matched for m in fast.images] == [1, 0, 1, 0]


def test_first_error_in_input_order_is_raised():
    good = ([box_region((0, 0, 10, 10))], [box_region((0, 0, 10, 10))])
    nan_det = ([box_region((0, 0, 10, 10))], [Region([(0, 0), (1, float("nan")), (1, 1), (0, 1)], "x")])
    two_points = ([Region([(0, 0), (1, 1)], "x")], [])
    with pytest.raises(ValueError, match=r"image #1: det #0.*non-finite"):
        evaluate([good, nan_det, two_points])
    with pytest.raises(ValueError, match=r"image #1: gt #0.*at least 3"):
        evaluate([good, two_points, nan_det])
    # a malformed item comes after the bad polygon of an earlier image: the polygon error is first
    with pytest.raises(ValueError, match="non-finite"):
        evaluate([good, nan_det, "not a pair"])
    with pytest.raises(ValueError, match=r"item #1 must be"):
        evaluate([good, "not a pair", nan_det])
    bowtie = ([box_region((0, 0, 10, 10))], [Region([(0, 0), (10, 10), (10, 0), (0, 10)], "x")])
    with pytest.raises(ValueError, match=r"image #1: det #0.*invalid polygon"):
        evaluate([good, bowtie], invalid="raise")
    assert evaluate([good, bowtie]) == evaluate([good, bowtie], naive=True)
