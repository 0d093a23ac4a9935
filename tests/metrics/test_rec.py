"""Tests for swift_ocr.eval.metrics.rec: hand-worked cases, then agreement with jiwer and nltk on real OCR text.

Every expected number in the hand-worked tests is derived in the comment next to it, not taken from the code.
"""
from __future__ import annotations

import math
import random
from pathlib import Path
from typing import List

import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.metrics.distance import edit_distance

from swift_ocr.eval.metrics.rec import NormOptions, normalize_text, score_pair, score_pairs


# ----------------------------------------------------------------------------------------------------------
# hand-worked cases
# ----------------------------------------------------------------------------------------------------------

def test_kitten_sitting_three_edits():
    # kitten -> sitting: k->s (sub), e->i (sub), insert g at the end = 3 edits.
    s = score_pair("sitting", "kitten")
    assert s.char_edits == 3
    assert s.ref_chars == 6  # len("kitten")
    assert s.cer == pytest.approx(3 / 6)
    # NED = 3 / max(7, 6) = 3/7, reported as 1 - NED = 4/7
    assert s.ned == pytest.approx(4 / 7)
    # one word each, different: 1 substitution over 1 reference word
    assert (s.word_edits, s.ref_words, s.wer) == (1, 1, 1.0)
    assert s.exact is False


@pytest.mark.parametrize(
    "pred, edits",
    [
        ("abxd", 1),    # substitution c -> x
        ("abcXd", 1),   # insertion of X
        ("acd", 1),     # deletion of b
        ("abcd", 0),    # identical
        ("dcba", 4),    # reversal: 4 substitutions; keeping any common letter needs indels that cost as much
        ("", 4),        # 4 deletions
        ("abcdef", 2),  # 2 insertions
        ("bacd", 2),    # adjacent swap = 2 edits (Levenshtein has no transposition)
    ],
)
def test_single_operations(pred, edits):
    s = score_pair(pred, "abcd")
    assert s.char_edits == edits
    assert s.cer == pytest.approx(edits / 4)
    # 1 - edits / max(len(pred), 4)
    assert s.ned == pytest.approx(1 - edits / max(len(pred), 4))


def test_word_error_rate_by_hand():
    # ref: the cat sat on the mat  (6 words)
    # pred: the cat sit on mat     -> sat->sit (sub), delete one "the" = 2 word edits
    s = score_pair("the cat sit on mat", "the cat sat on the mat")
    assert (s.word_edits, s.ref_words) == (2, 6)
    assert s.wer == pytest.approx(2 / 6)
    # characters: "sat"->"sit" 1 sub, delete "the " (4 chars) = 5 edits over 22 chars
    assert (s.char_edits, s.ref_chars) == (5, 22)


def test_overall_is_micro_average_not_mean_of_samples():
    # sample 0: ref "a", pred "b"             -> 1 edit / 1 char  (CER 1.0, 1-NED 0.0)
    # sample 1: ref "abcdefghij", pred same   -> 0 edits / 10 chars (CER 0.0, 1-NED 1.0)
    # micro CER = (1 + 0) / (1 + 10) = 1/11 ~ 0.0909; the mean of per-sample CERs would be 0.5.
    r = score_pairs(["b", "abcdefghij"], ["a", "abcdefghij"])
    assert [s.cer for s in r.samples] == [1.0, 0.0]
    assert r.overall.cer == pytest.approx(1 / 11)
    assert r.overall.cer != pytest.approx(0.5)
    # words: 1 edit over 2 reference words (one per sample) -> 0.5
    assert r.overall.wer == pytest.approx(1 / 2)
    # ned = 1 - mean(NED) = 1 - (1.0 + 0.0) / 2 = 0.5 (a macro average by definition)
    assert r.overall.ned == pytest.approx(0.5)
    assert r.overall.accuracy == pytest.approx(1 / 2)
    assert r.overall.n == 2
    assert (r.overall.char_edits, r.overall.ref_chars, r.overall.exact) == (1, 11, 1)


