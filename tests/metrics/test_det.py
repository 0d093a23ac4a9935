"""ICDAR 2015 Challenge 4 detection protocol (swift_ocr.eval.metrics.det): hand-worked cases and real ground truth.

Every expected number is derived in a comment from the geometry of the case, not taken from the code's output.
Boxes are (x1, y1, x2, y2) in pixels; area of box(x1, y1, x2, y2) = (x2 - x1) * (y2 - y1).
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.eval.metrics.det import (DetResult, ImageMatch, Match, box_region, box_to_polygon, evaluate,
                                   match_image, match_image_naive)
from swift_ocr.sample import Region

BOTH = pytest.mark.parametrize("matcher", [match_image, match_image_naive], ids=["fast", "naive"])


def B(x1, y1, x2, y2, text="w", dont_care=False) -> Region:
    return box_region((x1, y1, x2, y2), text=text, dont_care=dont_care)


def DC(x1, y1, x2, y2) -> Region:
    return B(x1, y1, x2, y2, text="###", dont_care=True)


# ------------------------------------------------------------------------------------- IoU threshold


@BOTH
def test_iou_exactly_half_does_not_match(matcher):
    # GT [0,0,2,1] (area 2), det [0,0,1,1] (area 1): inter 1, union 2 + 1 - 1 = 2, IoU = 0.5 exactly
    # (all values are small integers, exact in floating point). The official script tests
    # iouMat > IOU_CONSTRAINT, strictly greater, so 0.5 is NOT a match: 0 matched of 1 GT / 1 det.
    m = matcher([B(0, 0, 2, 1)], [B(0, 0, 1, 1)])
    assert (m.n_gt, m.n_det, m.n_matched) == (1, 1, 0)
    assert m.matches == [] and m.unmatched_gt == [0] and m.unmatched_det == [0]
    # the comparison is on the threshold, not a rounding artefact: lowering it a hair matches, IoU 0.5
    m = matcher([B(0, 0, 2, 1)], [B(0, 0, 1, 1)], iou_threshold=0.4999)
    assert m.matches == [Match(gt=0, det=0, iou=0.5, text_ok=True)]


@BOTH
def test_iou_just_above_half_matches(matcher):
    # det [0,0,1.25,1] (area 1.25): inter 1.25, union 2 + 1.25 - 1.25 = 2, IoU = 0.625 > 0.5
    m = matcher([B(0, 0, 2, 1)], [B(0, 0, 1.25, 1)])
    assert m.matches == [Match(0, 0, 0.625)]
    assert (m.precision, m.recall, m.hmean) == (1.0, 1.0, 1.0)


# ------------------------------------------------------------------------------------- do-not-care


@BOTH
def test_dont_care_discards_detections_mostly_on_it(matcher):
    gt = [B(0, 0, 10, 10, "A"), DC(100, 0, 110, 10)]
    det = [
        B(101, 0, 111, 10),  # on ###: inter 9*10 = 90 of its area 100 -> 0.9 > 0.5 -> discarded
        B(105, 0, 115, 10),  # inter 5*10 = 50 / 100 = 0.5, not > 0.5 -> kept (a false positive)
        B(108, 0, 118, 10),  # slightly overlapping: 2*10 = 20 / 100 = 0.2 -> kept (a false positive)
        B(0, 0, 10, 10),     # exactly on care GT "A": IoU 1 -> match
    ]
    m = matcher(gt, det)
    # care GT: 1 ("A"); kept dets: 3 (det 0 discarded); matched: 1
    assert (m.n_gt, m.n_det, m.n_matched) == (1, 3, 1)
    assert m.dont_care_gt == [1] and m.discarded_det == [0]
    assert m.matches == [Match(0, 3, 1.0)]
    assert m.unmatched_gt == [] and m.unmatched_det == [1, 2]
    # P = 1/3, R = 1/1, H = 2 * (1/3) * 1 / (4/3) = 0.5
    assert m.precision == pytest.approx(1 / 3) and m.recall == 1.0 and m.hmean == pytest.approx(0.5)


@BOTH
def test_dont_care_region_is_never_matched(matcher):
    # a det identical to a ### region has IoU 1 with it but is discarded, and the ### region is no target
    m = matcher([DC(0, 0, 10, 10)], [B(0, 0, 10, 10)])
    assert (m.n_gt, m.n_det, m.n_matched) == (0, 0, 0)
    assert m.discarded_det == [0] and m.matches == []


# ------------------------------------------------------------------------------------- one-to-one


@BOTH
def test_two_detections_on_one_gt_one_match_one_false_positive(matcher):
    gt = [B(0, 0, 10, 10)]
    a = B(0, 0, 10, 10)  # IoU 100 / 100 = 1.0
    b = B(1, 0, 10, 10)  # IoU 90 / (100 + 90 - 90) = 0.9
    m = matcher(gt, [a, b])
    # 1 match, 1 false positive: P = 1/2, R = 1, H = 2 * 0.5 / 1.5 = 2/3
    assert (m.n_gt, m.n_det, m.n_matched) == (1, 2, 1)
    assert m.matches == [Match(0, 0, 1.0)] and m.unmatched_det == [1]
    assert m.hmean == pytest.approx(2 / 3)
    # "vanilla" protocol: first detection in order above the threshold wins, not the best IoU
    m = matcher(gt, [b, a])
    assert m.matches == [Match(0, 0, 0.9)] and m.unmatched_det == [1]


@BOTH
def test_one_detection_covering_two_gts_matches_at_most_one(matcher):
    gt = [B(0, 0, 10, 10, "big"), B(10, 0, 12, 10, "small")]
    det = [B(0, 0, 12, 10)]  # area 120
    # IoU with "big": 100 / (120 + 100 - 100) = 5/6 > 0.5 -> match;
    # IoU with "small": 20 / (120 + 20 - 20) = 1/6 -> no match (and the det is already used)
    m = matcher(gt, det)
    assert (m.n_gt, m.n_det, m.n_matched) == (2, 1, 1)
    assert m.matches == [Match(0, 0, pytest.approx(5 / 6))] and m.unmatched_gt == [1]
    # P = 1, R = 1/2, H = 2/3
    assert (m.precision, m.recall) == (1.0, 0.5) and m.hmean == pytest.approx(2 / 3)


@BOTH
def test_one_detection_above_threshold_with_two_overlapping_gts(matcher):
    # both GTs have IoU > 0.5 with the det (1.0 and 90/100 = 0.9), but one-to-one: only GT 0 matches
    m = matcher([B(0, 0, 10, 10), B(0, 0, 10, 9)], [B(0, 0, 10, 10)])
    assert m.matches == [Match(0, 0, 1.0)] and m.unmatched_gt == [1] and m.n_matched == 1


# ------------------------------------------------------------------------------------- empty inputs


@BOTH
def test_empty_predictions(matcher):
    m = matcher([B(0, 0, 10, 10), B(20, 0, 30, 10)], [])
    # 2 care GT, 0 det: per-image R = 0/2 = 0, P = 0 (no detection), H = 0
    assert (m.n_gt, m.n_det, m.n_matched) == (2, 0, 0)
    assert (m.precision, m.recall, m.hmean) == (0.0, 0.0, 0.0) and m.unmatched_gt == [0, 1]
    r = evaluate([([B(0, 0, 10, 10), B(20, 0, 30, 10)], [])])
    assert (r.precision, r.recall, r.hmean, r.n_gt, r.n_det) == (0.0, 0.0, 0.0, 2, 0)


@BOTH
def test_empty_ground_truth(matcher):
    m = matcher([], [B(0, 0, 10, 10), B(20, 0, 30, 10)])
    # official per-sample rule with no care GT: recall 1, precision 0 because there are detections
    assert (m.n_gt, m.n_det) == (0, 2) and (m.recall, m.precision, m.hmean) == (1.0, 0.0, 0.0)
    # dataset level: recall 0 when there is no care GT (methodRecall rule), precision 0/2 = 0
    r = evaluate([([], [B(0, 0, 10, 10)])])
    assert (r.precision, r.recall, r.hmean) == (0.0, 0.0, 0.0)


@BOTH
def test_no_ground_truth_and_no_detection(matcher):
    m = matcher([], [])
    # per image: recall 1, precision 1 (nothing to find, nothing wrong), hmean 1
    assert (m.precision, m.recall, m.hmean) == (1.0, 1.0, 1.0)
    # dataset: the official methodRecall/methodPrecision are 0 when their denominators are 0
    r = evaluate([([], [])])
    assert (r.precision, r.recall, r.hmean, r.n_images) == (0.0, 0.0, 0.0, 1)


@BOTH
def test_all_dont_care_ground_truth(matcher):
    gt = [DC(0, 0, 10, 10), DC(20, 0, 30, 10)]
    # only a det on a ### region: discarded, so 0 care GT and 0 kept det -> per-image P = R = 1
    m = matcher(gt, [B(0, 0, 10, 10)])
    assert (m.n_gt, m.n_det, m.discarded_det) == (0, 0, [0]) and (m.precision, m.recall) == (1.0, 1.0)
    # plus a det elsewhere: kept, a false positive -> per-image recall 1, precision 0
    m = matcher(gt, [B(0, 0, 10, 10), B(50, 0, 60, 10)])
    assert (m.n_gt, m.n_det, m.unmatched_det) == (0, 1, [1]) and (m.precision, m.recall) == (0.0, 1.0)


# ------------------------------------------------------------------------------------- dataset sums


def test_scores_are_from_dataset_sums_not_per_image_means():
    # image A: 1 GT, 1 matching det -> per image P = R = H = 1
    a = ([B(0, 0, 10, 10)], [B(0, 0, 10, 10)])
    # image B: 4 GT, 1 det matching the first -> per image P = 1, R = 1/4, H = 2 * 0.25 / 1.25 = 0.4
    b = ([B(0, 0, 10, 10), B(20, 0, 30, 10), B(40, 0, 50, 10), B(60, 0, 70, 10)], [B(0, 0, 10, 10)])
    r = evaluate([("A", *a), ("B", *b)])
    # sums: matched 2, care GT 5, kept det 2 -> R = 2/5 = 0.4, P = 2/2 = 1, H = 2 * 0.4 / 1.4 = 4/7
    assert (r.n_images, r.n_gt, r.n_det, r.n_matched) == (2, 5, 2, 2)
    assert r.recall == pytest.approx(0.4) and r.precision == 1.0 and r.hmean == pytest.approx(4 / 7)
    # the mean of per-image values differs: recall (1 + 0.25) / 2 = 0.625, hmean (1 + 0.4) / 2 = 0.7
    per_image_recall = sum(m.recall for m in r.images) / 2
    per_image_hmean = sum(m.hmean for m in r.images) / 2
    assert per_image_recall == pytest.approx(0.625) and per_image_hmean == pytest.approx(0.7)
    assert r.recall != pytest.approx(per_image_recall) and r.hmean != pytest.approx(per_image_hmean)
    assert [m.image_id for m in r.images] == ["A", "B"]
    assert isinstance(r, DetResult) and all(isinstance(m, ImageMatch) for m in r.images)


def test_evaluate_accepts_samples_and_two_tuples():
    from swift_ocr.sample import Sample
    s = Sample(images=["x.jpg"], text="w", regions=[B(0, 0, 10, 10)], source="gt_x.txt")
    r = evaluate([(s, [B(0, 0, 10, 10)]), ([B(0, 0, 10, 10)], [])])
    # 2 GT, 1 det, 1 match -> P = 1, R = 1/2
    assert (r.precision, r.recall) == (1.0, 0.5)
    assert r.images[0].image_id == "gt_x.txt" and r.images[1].image_id == "image #1"
    with pytest.raises(ValueError, match="item #0"):
        evaluate([([B(0, 0, 1, 1)],)])


# ------------------------------------------------------------------------------------- spotting


@BOTH
def test_spotting_is_case_insensitive(matcher):
    gt = [B(0, 0, 10, 10, "Hello"), B(20, 0, 30, 10, "World")]
    det = [B(0, 0, 10, 10, "HELLO"), B(20, 0, 30, 10, "Word")]
    # geometry alone: both match
    assert matcher(gt, det).n_matched == 2
    # spotting: "HELLO" == "Hello" ignoring case, "Word" != "World": 1 of 2 -> P = R = 1/2
    m = matcher(gt, det, spotting=True)
    assert m.n_matched == 1 and m.matches == [Match(0, 0, 1.0, True), Match(1, 1, 1.0, False)]
    assert m.wrong_text == [Match(1, 1, 1.0, False)] and (m.precision, m.recall) == (0.5, 0.5)


@BOTH
def test_spotting_wrong_text_pair_is_not_rematched(matcher):
    # Task 4.4 script: geometric matching first; det 0 takes the GT (IoU 1) with the wrong text, so det 1
    # (right text, IoU 90/100 = 0.9) stays unmatched: 0 correct, 1 care GT, 2 kept dets
    gt = [B(0, 0, 10, 10, "Cat")]
    m = matcher(gt, [B(0, 0, 10, 10, "dog"), B(1, 0, 10, 10, "cat")], spotting="end_to_end")
    assert (m.n_gt, m.n_det, m.n_matched) == (1, 2, 0)
    assert m.matches == [Match(0, 0, 1.0, False)] and m.unmatched_det == [1]


@BOTH
def test_end_to_end_special_characters(matcher):
    gt = [B(0, 0, 10, 10, "Theatre."), B(20, 0, 30, 10, "(06)"), B(40, 0, 50, 10, "Carpark")]
    # "THEATRE" = GT minus its final '.'; "06" = GT minus '(' and ')'; "Carpark." has an extra '.' on the
    # detection side, which the script does not forgive (only the GT's first/last special char may go)
    det = [B(0, 0, 10, 10, "THEATRE"), B(20, 0, 30, 10, "06"), B(40, 0, 50, 10, "Carpark.")]
    m = matcher(gt, det, spotting="end_to_end")
    assert [x.text_ok for x in m.matches] == [True, True, False] and m.n_matched == 2


@BOTH
def test_word_spotting_dictionary_rules(matcher):
    gt = [B(0, 0, 10, 10, "Carpark's"),  # dictionary word after dropping "'s" -> "Carpark"
          B(20, 0, 30, 10, "62-03"),     # digits: not a dictionary word -> do-not-care
          B(40, 0, 50, 10, "ab")]        # shorter than 3 -> do-not-care
    det = [B(0, 0, 10, 10, "CARPARK"), B(20, 0, 30, 10, "62-03"), B(40, 0, 50, 10, "ab")]
    m = matcher(gt, det, spotting="word_spotting")
    # 1 care GT, dets 1 and 2 lie on (new) do-not-care regions -> discarded; 1 correct match
    assert m.dont_care_gt == [1, 2] and m.discarded_det == [1, 2]
    assert (m.n_gt, m.n_det, m.n_matched) == (1, 1, 1)
    # in end-to-end mode all three are targets; "CARPARK" != "CARPARK'S" there
    m = matcher(gt, det, spotting="end_to_end")
    assert (m.n_gt, m.n_det, m.n_matched) == (3, 3, 2)


def test_bad_spotting_mode_and_thresholds():
    with pytest.raises(ValueError, match="spotting"):
        match_image([], [], spotting="fuzzy")
    with pytest.raises(ValueError, match="iou_threshold"):
        match_image([], [], iou_threshold=-0.1)
    with pytest.raises(ValueError, match="invalid"):
        evaluate([], invalid="ignore")


# ------------------------------------------------------------------------------------- polygons


def test_box_to_polygon():
    assert box_to_polygon((1, 2, 5, 7)) == [(1.0, 2.0), (5.0, 2.0), (5.0, 7.0), (1.0, 7.0)]
    with pytest.raises(ValueError, match="x1 <= x2"):
        box_to_polygon((5, 2, 1, 7))
    with pytest.raises(ValueError, match="got 3 value"):
        box_to_polygon((1, 2, 5))
    with pytest.raises(ValueError, match="non-finite"):
        box_to_polygon((1, 2, float("nan"), 7))


@BOTH
def test_quads_any_orientation_and_rotated(matcher):
    # a diamond (square rotated 45 degrees, diagonals 4 and 4: area 4 * 4 / 2 = 8), clockwise and counter-clockwise
    cw = Region([(2, 0), (4, 2), (2, 4), (0, 2)], "d")
    ccw = Region([(2, 0), (0, 2), (2, 4), (4, 2)], "d")
    m = matcher([cw], [ccw])
    assert m.matches == [Match(0, 0, 1.0)]
    # the diamond vs its bounding box [0,0,4,4]: area 8 / 16 -> IoU = 8 / (16 + 8 - 8) = 0.5 -> no match
    assert matcher([cw], [B(0, 0, 4, 4)]).matches == []


@BOTH
def test_invalid_polygons(matcher):
    gt = [B(0, 0, 10, 10)]
    bowtie = Region([(0, 0), (10, 10), (10, 0), (0, 10)], "x", line=7)  # self-intersecting
    flat = B(0, 0, 10, 0)  # zero height: invalid
    det = [bowtie, flat, B(0, 0, 10, 10)]
    m = matcher(gt, det)  # "count": invalid dets stay as false positives and match nothing
    assert (m.n_gt, m.n_det, m.n_matched) == (1, 3, 1) and m.invalid_det == [0, 1]
    assert m.matches == [Match(0, 2, 1.0)] and m.unmatched_det == [0, 1]
    m = matcher(gt, det, invalid="skip")  # PaddleOCR/DBNet: left out of the counts, still listed
    assert (m.n_gt, m.n_det, m.n_matched) == (1, 1, 1) and m.invalid_det == [0, 1]
    with pytest.raises(ValueError, match=r"img_9: det #0 \(line 7\): invalid polygon"):
        matcher(gt, det, invalid="raise", image_id="img_9")
    # an invalid care GT under "count" still needs a match it can never get
    m = matcher([bowtie], [B(0, 0, 10, 10)])
    assert (m.n_gt, m.n_det, m.n_matched, m.invalid_gt) == (1, 1, 0, [0])
    with pytest.raises(ValueError, match="at least 3"):
        matcher([Region([(0, 0), (1, 1)], "x")], [])
    with pytest.raises(ValueError, match="non-finite"):
        matcher([], [Region([(0, 0), (1, float("inf")), (1, 0)], "x")])


@BOTH
def test_truncate_coords_like_official_script(matcher):
    gt = [B(0, 0, 2, 1)]
    det = [B(0.9, 0, 2.9, 1)]
    # float: inter 1.1, union 2 + 2 - 1.1 = 2.9, IoU 0.379 -> no match
    assert matcher(gt, det).n_matched == 0
    # int() truncation: det becomes [0,0,2,1] -> IoU 1
    assert matcher(gt, det, truncate_coords=True).matches == [Match(0, 0, 1.0)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 4), st.integers(0, 4),
                          st.booleans()), max_size=8),
       st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 4), st.integers(0, 4)),
                max_size=8))
def test_fast_equals_naive_on_integer_grid(gts, dets):
    # small integer boxes: many exact ties (IoU 0.5, do-not-care ratio 0.5), touching edges, zero-area boxes
    gt = [B(x, y, x + w, y + h, dont_care=dc) for x, y, w, h, dc in gts]
    det = [B(x, y, x + w, y + h) for x, y, w, h in dets]
    for invalid in ("count", "skip"):
        assert match_image(gt, det, invalid=invalid) == match_image_naive(gt, det, invalid=invalid)


# ------------------------------------------------------------------------------------- real data


def _icdar_files(shared_data: Path):
    files = sorted((shared_data / "icdar2015" / "gts").glob("gt_img_*.txt"))
    assert len(files) == 10
    return files


def _sroie_files(shared_data: Path):
    files = sorted((shared_data / "sroie" / "box").glob("*.csv"))
    assert len(files) == 20
    return files


def _count_care_lines(path: Path) -> int:
    """Independent minimal parse: utf-8-sig, transcription after the 8th comma, ``###`` = do-not-care."""
    n = 0
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if line.strip():
            n += line.split(",", 8)[8].strip() != "###"
    return n


