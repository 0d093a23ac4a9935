"""Plots of the report as PNG bytes, drawn with matplotlib's Agg canvas (no display, no pyplot global state).

* :func:`error_histogram_png`: the distribution of per-sample errors per run (per-sample CER, or per-image
  Hmean for detection), one bar group per bin.
* :func:`paired_scatter_png`: per-sample values of a later run against the first run.
* :func:`train_log_png`: training loss and evaluation curves of a ``swift sft`` log
  (:mod:`swift_ocr.eval.report.train_log`).
"""
from __future__ import annotations

import io
from typing import List, Optional, Sequence

import numpy as np

__all__ = ["error_histogram_png", "paired_scatter_png", "train_log_png"]

_DPI = 100


def _figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def error_histogram_png(names: Sequence[str], values: Sequence[np.ndarray], xlabel: str,
                        upper: float = 1.0, bins: int = 20, title: Optional[str] = None) -> bytes:
    """Histogram of per-sample values, one bar colour per run.

    Args:
        names: run names (legend).
        values: one 1-D array per run (NaN entries are left out).
        xlabel: what the values are (e.g. ``"per-sample CER"``).
        upper: values above it are counted in the last bin (the axis label says how many): a CER can exceed 1.
        bins: bins of equal width over ``[0, upper]``.
        title: plot title.

    Returns:
        PNG bytes.
    """
    fig = _figure(6.8, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    edges = np.linspace(0.0, upper, bins + 1)
    data, above = [], 0
    for v in values:
        v = np.asarray(v, dtype=np.float64)
        v = v[~np.isnan(v)]
        above += int((v > upper).sum())
        data.append(np.clip(v, 0.0, upper))
    ax.hist(data, bins=edges, label=list(names), histtype="bar")
    ax.set_xlabel(f"{xlabel} ({above} value(s) above {upper:g} counted in the last bin)" if above else xlabel)
    ax.set_ylabel("samples")
    ax.set_xlim(0.0, upper)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def paired_scatter_png(first: str, other: str, x: np.ndarray, y: np.ndarray, label: str,
                       upper: float = 1.0) -> bytes:
    """Per-sample values of two runs against each other (rows both runs have; NaN pairs left out).

    Points below the diagonal are samples where ``other`` has the lower value. Values above ``upper`` are drawn
    at ``upper``. Returns PNG bytes.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = ~(np.isnan(x) | np.isnan(y))
    fig = _figure(4.2, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, upper], [0, upper], color="#999", linewidth=1)
    ax.scatter(np.clip(x[ok], 0, upper), np.clip(y[ok], 0, upper), s=9, alpha=0.5, linewidths=0)
    ax.set_xlim(-0.02 * upper, 1.02 * upper)
    ax.set_ylim(-0.02 * upper, 1.02 * upper)
    ax.set_aspect("equal")
    ax.set_xlabel(f"{label}: {first}")
    ax.set_ylabel(f"{label}: {other}")
    ax.set_title(f"{other} vs {first} (below the line: lower in {other})", fontsize="small")
    ax.grid(alpha=0.3)
    return _png(fig)


def train_log_png(log) -> Optional[bytes]:
    """Two panels: training loss (and ``eval_loss``) per step; the other evaluation metrics per step.

    Args:
        log: a :class:`~swift_ocr.eval.report.train_log.TrainLog`.

    Returns:
        PNG bytes, or None when the log holds no curve.
    """
    if not log:
        return None
    losses = {k: v for k, v in {**log.train, **log.eval}.items() if k in ("loss", "eval_loss")}
    metrics = {k: v for k, v in log.eval.items() if k != "eval_loss"}
    panels: List[tuple] = []
    if losses:
        panels.append(("loss", losses))
    if metrics:
        panels.append(("evaluation metrics", metrics))
    fig = _figure(6.0 * len(panels), 3.2)
    for p, (title, series) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), p)
        for key, points in series.items():
            steps = [s for s, _ in points]
            vals = [v for _, v in points]
            ax.plot(steps, vals, marker="o" if len(points) < 30 else None, markersize=3, label=key)
        ax.set_xlabel("global step")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return _png(fig)