def test_empty_reference():
    # ref "" and pred "abc": 3 insertions, 0 reference chars -> per-sample CER undefined (None).
    s = score_pair("abc", "")
    assert (s.char_edits, s.ref_chars, s.cer) == (3, 0, None)
    assert (s.word_edits, s.ref_words, s.wer) == (1, 0, None)
    assert s.ned == 0.0  # NED = 3 / max(3, 0) = 1
    assert s.exact is False
    # both empty: nothing to do, identical; NED defined as 0 -> ned 1.0; CER still undefined
    e = score_pair("", "")
    assert (e.char_edits, e.cer, e.ned, e.exact) == (0, None, 1.0, True)
    # whitespace-only reference is empty after normalisation
    assert score_pair("", " \n\t ").ref_chars == 0

    # overall: the 3 insertions still count: (3 + 0) / (0 + 2) = 1.5
    r = score_pairs(["abc", "ab"], ["", "ab"])
    assert r.overall.cer == pytest.approx(3 / 2)
    assert r.samples[0].cer is None
    # only empty references: the overall CER has no denominator -> None, no ZeroDivisionError
    r0 = score_pairs(["abc", ""], ["", ""])
    assert r0.overall.cer is None and r0.overall.wer is None
    assert r0.overall.ned == pytest.approx((0.0 + 1.0) / 2)
    assert r0.overall.accuracy == pytest.approx(1 / 2)


def test_no_pairs():
    r = score_pairs([], [])
    assert r.overall.metrics() == {"cer": None, "wer": None, "ned": None, "accuracy": None, "n": 0}
    assert r.samples == [] and r.worst(5) == []


def test_nfkc_full_width():
    # U+FF21..U+FF23 (full-width A, B, C) are NFKC-equivalent to ASCII "ABC"
    assert normalize_text("\uff21\uff22\uff23") == "ABC"
    s = score_pair("ＡＢＣ", "ABC")
    assert (s.char_edits, s.exact, s.cer) == (0, True, 0.0)
    # without NFKC all three code points differ: 3 substitutions
    raw = score_pair("ＡＢＣ", "ABC", options=NormOptions(nfkc=False))
    assert raw.char_edits == 3
    # full-width comma and ideographic space U+3000 become "," and " "
    assert normalize_text("中国，\u3000网络") == "中国, 网络"


def test_chinese_line():
    # ref 中国网络空间安全 (8 characters); pred 中国网路空间安: 络->路 (sub) and 全 deleted = 2 edits
    s = score_pair("中国网路空间安", "中国网络空间安全")
    assert (s.char_edits, s.ref_chars) == (2, 8)
    assert s.cer == pytest.approx(2 / 8)
    assert s.ned == pytest.approx(1 - 2 / 8)  # max(7, 8) = 8
    # no spaces: each text is ONE whitespace word, so any error makes the whole line a word error
    assert (s.word_edits, s.ref_words, s.wer) == (1, 1, 1.0)


def test_whitespace_and_newlines():
    # default: every whitespace run (newlines included) -> one space, ends stripped
    assert normalize_text("  a  b\n\n c\t") == "a b c"
    assert score_pair("a b c", "a  b\n c ").exact
    # keep_newlines: lines kept, each line's whitespace collapsed, blank lines dropped
    keep = NormOptions(keep_newlines=True)
    assert normalize_text("  a  b \r\n\n c\t", keep) == "a b\nc"
    # "a b c" vs "a b\nc": the newline is substituted by a space = 1 edit
    s = score_pair("a b c", "a b\nc", options=keep)
    assert s.char_edits == 1
    # words are still whitespace-split, so the word sequences are equal
    assert s.word_edits == 0
    r = score_pairs(["a b c"], ["a b\nc"], keep)
    assert (r.overall.accuracy, r.overall.exact, r.overall.word_edits) == (0.0, 0, 0)


