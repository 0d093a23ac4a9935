"""Rows of a report: the items of several runs matched into one table, the per-row errors, the rows shown in
detail, and counts over all rows.

Matching: the k-th item with a given key (:attr:`swift_ocr.eval.report.runs.Run.keys`: image and reference) in one run
is the same row as the k-th item with that key in every other run -- repeated samples pair up in file order.
Rows appear in first-appearance order: the first run's items in file order, then items only later runs have.

Errors are per-item errors of :mod:`swift_ocr.eval.report.runs` (lower is better); a row missing from a run has
``NaN`` there. *Improvement* of run k on a row is ``error(first run) - error(run k)`` (positive: better than the
first run), defined only where both runs have the row.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

__all__ = ["RowTable", "match_runs", "select_rows", "RunSummary", "summarise"]


@dataclass
class RowTable:
    """Items of several runs, matched.

    Attributes:
        index: ``int64`` array of shape ``(n_rows, n_runs)``: the item index of each row in each run, -1 where the
            run lacks the row.
        errors: ``float64`` array of the same shape: the item's error, NaN where the run lacks the row.
    """

    index: np.ndarray
    errors: np.ndarray

    def __len__(self) -> int:
        return self.index.shape[0]

    def improvement(self, k: int) -> np.ndarray:
        """``errors[:, 0] - errors[:, k]`` (NaN where either run lacks the row)."""
        return self.errors[:, 0] - self.errors[:, k]


def match_runs(runs: Sequence) -> RowTable:
    """Match the items of ``runs`` (objects with ``keys`` and ``errors``, see :class:`swift_ocr.eval.report.runs.Run`)
    by key and occurrence (module docstring)."""
    where: Dict[tuple, int] = {}
    rows: List[List[int]] = []
    m = len(runs)
    for k, run in enumerate(runs):
        seen: Counter = Counter()
        for i, key in enumerate(run.keys):
            full = (key, seen[key])
            seen[key] += 1
            r = where.get(full)
            if r is None:
                r = where[full] = len(rows)
                rows.append([-1] * m)
            rows[r][k] = i
    index = np.array(rows, dtype=np.int64).reshape(len(rows), m)
    errors = np.full(index.shape, np.nan)
    for k, run in enumerate(runs):
        have = index[:, k] >= 0
        errors[have, k] = np.asarray(run.errors, dtype=np.float64)[index[have, k]]
    return RowTable(index, errors)


def _top(values: np.ndarray, candidates: np.ndarray, limit: int) -> np.ndarray:
    """Up to ``limit`` of ``candidates`` (row numbers) with the largest ``values``, ties by row number."""
    if not len(candidates) or limit <= 0:
        return candidates[:0]
    order = np.lexsort((candidates, -values[candidates]))
    return candidates[order[:limit]]


def select_rows(table: RowTable, names: Sequence[str], limit: Optional[int]) -> Dict[int, List[str]]:
    """The rows to show in detail, each with why it was picked.

    With ``limit`` None or at least the number of rows, every row (no reasons). Otherwise, for every run k after
    the first: the ``limit`` rows it improved most and the ``limit`` it regressed most (improvement > 0 / < 0,
    largest first); for every run: its ``limit`` worst rows (error > 0, largest first). Ties go to the earlier row.

    Returns:
        ``{row: [reason, ...]}`` in ascending row order; reasons such as ``"most improved: tuned"``.
    """
    n, m = table.index.shape
    if limit is None or n <= limit:
        return {r: [] for r in range(n)}
    picked: Dict[int, List[str]] = {}

    def add(rows: np.ndarray, reason: str) -> None:
        for r in rows.tolist():
            picked.setdefault(r, []).append(reason)

    for k in range(1, m):
        imp = table.improvement(k)
        ok = ~np.isnan(imp)
        add(_top(imp, np.flatnonzero(ok & (imp > 0)), limit), f"most improved: {names[k]}")
        add(_top(-imp, np.flatnonzero(ok & (imp < 0)), limit), f"most regressed: {names[k]}")
    for k in range(m):
        err = table.errors[:, k]
        add(_top(err, np.flatnonzero(~np.isnan(err) & (err > 0)), limit), f"worst: {names[k]}")
    return dict(sorted(picked.items()))


@dataclass
class RunSummary:
    """Counts over all rows for one run.

    Attributes:
        name: the run.
        rows: rows the run has.
        perfect: rows with error 0 (exact match / every region matched).
        with_errors: rows with error > 0.
        mean_error: mean per-row error over the run's rows (per-sample CER or 1 - Hmean; not the dataset metric).
        median_error: median of the same.
        improved, regressed, unchanged: rows better / worse / equal than in the first run (both have the row);
            None for the first run.
        only_here: rows this run has and the first run lacks (None for the first run); missing: rows the first
            run has and this one lacks.
    """

    name: str
    rows: int
    perfect: int
    with_errors: int
    mean_error: Optional[float]
    median_error: Optional[float]
    improved: Optional[int] = None
    regressed: Optional[int] = None
    unchanged: Optional[int] = None
    only_here: Optional[int] = None
    missing: Optional[int] = None


def summarise(table: RowTable, names: Sequence[str]) -> List[RunSummary]:
    """One :class:`RunSummary` per run, over every row of ``table``."""
    out = []
    for k, name in enumerate(names):
        err = table.errors[:, k]
        have = ~np.isnan(err)
        vals = err[have]
        s = RunSummary(name=name, rows=int(have.sum()), perfect=int((vals == 0).sum()),
                       with_errors=int((vals > 0).sum()),
                       mean_error=float(vals.mean()) if len(vals) else None,
                       median_error=float(np.median(vals)) if len(vals) else None)
        if k > 0:
            imp = table.improvement(k)
            both = ~np.isnan(imp)
            s.improved = int((imp[both] > 0).sum())
            s.regressed = int((imp[both] < 0).sum())
            s.unchanged = int((imp[both] == 0).sum())
            first = ~np.isnan(table.errors[:, 0])
            s.only_here = int((have & ~first).sum())
            s.missing = int((first & ~have).sum())
        out.append(s)
    return out
