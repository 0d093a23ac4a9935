"""Recognition metrics between predicted and reference strings: CER, WER, 1-NED and exact-match accuracy.

All edit distances are Levenshtein distances with unit costs (insertion = deletion = substitution = 1),
computed by :func:`rapidfuzz.distance.Levenshtein.distance` (characters: on the strings; words: on the lists
of words, which rapidfuzz compares element by element). Nothing here implements an edit distance itself.

Units and definitions (after :func:`normalize_text`, see :class:`NormOptions`):

* **character** = one Unicode code point of the normalised string (a combining mark that NFKC cannot compose
  counts as its own character; a CJK ideograph is one character).
* **word** = an item of ``text.split()``, i.e. a maximal run of non-whitespace. Text written without spaces
  (Chinese, Japanese) is therefore one "word" per space-separated chunk, usually the whole line; WER on such
  text is close to line error rate. jiwer's default word transform (``ReduceToListOfListOfWords``) splits the
  same way, so the numbers agree with ``jiwer.wer``.
* **CER** (character error rate) per sample = ``char_edits / ref_chars``; **overall** CER is the micro
  average ``sum(char_edits) / sum(ref_chars)`` over all samples (what ``jiwer.cer`` returns for a list of
  strings), *not* the mean of per-sample CERs.
* **WER** likewise on words: per sample ``word_edits / ref_words``, overall ``sum(word_edits) / sum(ref_words)``.
* **NED** (normalised edit distance) per sample = ``char_edits / max(len(pred), len(ref))``, 0 when both are
  empty; this is the ICDAR 2019 ReCTS / ArT "1-N.E.D" protocol (Liu et al. / Chng et al., ICDAR 2019) and
  PaddleOCR ``ppocr/metrics/rec_metric.py`` (``Levenshtein.normalized_distance``). **The key ``ned`` always
  holds 1 - NED (a similarity, higher is better)**: per sample ``1 - NED_i``, overall
  ``1 - mean_i(NED_i)`` = ``mean_i(ned_i)`` (a macro average, as in ICDAR 2019). Unlike PaddleOCR's
  default (``ignore_space=True``) spaces are *not* removed before scoring.
* **accuracy** = fraction of samples whose normalised prediction equals the normalised reference.

Empty references (after normalisation): per-sample ``cer`` is ``None`` (undefined: 0 reference characters),
``char_edits`` = ``len(pred)`` and ``ref_chars`` = 0 still enter the overall sums, so an empty reference with a
non-empty prediction raises the overall CER (its insertions count) without dividing by zero. ``wer`` is
``None`` the same way when the reference has no words. ``ned`` stays defined (0.0 if the prediction is
non-empty, 1.0 if both are empty). An overall value whose denominator is 0 (no samples, or no reference
characters at all) is ``None``.

Speed: :func:`score_pairs` computes all character and all word distances with one
:func:`rapidfuzz.process.cpdist` call each (C++, no per-character Python loop); the remaining Python work is
one small loop over the pairs to build the records.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import asdict, dataclass, fields
from typing import Iterable, List, Optional

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist

__all__ = [
    "NormOptions",
    "normalize_text",
    "SampleScore",
    "OverallScore",
    "RecResult",
    "normalize_many",
    "score_pair",
    "score_pairs",
]


@dataclass(frozen=True)
class NormOptions:
    """How prediction and reference are normalised before scoring (the same steps on both sides).

    Steps, in order:

    1. ``nfkc`` (default True): Unicode NFKC (``unicodedata.normalize('NFKC', s)``). Maps full-width Latin
       letters/digits and full-width CJK punctuation to their ASCII forms (``'ＡＢＣ'`` -> ``'ABC'``,
       ``'，'`` -> ``','``), ideographic space U+3000 to a space, ligatures (``'ﬁ'`` -> ``'fi'``) and composes
       accented letters, so the same glyphs encoded differently do not count as errors. This is where NFKC
       belongs: ``swift-ocr convert`` keeps the label's text as written in the training targets (issue 15), and a
       model that writes ``'强力去污,符合国标(2026)。1'`` for the target ``'强力去污，符合国标（２０２６）。①'`` scores CER 0.
    2. ``ignore_case`` (default False): ``str.casefold()`` (full Unicode case folding, e.g. ``'ß'`` -> ``'ss'``),
       followed by NFKC again when ``nfkc`` is set.
    3. Whitespace (always): when ``keep_newlines`` is False (default) every run of whitespace, newlines
       included, becomes one space and the ends are stripped (``' '.join(s.split())``): line breaks are layout,
       not recognition, and a model that separates lines by a space is not penalised. When ``keep_newlines``
       is True the text is split into lines at ``str.splitlines()`` boundaries (``\\n``, ``\\r\\n``, ``\\r`` and
       the Unicode line separators), each line's whitespace runs become one space and its ends are stripped,
       empty lines are dropped, and the lines are joined by ``\\n`` (a line break then costs one edit).

    Punctuation is never removed.
    """

    nfkc: bool = True
    ignore_case: bool = False
    keep_newlines: bool = False

    def describe(self) -> str:
        """One line for reports, e.g. ``'NFKC, case kept, whitespace runs (incl. newlines) -> one space'``."""
        parts = ["NFKC" if self.nfkc else "no Unicode normalisation"]
        parts.append("case folded" if self.ignore_case else "case kept")
        if self.keep_newlines:
            parts.append("line breaks kept (blank lines dropped), other whitespace runs -> one space")
        else:
            parts.append("whitespace runs (incl. newlines) -> one space")
        return ", ".join(parts)


DEFAULT_OPTIONS = NormOptions()


def normalize_text(text: str, options: NormOptions = DEFAULT_OPTIONS) -> str:
    """Normalise one string as described in :class:`NormOptions`.

    Raises:
        TypeError: ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}: {text!r}")
    if options.nfkc:
        text = unicodedata.normalize("NFKC", text)
    if options.ignore_case:
        text = text.casefold()
        if options.nfkc:
            text = unicodedata.normalize("NFKC", text)
    if options.keep_newlines:
        lines = (" ".join(line.split()) for line in text.splitlines())
        return "\n".join(line for line in lines if line)
    return " ".join(text.split())