def test_ignore_case():
    assert score_pair("Hello", "hello").char_edits == 1  # H vs h
    folded = NormOptions(ignore_case=True)
    assert score_pair("Hello", "hello", options=folded).exact
    # full case folding: ß -> ss, so "Straße" matches "STRASSE"
    assert score_pair("Straße", "STRASSE", options=folded).exact


def test_errors():
    with pytest.raises(TypeError):
        score_pair(None, "a")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        score_pairs(["a", 3], ["a", "b"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        score_pairs(["a", "b"], ["a"])


def test_worst_order():
    # 1-NED: "abcd"/"abcd" exact (excluded); "x"/"abcd": 4 edits -> 1-4/4 = 0;
    # "abxd"/"abcd": 1 edit -> 0.75; "y"/"ab": 2 edits -> 0; tie at 0 broken by more edits first (4 > 2)
    r = score_pairs(["abcd", "x", "abxd", "y"], ["abcd", "abcd", "abcd", "ab"])
    assert [s.index for s in r.worst(5)] == [1, 3, 2]
    assert [s.index for s in r.worst(1)] == [1]


# ----------------------------------------------------------------------------------------------------------
# real strings: SROIE receipts and Chinese lines, with seeded corruptions; compared with jiwer and nltk
# ----------------------------------------------------------------------------------------------------------

def _sroie_texts(root: Path) -> List[str]:
    """Transcriptions of every SROIE box file (everything after the 8th comma)."""
    texts = []
    for path in sorted((root / "sroie" / "box").glob("*.csv")):
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            if line.strip():
                parts = line.split(",", 8)
                assert len(parts) == 9, f"{path}: {line!r}"
                texts.append(parts[8])
    return texts


def _zh_texts(root: Path) -> List[str]:
    """Texts of zh/gt.tsv; the file writes line breaks as a literal backslash-n."""
    rows = (root / "zh" / "gt.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [row.split("\t")[1].replace("\\n", "\n") for row in rows if row.strip()]


def _corrupt(text: str, rng: random.Random, alphabet: str) -> str:
    """Deterministic OCR-like damage: drop, swap adjacent, insert or replace characters."""
    chars = list(text)
    for _ in range(rng.randint(0, 4)):
        op = rng.choice(("drop", "swap", "insert", "replace"))
        i = rng.randrange(len(chars) + 1)
        if op == "insert":
            chars.insert(i, rng.choice(alphabet))
        elif not chars or i >= len(chars):
            continue
        elif op == "drop":
            del chars[i]
        elif op == "swap" and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif op == "replace":
            chars[i] = rng.choice(alphabet)
    return "".join(chars)


@pytest.fixture(scope="module")
def real_pairs(shared_data):
    """(preds, refs) from every SROIE transcription and every Chinese text, each corrupted 3 ways."""
    rng = random.Random(20190)
    refs, preds = [], []
    for text in _sroie_texts(shared_data):
        for _ in range(3):
            refs.append(text)
            preds.append(_corrupt(text, rng, "abcXYZ0189 .,:-"))
    zh = _zh_texts(shared_data)
    assert len(zh) == 4
    for text in zh:
        for _ in range(20):
            refs.append(text)
            preds.append(_corrupt(text, rng, "中国网络安全的了 \n"))
    assert len(refs) > 2500  # 914 SROIE lines x 3 + 4 x 20
    return preds, refs


def test_real_data_agrees_with_jiwer(real_pairs):
    preds, refs = real_pairs
    result = score_pairs(preds, refs)
    p_norm = [normalize_text(p) for p in preds]
    r_norm = [normalize_text(r) for r in refs]
    assert result.preds == p_norm and result.refs == r_norm
    keep = [i for i, r in enumerate(r_norm) if r]  # jiwer needs a non-empty reference
    assert len(keep) == len(r_norm)  # the real transcriptions are all non-empty
    assert sum(p != r for p, r in zip(p_norm, r_norm)) > len(r_norm) // 2  # corruptions really happened

    # jiwer.cer / jiwer.wer over a list are micro averages (total errors / total reference units)
    assert result.overall.cer == pytest.approx(jiwer.cer(r_norm, p_norm), rel=1e-12)
    assert result.overall.wer == pytest.approx(jiwer.wer(r_norm, p_norm), rel=1e-12)

    chars = jiwer.process_characters(r_norm, p_norm)
    assert result.overall.char_edits == chars.substitutions + chars.deletions + chars.insertions
    assert result.overall.ref_chars == chars.hits + chars.substitutions + chars.deletions
    words = jiwer.process_words(r_norm, p_norm)
    assert result.overall.word_edits == words.substitutions + words.deletions + words.insertions
    assert result.overall.ref_words == words.hits + words.substitutions + words.deletions

    # per sample, on a spread of pairs (jiwer per call is slow-ish)
    for i in range(0, len(preds), 37):
        one = jiwer.process_characters(r_norm[i], p_norm[i])
        s = result.sample(i)
        assert s.char_edits == one.substitutions + one.deletions + one.insertions, (p_norm[i], r_norm[i])
        w = jiwer.process_words(r_norm[i], p_norm[i])
        assert s.word_edits == w.substitutions + w.deletions + w.insertions, (p_norm[i], r_norm[i])


def test_real_data_agrees_with_nltk_and_ned_definition(real_pairs):
    # nltk.edit_distance is an independent pure-Python Levenshtein (jiwer itself uses rapidfuzz).
    preds, refs = real_pairs
    result = score_pairs(preds, refs)
    neds = []
    for i, (p, r) in enumerate(zip(result.preds, result.refs)):
        edits = edit_distance(p, r)
        s = result.sample(i)
        assert s.char_edits == edits
        assert s.word_edits == edit_distance(p.split(), r.split())
        # ICDAR 2019 / PaddleOCR: NED = edits / max(len(pred), len(ref))
        ned = edits / max(len(p), len(r)) if max(len(p), len(r)) else 0.0
        assert s.ned == pytest.approx(1 - ned, abs=1e-12)
        neds.append(ned)
    assert result.overall.ned == pytest.approx(1 - sum(neds) / len(neds), abs=1e-12)
    assert result.overall.accuracy == pytest.approx(sum(p == r for p, r in zip(result.preds, result.refs)) / len(neds))


def test_batch_equals_single(real_pairs):
    preds, refs = real_pairs
    for options in (NormOptions(), NormOptions(ignore_case=True, keep_newlines=True), NormOptions(nfkc=False)):
        result = score_pairs(preds, refs, options)
        for i in range(0, len(preds), 7):
            assert result.sample(i) == score_pair(preds[i], refs[i], i, options)


def test_chinese_multiline_counts_newline_only_when_kept(shared_data):
    poster = [t for t in _zh_texts(shared_data) if "\n" in t][0]
    lines = poster.split("\n")
    assert len(lines) == 11
    # prediction separates the lines with spaces instead of newlines
    pred = " ".join(lines)
    assert score_pair(pred, poster).exact  # default: newlines are whitespace
    kept = score_pair(pred, poster, options=NormOptions(keep_newlines=True))
    assert kept.char_edits == len(lines) - 1  # one substitution per line break (10)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab c中\n", max_size=12), st.text(alphabet="ab c中\n", max_size=12))
def test_property_matches_nltk(pred, ref):
    s = score_pair(pred, ref)
    p, r = normalize_text(pred), normalize_text(ref)
    assert s.char_edits == edit_distance(p, r)
    assert s.word_edits == edit_distance(p.split(), r.split())
    assert 0.0 <= s.ned <= 1.0
    assert s.exact == (p == r)
    assert score_pair(ref, pred).char_edits == s.char_edits  # symmetric
    if s.cer is not None:
        assert math.isclose(s.cer, s.char_edits / len(r))
