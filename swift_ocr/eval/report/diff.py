"""Character-level differences between a reference and a prediction, as HTML for the report.

The alignment is :func:`rapidfuzz.distance.Levenshtein.opcodes` of ``(ref, pred)``: an optimal unit-cost
alignment, so the characters it marks add up to the Levenshtein distance ``eval rec`` counts as ``char_edits``
(a substitution block ``replace`` always has as many reference as prediction characters). Nothing here
computes an edit distance itself.

Kinds of edit, seen from the reference (what the model had to produce):

* **insertion**: prediction characters with no reference counterpart (``insert`` opcodes), shown as ``<ins>``;
* **deletion**: reference characters missing from the prediction (``delete`` opcodes), shown struck through as
  ``<del>`` (they are reference text, not model output);
* **substitution**: reference characters read as other characters (``replace`` opcodes), shown as the
  reference characters struck through followed by the predicted ones, both inside ``<span class="sub">``.

Characters are Unicode code points of the texts as passed in (the report passes the normalised texts that were
scored, see :mod:`swift_ocr.eval.metrics.rec`).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import List, Tuple

from rapidfuzz.distance import Levenshtein

__all__ = ["DiffCounts", "char_diff", "diff_counts", "diff_html"]

# (opcode tag, reference part, prediction part); tag in {"equal", "insert", "delete", "replace"}
Piece = Tuple[str, str, str]


@dataclass(frozen=True)
class DiffCounts:
    """Characters marked by a diff.

    Attributes:
        insertions: prediction characters not in the reference.
        deletions: reference characters missing from the prediction.
        substitutions: reference characters replaced by another character.
    """

    insertions: int
    deletions: int
    substitutions: int

    @property
    def edits(self) -> int:
        """Total edits: equals the Levenshtein distance of the two texts (``char_edits`` of ``eval rec``)."""
        return self.insertions + self.deletions + self.substitutions


def char_diff(ref: str, pred: str) -> List[Piece]:
    """The alignment of ``ref`` and ``pred`` as ``(tag, ref_part, pred_part)`` pieces in text order.

    ``tag`` is ``"equal"``, ``"insert"`` (``ref_part`` empty), ``"delete"`` (``pred_part`` empty) or ``"replace"``
    (both parts of the same length). Concatenating the ``ref_part`` values gives ``ref``, the ``pred_part`` values
    ``pred``.
    """
    return [(op.tag, ref[op.src_start:op.src_end], pred[op.dest_start:op.dest_end])
            for op in Levenshtein.opcodes(ref, pred)]


def diff_counts(pieces: List[Piece]) -> DiffCounts:
    """Insertions, deletions and substitutions of :func:`char_diff` pieces (characters)."""
    ins = sum(len(p) for tag, _, p in pieces if tag == "insert")
    dele = sum(len(r) for tag, r, _ in pieces if tag == "delete")
    sub = sum(len(r) for tag, r, _ in pieces if tag == "replace")
    return DiffCounts(ins, dele, sub)


def _text(s: str) -> str:
    return html.escape(s, quote=False)


def _marked(s: str) -> str:
    """Escaped text of an edit; a line break in it is wrapped in ``<span class="nl">`` so that CSS can show a
    symbol for it (``::before`` content is not part of the text)."""
    return _text(s).replace("\n", '<span class="nl">\n</span>')


def diff_html(ref: str, pred: str) -> str:
    """The prediction with its differences from the reference marked up (HTML fragment, escaped).

    Equal runs are plain text; ``<ins>`` marks inserted prediction characters, ``<del>`` reference characters
    the prediction lacks, ``<span class="sub"><del>ref</del><ins>pred</ins></span>`` substitutions. Each mark
    has a ``title`` saying what it is. Whitespace is kept as is (show it with CSS ``white-space: pre-wrap``); a
    line break inside an edit is wrapped in ``<span class="nl">`` (the page's CSS draws a return symbol before it).
    """
    out = []
    for tag, r, p in char_diff(ref, pred):
        if tag == "equal":
            out.append(_text(p))
        elif tag == "insert":
            out.append(f'<ins title="inserted ({len(p)})">{_marked(p)}</ins>')
        elif tag == "delete":
            out.append(f'<del title="deleted: in the reference, missing from the prediction ({len(r)})">'
                       f'{_marked(r)}</del>')
        else:
            out.append(f'<span class="sub" title="substituted ({len(r)})"><del>{_marked(r)}</del>'
                       f'<ins>{_marked(p)}</ins></span>')
    return "".join(out)