def _real(shared_data):
    return [read_icdar_file(p) for p in _icdar_files(shared_data) + _sroie_files(shared_data)]


def _as_detections(regions, dx=0.0, dy=0.0):
    return [Region([(x + dx, y + dy) for x, y in r.polygon], r.text) for r in regions]


def test_real_ground_truth_as_detections_scores_one(shared_data):
    samples = _real(shared_data)
    expected_care = sum(_count_care_lines(Path(s.source)) for s in samples)
    assert expected_care > 100
    # every region (### ones too) as a detection: care ones match their twin, ### twins are discarded
    r = evaluate((s, _as_detections(s.regions)) for s in samples)
    assert (r.n_images, r.n_gt, r.n_det, r.n_matched) == (30, expected_care, expected_care, expected_care)
    assert (r.precision, r.recall, r.hmean) == (1.0, 1.0, 1.0)
    # the all-### ICDAR images (gt_img_4, gt_img_5) have no care GT and no kept det
    empty = [m for m in r.images if m.n_gt == 0]
    assert len(empty) == 2 and all(m.n_det == 0 and m.discarded_det for m in empty)
    # end-to-end on real transcriptions: identical text is always right
    e2e = evaluate(((s, _as_detections(s.regions)) for s in samples), spotting="end_to_end")
    assert (e2e.n_gt, e2e.n_matched, e2e.hmean) == (expected_care, expected_care, 1.0)
    # word spotting: non-dictionary words (digits, spaces, < 3 letters) turn into do-not-care, so fewer
    # targets; the GT of the rest is normalised ("TOTAL:" -> "TOTAL"), so a detection repeating the raw GT
    # text is wrong exactly when the GT had a special character to strip
    ws = evaluate(((s, _as_detections(s.regions)) for s in samples), spotting="word_spotting")
    assert 0 < ws.n_gt < expected_care and ws.n_det == ws.n_gt
    wrong = [s.regions[w.gt].text for s, m in zip(samples, ws.images) for w in m.wrong_text]
    assert ws.n_matched + len(wrong) == ws.n_gt
    assert wrong and all(set(t) & set("'!?.:,*\"()·[]/-") for t in wrong)
    assert "TOTAL:" in wrong


