"""The result of ``swift-ocr validate``: :class:`ValidationReport` (problems, rows, token statistics), its ``--json``
summary and per-kind counts."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from swift_ocr.validate.problems import ERROR, PROBLEM_KINDS, WARNING, Problem
from swift_ocr.validate.token_budget import TokenCount
from swift_ocr.validate.tokens import TokenStats


@dataclass
class ValidationReport:
    """Everything :func:`~swift_ocr.validate.validator.validate_files` found.

    Attributes:
        files: the jsonl files checked, in order.
        rows: rows checked (non-blank lines, bad JSON included).
        problems: every problem, in file and line order.
        tokens: token-length statistics.
        row_tokens: ``(file, line, TokenCount)`` for each counted row.
    """

    files: List[str]
    rows: int
    problems: List[Problem]
    tokens: TokenStats
    row_tokens: List[Tuple[str, int, TokenCount]] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == WARNING)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed unless ``strict``, which made them errors)."""
        return self.errors == 0

    def counts(self) -> Dict[str, int]:
        """Problems per kind, in :data:`~swift_ocr.validate.problems.PROBLEM_KINDS` order, kinds with problems only."""
        c = Counter(p.kind for p in self.problems)
        return {k: c[k] for k in PROBLEM_KINDS if c[k]}

    def by_kind(self, kind: str) -> List[Problem]:
        return [p for p in self.problems if p.kind == kind]

    def to_dict(self) -> dict:
        """``{files, rows, errors, warnings, problems: {kind: count}, tokens: {...}, ok}`` (the ``--json`` output)."""
        return {"files": self.files, "rows": self.rows, "errors": self.errors, "warnings": self.warnings,
                "problems": self.counts(), "tokens": self.tokens.to_dict(), "ok": self.ok}
