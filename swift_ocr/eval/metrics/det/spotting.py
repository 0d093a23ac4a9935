"""Word-spotting / end-to-end text rules of the ICDAR 2015 Challenge 4 Task 4.4 script (https://rrc.cvc.uab.es/?ch=4,
``script.py``): when a geometric match also counts as read correctly, which ground truth is a "dictionary word"
(``"word_spotting"``), and the optional text normalisation applied to both sides first. Used by the matchers of
:mod:`swift_ocr.eval.metrics.det` (see its docstring for the rules in prose)."""
from __future__ import annotations

from dataclasses import replace as _replace
from typing import Callable, Optional, Sequence, Union

from swift_ocr.sample import Region

SPECIAL_CHARACTERS = "!?.:,*\"()·[]/'"
"""``SPECIAL_CHARACTERS`` of the Task 4.4 script: may be missing at the start/end of a detection (end-to-end)."""

_WS_SPECIAL = "'!?.:,*\"()·[]/"
_WS_NOT_ALLOWED = "×÷·"
_WS_RANGES = ((ord("a"), ord("z")), (ord("A"), ord("Z")), (ord("À"), ord("ƿ")), (ord("Ǆ"), ord("ɿ")),
              (ord("Ά"), ord("Ͽ")), (ord("-"), ord("-")))
_WS_MIN_LENGTH = 3  # MIN_LENGTH_CARE_WORD of the Task 4.4 script
SPOTTING_MODES = ("end_to_end", "word_spotting")


def dictionary_transcription(t: str) -> str:
    """``include_in_dictionary_transcription`` of the Task 4.4 script."""
    if t[-2:] in ("'s", "'S"):
        t = t[:-2]
    t = t.strip("-")
    for c in _WS_SPECIAL:
        t = t.replace(c, " ")
    return t.strip()


def in_dictionary(t: str) -> bool:
    """``include_in_dictionary`` of the Task 4.4 script (with ``MIN_LENGTH_CARE_WORD = 3``)."""
    t = dictionary_transcription(t)
    if " " in t or len(t) < _WS_MIN_LENGTH:
        return False
    for ch in t:
        if ch in _WS_NOT_ALLOWED:
            return False
        if not any(lo <= ord(ch) <= hi for lo, hi in _WS_RANGES):
            return False
    return True


def transcription_match(gt: str, det: str) -> bool:
    """``transcription_match`` of the Task 4.4 script on upper-cased texts (``ONLY_REMOVE_FIRST_LAST_CHARACTER``)."""
    g, d = gt.upper(), det.upper()
    if g == d:
        return True
    if not g:  # the script indexes transGt[0], raises, and its caller scores the pair as wrong
        return False
    first, last = g[0] in SPECIAL_CHARACTERS, g[-1] in SPECIAL_CHARACTERS
    return ((first and g[1:] == d) or (last and g[:-1] == d)
            or (first and last and g[1:-1] == d))


def resolve_spotting(spotting: Union[bool, str]) -> Optional[str]:
    """``spotting=`` as a mode name: None (detection only), ``"end_to_end"`` or ``"word_spotting"``; ValueError
    for anything else."""
    if spotting is False or spotting is None:
        return None
    if spotting is True:
        return "end_to_end"
    if spotting in SPOTTING_MODES:
        return spotting
    raise ValueError(f"spotting must be False, True, 'end_to_end' or 'word_spotting', got {spotting!r}")


#: ``text_norm=``: a ``str -> str`` applied to the texts of both sides in spotting modes, or None.
TextNorm = Optional[Callable[[str], str]]


def apply_text_norm(regions: Sequence[Region], spotting: Union[bool, str], text_norm: TextNorm) -> Sequence[Region]:
    """``regions`` with ``text_norm`` applied to every text (copies; the inputs are not changed), when a spotting
    mode compares texts and ``text_norm`` is given; else ``regions`` itself."""
    if text_norm is None or resolve_spotting(spotting) is None:
        return regions
    if not isinstance(regions, (list, tuple)) or not all(isinstance(r, Region) for r in regions):
        return regions  # malformed input: the matcher raises what it raises for it
    return [_replace(r, text=text_norm(r.text)) if isinstance(r.text, str) else r for r in regions]


def text_ok(mode: Optional[str], gt_text: str, det_text: Optional[str]) -> bool:
    """Whether a geometric match counts in spotting ``mode`` (None: detection only, always True);
    ``gt_text`` already in its dictionary form for ``"word_spotting"``."""
    if mode is None:
        return True
    det_text = det_text or ""
    if mode == "word_spotting":
        return gt_text.upper() == det_text.upper()
    return transcription_match(gt_text, det_text)
