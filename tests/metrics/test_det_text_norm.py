"""``text_norm`` of the spotting modes (issue 19, case 8): the same normalisation on both sides of every text
comparison, in the fast and in the reference matcher alike. Real SROIE receipts; the ground truth is rewritten in
full-width forms (which NFKC maps back to ASCII), the detections carry the NFKC text."""
from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.eval.metrics.det import evaluate, match_image, match_image_naive
from swift_ocr.eval.metrics.rec import normalize_text
from swift_ocr.sample import Region


def _full_width(text: str) -> str:
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.fixture(scope="module")
def pairs(shared_data: Path):
    root = shared_data / "sroie"
    out = []
    for stem in ("000", "001", "002"):
        s = read_icdar_file(root / "box" / f"{stem}.csv", root / "img" / f"{stem}.jpg")
        gt = [Region(r.polygon, _full_width(r.text), r.dont_care) for r in s.regions]
        det = [Region(list(r.polygon), unicodedata.normalize("NFKC", g.text)) for r, g in zip(s.regions, gt)]
        assert all(d.text == r.text for d, r in zip(det, s.regions))  # NFKC undoes the full-width forms
        out.append((stem, gt, det, list(s.regions)))
    return out


def _full(pairs):
    return [(stem, gt, det) for stem, gt, det, _ in pairs]


def _ascii(pairs):
    return [(stem, ascii_gt, det) for stem, _, det, ascii_gt in pairs]


@pytest.mark.parametrize("mode", ["end_to_end", "word_spotting"])
def test_text_norm_applies_to_both_sides_in_both_matchers(pairs, mode):
    full = _full(pairs)
    fast = evaluate(full, spotting=mode, text_norm=normalize_text)
    assert fast == evaluate(full, spotting=mode, text_norm=normalize_text, naive=True)
    # full-width ground truth, normalised, scores exactly as the original ASCII ground truth does
    ascii_ = evaluate(_ascii(pairs), spotting=mode)
    assert (fast.n_gt, fast.n_det, fast.n_matched) == (ascii_.n_gt, ascii_.n_det, ascii_.n_matched)
    assert [m.matches for m in fast.images] == [m.matches for m in ascii_.images]
    if mode == "end_to_end":  # every region matches itself and its normalised text agrees
        assert fast.n_matched == fast.n_gt == sum(len(m.matches) for m in fast.images)
    # without normalisation (the official script) full-width never equals ASCII: fewer matches
    raw = evaluate(full, spotting=mode)
    assert raw == evaluate(full, spotting=mode, naive=True)
    assert raw.n_matched < fast.n_matched
    for _, gt, _, ascii_gt in pairs:  # the inputs are left as they were
        assert [g.text for g in gt] == [_full_width(a.text) for a in ascii_gt]
    stem, gt, det = full[0]
    m = match_image(gt, det, spotting=mode, text_norm=normalize_text, image_id=stem)
    assert m == match_image_naive(gt, det, spotting=mode, text_norm=normalize_text, image_id=stem)
    assert m == fast.images[0]


def test_text_norm_is_ignored_in_detection_mode(pairs):
    assert evaluate(_full(pairs), text_norm=normalize_text) == evaluate(_full(pairs))
