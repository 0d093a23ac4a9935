"""Repeated detections (issue 19, case 6): every detection counts, as in the official ICDAR 2015 Challenge 4
script (``script.py`` of the RRC evaluation: each detection polygon is appended to ``detPols``; the only
detections left out are those lying mostly on a do-not-care region, ``AREA_PRECISION_CONSTRAINT``). A model caught
in a repetition loop that writes one box 5 times therefore has 1 match and 4 false positives.

Real ground truth from ../shared/data/icdar2015; expected numbers derived from the counts in the comments, and
the fast matcher checked against the reference one on the same input.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.eval.metrics.det import evaluate, match_image, match_image_naive
from swift_ocr.sample import Region

BOTH = pytest.mark.parametrize("naive", [False, True], ids=["fast", "naive"])


@pytest.fixture(scope="module")
def icdar(shared_data: Path):
    root = shared_data / "icdar2015"
    return [read_icdar_file(label, root / "imgs" / (label.stem[3:] + ".jpg"))
            for label in sorted((root / "gts").glob("gt_img_*.txt"))]


def _copy(r: Region) -> Region:
    return Region(list(r.polygon), r.text)


@BOTH
def test_one_box_repeated_five_times_has_one_fifth_of_the_precision(icdar, naive):
    once, five = [], []
    with_text = [s for s in icdar if s.care_regions()]
    assert len(with_text) >= 5
    for s in with_text:
        care = s.care_regions()
        once.append((s.where(), s.regions, [_copy(care[0])]))
        five.append((s.where(), s.regions, [_copy(care[0]) for _ in range(5)]))
    p1 = evaluate(once, naive=naive)
    p5 = evaluate(five, naive=naive)
    n = len(with_text)
    # one copy of a care region matches it (IoU 1): n matched of n detections
    assert (p1.n_det, p1.n_matched, p1.precision) == (n, n, 1.0)
    # five copies: the first matches, the other 4 are false positives (nothing removes repeats)
    assert (p5.n_det, p5.n_matched, p5.n_gt) == (5 * n, n, p1.n_gt)
    assert p5.precision == pytest.approx(p1.precision / 5, rel=1e-12)
    assert p5.recall == p1.recall
    for m in p5.images:
        assert [x.det for x in m.matches] == [0] and m.unmatched_det == [1, 2, 3, 4]


@BOTH
def test_repeats_of_a_wrong_box_are_each_a_false_positive(icdar, naive):
    # the box of care region 0 moved to the far corner of the image matches nothing: 0 of 5 per image
    pairs = []
    for s in icdar:
        w, h = s.image_size
        corner = Region([(w - 12.0, h - 12.0), (w - 2.0, h - 12.0), (w - 2.0, h - 2.0), (w - 12.0, h - 2.0)], "x")
        assert all(r.bbox()[2] < w - 12 or r.bbox()[3] < h - 12 for r in s.regions)  # nothing annotated there
        pairs.append((s.where(), s.regions, [_copy(corner) for _ in range(5)]))
    r = evaluate(pairs, naive=naive)
    assert (r.n_det, r.n_matched, r.precision) == (5 * len(icdar), 0, 0.0)


def test_repeats_on_a_dont_care_region_are_discarded_by_the_area_rule_only(icdar):
    # a detection equal to a ### region lies on it entirely (ratio 1 > 0.5): each of the 5 copies is discarded,
    # none counts; the same 5 copies of a care region all count
    s = next(s for s in icdar if any(r.dont_care for r in s.regions) and s.care_regions())
    dc = next(r for r in s.regions if r.dont_care)
    care = s.care_regions()[0]
    det = [_copy(dc) for _ in range(5)] + [_copy(care) for _ in range(5)]
    fast = match_image(s.regions, det, image_id=s.where())
    ref = match_image_naive(s.regions, det, image_id=s.where())
    assert fast == ref
    assert fast.discarded_det == [0, 1, 2, 3, 4]
    assert (fast.n_det, fast.n_matched) == (5, 1) and fast.unmatched_det == [6, 7, 8, 9]