@dataclass(slots=True)
class SampleScore:
    """Scores of one prediction/reference pair.

    Attributes:
        index: 0-based position of the pair in the input.
        pred, ref: the *normalised* prediction and reference that were compared.
        char_edits: Levenshtein distance between ``pred`` and ``ref`` in characters (code points).
        ref_chars: ``len(ref)`` in characters.
        cer: ``char_edits / ref_chars``; ``None`` when ``ref_chars == 0``.
        word_edits: Levenshtein distance between ``pred.split()`` and ``ref.split()`` in words.
        ref_words: ``len(ref.split())``.
        wer: ``word_edits / ref_words``; ``None`` when ``ref_words == 0``.
        ned: **1 - NED** = ``1 - char_edits / max(len(pred), len(ref))`` in [0, 1], higher is better;
            1.0 when both strings are empty.
        exact: ``pred == ref``.
    """

    index: int
    pred: str
    ref: str
    char_edits: int
    ref_chars: int
    cer: Optional[float]
    word_edits: int
    ref_words: int
    wer: Optional[float]
    ned: float
    exact: bool

    def to_dict(self) -> dict:
        """A JSON-serialisable dict with the attribute names as keys (``None`` for undefined rates)."""
        return {name: getattr(self, name) for name in _SAMPLE_FIELDS}


_SAMPLE_FIELDS = tuple(f.name for f in fields(SampleScore))


@dataclass
class OverallScore:
    """Corpus-level scores.

    Attributes:
        cer: ``char_edits / ref_chars`` (micro average); ``None`` if ``ref_chars == 0``.
        wer: ``word_edits / ref_words`` (micro average); ``None`` if ``ref_words == 0``.
        ned: **1 - NED**, i.e. the mean of the per-sample ``ned`` values = ``1 - mean(NED_i)``; ``None`` if n == 0.
        accuracy: fraction of exact matches after normalisation; ``None`` if n == 0.
        n: number of pairs.
        char_edits, ref_chars, word_edits, ref_words: the totals behind ``cer`` and ``wer``.
        exact: the number of exact matches behind ``accuracy``.
    """

    cer: Optional[float]
    wer: Optional[float]
    ned: Optional[float]
    accuracy: Optional[float]
    n: int
    char_edits: int = 0
    ref_chars: int = 0
    word_edits: int = 0
    ref_words: int = 0
    exact: int = 0

    def metrics(self) -> dict:
        """``{'cer', 'wer', 'ned', 'accuracy', 'n'}`` only (``ned`` = 1 - NED)."""
        return {"cer": self.cer, "wer": self.wer, "ned": self.ned, "accuracy": self.accuracy, "n": self.n}

    def to_dict(self) -> dict:
        return asdict(self)


def _ratio(num: int, den: int) -> Optional[float]:
    return num / den if den else None


def score_pair(pred: str, ref: str, index: int = 0, options: NormOptions = DEFAULT_OPTIONS) -> SampleScore:
    """Normalise ``pred`` and ``ref`` with ``options`` and score them (see the module docstring).

    Raises:
        TypeError: ``pred`` or ``ref`` is not a ``str``.
    """
    p = normalize_text(pred, options)
    r = normalize_text(ref, options)
    char_edits = Levenshtein.distance(p, r)
    ref_chars = len(r)
    longest = max(len(p), ref_chars)
    p_words = p.split()
    r_words = r.split()
    word_edits = Levenshtein.distance(p_words, r_words)
    ref_words = len(r_words)
    return SampleScore(
        index=index,
        pred=p,
        ref=r,
        char_edits=char_edits,
        ref_chars=ref_chars,
        cer=_ratio(char_edits, ref_chars),
        word_edits=word_edits,
        ref_words=ref_words,
        wer=_ratio(word_edits, ref_words),
        ned=1.0 - char_edits / longest if longest else 1.0,
        exact=p == r,
    )


