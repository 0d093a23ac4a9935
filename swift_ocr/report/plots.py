"""Plots of the report as PNG bytes, drawn with matplotlib's Agg canvas (no display, no pyplot global state).

* :func:`error_histogram_png`: the distribution of per-sample errors per run (per-sample CER, or per-image
  Hmean for detection), one bar group per bin.
* :func:`train_log_png`: training loss and evaluation curves of a ``swift sft`` log
  (:mod:`swift_ocr.report.train_log`).
"""
from __future__ import annotations

import io
from typing import List, Optional, Sequence

import numpy as np

__all__ = ["error_histogram_png", "train_log_png"]

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
        upper: values above it are counted in the last bin (labelled ``>= upper``): a CER can exceed 1.
        bins: bins of equal width over ``[0, upper]``.
        title: plot title.

    Returns:
        PNG bytes.
    """
    fig = _figure(8.0, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    edges = np.linspace(0.0, upper, bins + 1)
    data = []
    for v in values:
        v = np.asarray(v, dtype=np.float64)
        data.append(np.clip(v[~np.isnan(v)], 0.0, upper))
    ax.hist(data, bins=edges, label=list(names), histtype="bar")
    ax.set_xlabel(f"{xlabel} (values above {upper:g} counted in the last bin)")
    ax.set_ylabel("samples")
    ax.set_xlim(0.0, upper)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper center", fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def train_log_png(log) -> Optional[bytes]:
    """Two panels: training loss (and ``eval_loss``) per step; the other evaluation metrics per step.

    Args:
        log: a :class:`~swift_ocr.report.train_log.TrainLog`.

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