def test_real_ground_truth_shifted_far_scores_zero(shared_data):
    samples = _real(shared_data)
    expected_care = sum(_count_care_lines(Path(s.source)) for s in samples)
    r = evaluate((s, _as_detections(s.regions, dx=5000, dy=3000)) for s in samples)
    # nothing overlaps: 0 matched; shifted ### twins are not on ### regions any more, so all dets count
    n_all = sum(len(s.regions) for s in samples)
    assert (r.n_gt, r.n_det, r.n_matched) == (expected_care, n_all, 0)
    assert (r.precision, r.recall, r.hmean) == (0.0, 0.0, 0.0)


def _perturb(regions, rng: random.Random):
    """Seeded noisy detections: vertex jitter of varying size, drops, duplicates, extra boxes, bow-ties, text noise."""
    out = []
    for r in regions:
        if rng.random() < 0.15:
            continue  # dropped
        xs = [x for x, _ in r.polygon]
        ys = [y for _, y in r.polygon]
        size = max(1.0, min(max(xs) - min(xs), max(ys) - min(ys)))
        sigma = size * rng.choice([0.02, 0.1, 0.25, 0.5])
        poly = [(x + rng.gauss(0, sigma), y + rng.gauss(0, sigma)) for x, y in r.polygon]
        if rng.random() < 0.05:
            poly[1], poly[2] = poly[2], poly[1]  # bow-tie
        text = rng.choice([r.text, r.text.upper(), r.text.lower(), r.text[:-1], "noise"])
        out.append(Region(poly, text))
        if rng.random() < 0.1:
            out.append(Region([(x + 1, y) for x, y in poly], text))  # duplicate
    for _ in range(rng.randint(0, 5)):
        x, y, w, h = rng.uniform(0, 1200), rng.uniform(0, 700), rng.uniform(5, 150), rng.uniform(5, 40)
        out.append(box_region((x, y, x + w, y + h), "extra"))
    rng.shuffle(out)
    return out


@pytest.mark.parametrize("spotting", [False, "end_to_end", "word_spotting"])
@pytest.mark.parametrize("invalid", ["count", "skip"])
def test_fast_equals_naive_on_perturbed_real_ground_truth(shared_data, spotting, invalid):
    rng = random.Random(2015)
    pairs = [(s, _perturb(s.regions, rng)) for s in _real(shared_data) for _ in range(3)]
    fast = evaluate(pairs, spotting=spotting, invalid=invalid)
    naive = evaluate(pairs, spotting=spotting, invalid=invalid, naive=True)
    assert fast == naive  # every count, every per-image match (bit-identical IoU), every index list
    # the perturbation really exercises the protocol: some matches, misses, false positives, discards
    assert 0 < fast.n_matched < fast.n_gt and fast.n_matched < fast.n_det
    assert any(m.discarded_det for m in fast.images) and any(m.invalid_det for m in fast.images)
    if spotting:
        assert any(m.wrong_text for m in fast.images)