def normalize_many(texts: Iterable[str], options: NormOptions = DEFAULT_OPTIONS) -> List[str]:
    """:func:`normalize_text` applied to every item (same result, fewer Python calls for the default options).

    Raises:
        TypeError: an item is not a ``str``.
    """
    texts = list(texts)
    if options == DEFAULT_OPTIONS:
        nfkc = unicodedata.normalize
        try:
            return [" ".join(nfkc("NFKC", t).split()) for t in texts]
        except TypeError:
            pass  # fall through to name the offending item
    return [normalize_text(t, options) for t in texts]


@dataclass
class RecResult:
    """Scores of n pairs, stored column-wise (one entry per pair, in input order) plus the overall scores.

    Attributes:
        preds, refs: the normalised predictions and references (lists of n strings).
        char_edits, ref_chars, word_edits, ref_words: ``numpy.int64`` arrays of shape ``(n,)``, as in
            :class:`SampleScore`.
        ned: ``numpy.float64`` array of shape ``(n,)``: per-sample **1 - NED**.
        overall: the corpus-level scores.
        options: the normalisation used.

    ``result.samples`` (or ``result.sample(i)``) gives the per-sample :class:`SampleScore` records; they are
    built on demand so that scoring 100,000 pairs does not pay for 100,000 objects nobody reads.
    """

    preds: List[str]
    refs: List[str]
    char_edits: np.ndarray
    ref_chars: np.ndarray
    word_edits: np.ndarray
    ref_words: np.ndarray
    ned: np.ndarray
    overall: OverallScore
    options: NormOptions = DEFAULT_OPTIONS

    def __len__(self) -> int:
        return len(self.preds)

    def sample(self, i: int) -> SampleScore:
        """The record of pair ``i`` (0-based)."""
        ce, rc = int(self.char_edits[i]), int(self.ref_chars[i])
        we, rw = int(self.word_edits[i]), int(self.ref_words[i])
        return SampleScore(
            i, self.preds[i], self.refs[i],
            ce, rc, _ratio(ce, rc),
            we, rw, _ratio(we, rw),
            float(self.ned[i]), ce == 0,
        )

    @property
    def samples(self) -> List[SampleScore]:
        """All per-sample records in input order (built on each access)."""
        return [self.sample(i) for i in range(len(self))]

    def worst(self, k: int = 5) -> List[SampleScore]:
        """Up to ``k`` non-exact samples, lowest ``ned`` (1 - NED) first, then most character edits, then index."""
        wrong = np.flatnonzero(self.char_edits)
        order = np.lexsort((wrong, -self.char_edits[wrong], self.ned[wrong]))
        return [self.sample(int(i)) for i in wrong[order[: max(k, 0)]]]


def score_pairs(
    preds: Iterable[str],
    refs: Iterable[str],
    options: NormOptions = DEFAULT_OPTIONS,
    workers: int = 1,
) -> RecResult:
    """Score ``preds[i]`` against ``refs[i]`` for every i; per-sample values equal :func:`score_pair`'s.

    All character distances are computed in one :func:`rapidfuzz.process.cpdist` call (element-wise, C++,
    ``workers`` threads, -1 = all cores), and all word distances of the non-identical pairs in another, so
    there is no per-character Python work; 100,000 short pairs take a fraction of a second.

    Raises:
        ValueError: the two inputs have different lengths.
        TypeError: an item is not a ``str``.
    """
    p_norm = normalize_many(preds, options)
    r_norm = normalize_many(refs, options)
    n = len(p_norm)
    if n != len(r_norm):
        raise ValueError(f"{n} predictions but {len(r_norm)} references")
    char_edits = cpdist(p_norm, r_norm, scorer=Levenshtein.distance, dtype=np.int64, workers=workers)
    pred_chars = np.fromiter(map(len, p_norm), np.int64, n)
    ref_chars = np.fromiter(map(len, r_norm), np.int64, n)
    ref_words = np.fromiter((len(r.split()) for r in r_norm), np.int64, n)
    word_edits = np.zeros(n, np.int64)
    differ = np.flatnonzero(char_edits).tolist()  # identical strings have identical word lists: 0 word edits
    if differ:
        word_edits[differ] = cpdist(
            [p_norm[i].split() for i in differ],
            [r_norm[i].split() for i in differ],
            scorer=Levenshtein.distance, dtype=np.int64, workers=workers,
        )
    longest = np.maximum(pred_chars, ref_chars)
    ned = 1.0 - char_edits / np.maximum(longest, 1)  # longest == 0 only if both are empty: edits 0, ned 1.0
    totals = [int(x.sum()) for x in (char_edits, ref_chars, word_edits, ref_words)]
    exact = int(np.count_nonzero(char_edits == 0))  # Levenshtein distance 0 <=> identical strings
    overall = OverallScore(
        cer=_ratio(totals[0], totals[1]),
        wer=_ratio(totals[2], totals[3]),
        ned=math.fsum(ned.tolist()) / n if n else None,
        accuracy=exact / n if n else None,
        n=n,
        char_edits=totals[0],
        ref_chars=totals[1],
        word_edits=totals[2],
        ref_words=totals[3],
        exact=exact,
    )
    return RecResult(p_norm, r_norm, char_edits, ref_chars, word_edits, ref_words, ned, overall, options)
