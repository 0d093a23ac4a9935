"""Build the before/after report of several result files: score each file as ``swift-ocr eval`` does, match the
rows, pick the rows shown in detail, draw the plots and write one self-contained HTML file.

Large result sets: every row is scored and counted (metrics, summary table, plots), but only the rows picked by
:func:`swift_ocr.eval.report.match.select_rows` (``limit`` most improved / most regressed / worst per run) get a
detailed row with its image, so the page stays small and opens fast whatever the number of rows.
"""
from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

__all__ = ["ReportResult", "default_names", "build_report"]

#: Longest side of recognition thumbnails and of drawn detection pictures, in pixels.
REC_THUMB_SIDE = 320
DET_THUMB_SIDE = 560


@dataclass
class ReportResult:
    """What :func:`build_report` wrote.

    Attributes:
        output: the HTML file.
        runs: the scored runs (:class:`swift_ocr.eval.report.runs.Run`).
        n_rows: rows in all (matched across runs).
        n_detail: rows shown in detail.
        size: bytes written.
    """

    output: str
    runs: list
    n_rows: int
    n_detail: int
    size: int


def default_names(paths: Sequence[str]) -> List[str]:
    """Run names from file names: the file stems, or, when two stems are equal, ``parent/stem`` (and ``#k``
    suffixes if that is still ambiguous)."""
    stems = [os.path.splitext(os.path.basename(os.fspath(p)))[0] for p in paths]
    if len(set(stems)) < len(stems):
        stems = [f"{os.path.basename(os.path.dirname(os.path.abspath(os.fspath(p))))}/{s}"
                 for p, s in zip(paths, stems)]
    out, seen = [], {}
    for s in stems:
        seen[s] = seen.get(s, 0) + 1
        out.append(s if seen[s] == 1 else f"{s}#{seen[s]}")
    return out


def _locate(path: str, results_dir: str) -> str:
    """``path`` if it exists (absolute or from the current folder), else relative to the result file's folder."""
    if os.path.isfile(path) or os.path.isabs(path):
        return path
    alt = os.path.join(results_dir, path)
    return alt if os.path.isfile(alt) else path


def _rec_figures(runs, table, names):
    from swift_ocr.eval.report.page import Figure
    from swift_ocr.eval.report.plots import error_histogram_png, paired_scatter_png

    values = []
    for k, run in enumerate(runs):
        ce, rc = run.rec.char_edits, run.rec.ref_chars
        values.append(np.where(rc > 0, ce / np.maximum(rc, 1), np.nan))
    n_empty = sum(int((run.rec.ref_chars == 0).sum()) for run in runs)
    empty = f" {n_empty} row(s) with an empty reference (CER undefined) left out." if n_empty else ""
    figs = [Figure("Per-sample CER distribution", error_histogram_png(names, values, "per-sample CER", upper=1.0),
                   f"Rows per CER bin, one colour per run (all rows of each file).{empty}")]
    for k in range(1, len(runs)):
        both = (table.index[:, 0] >= 0) & (table.index[:, k] >= 0)
        x = values[0][table.index[both, 0]]
        y = values[k][table.index[both, k]]
        figs.append(Figure(f"Per-sample CER: {names[k]} vs {names[0]}",
                           paired_scatter_png(names[0], names[k], x, y, "per-sample CER"),
                           "One point per row both runs have; CER above 1 drawn at 1."))
    return figs


def _det_figures(runs, table, names):
    from swift_ocr.eval.report.page import Figure
    from swift_ocr.eval.report.plots import error_histogram_png, paired_scatter_png

    values = [np.array([m.hmean for m in run.det_result.images], dtype=np.float64) for run in runs]
    figs = [Figure("Per-image Hmean distribution", error_histogram_png(names, values, "per-image Hmean", upper=1.0),
                   "Images per Hmean bin, one colour per run (all images of each file).")]
    for k in range(1, len(runs)):
        both = (table.index[:, 0] >= 0) & (table.index[:, k] >= 0)
        figs.append(Figure(f"Per-image Hmean: {names[k]} vs {names[0]}",
                           paired_scatter_png(names[0], names[k], values[0][table.index[both, 0]],
                                              values[k][table.index[both, k]], "per-image Hmean"),
                           "One point per image both runs have; above the line: higher Hmean in the later run."))
    return figs


def _rec_details(run) -> dict:
    o = run.rec.overall
    return {"cer": f"{o.char_edits} / {o.ref_chars}", "wer": f"{o.word_edits} / {o.ref_words}",
            "accuracy": f"{o.exact} / {o.n}"}


def _det_details(run) -> dict:
    m = run.metrics
    return {"precision": f"{m['n_matched']} / {m['n_det']}", "recall": f"{m['n_matched']} / {m['n_gt']}"}


def build_report(results: Sequence[str], output: str, names: Optional[Sequence[str]] = None,
                 rec_options=None, det_options=None, train_log: Optional[str] = None,
                 limit: Optional[int] = 50, title: Optional[str] = None, note: Optional[str] = None,
                 link_images: bool = False) -> ReportResult:
    """Score ``results`` and write the HTML report to ``output`` (atomically: temp file, then ``os.replace``).

    Args:
        results: ``swift infer --result_path`` files, one per run; the first is the baseline of every delta.
        output: the HTML file to write (its folder is created).
        names: one label per run (default :func:`default_names`).
        rec_options: :class:`~swift_ocr.eval.metrics.rec.NormOptions` for recognition (default NFKC etc.).
        det_options: a :class:`~swift_ocr.eval.report.runs.DetOptions`: score as detection; None: recognition.
        train_log: a ``swift sft`` ``logging.jsonl`` to plot (:mod:`swift_ocr.eval.report.train_log`), or None.
        limit: rows per category shown in detail when there are more rows than this (None: all rows).
        title: page title; note: a line shown at the top (e.g. "tiny random model - not OCR quality").
        link_images: recognition only: link the image files (paths relative to the report) instead of
            embedding thumbnails; the report then needs the images next to it.

    Returns:
        :class:`ReportResult`.

    Raises:
        ValueError: no results, names of the wrong number or repeated, a negative limit, bad det options.
        OSError: a file cannot be read or the report cannot be written.
        OcrFormatError: a malformed result file or training log (``file:line: reason``).
    """
    from swift_ocr import __version__
    from swift_ocr.eval.metrics.rec import DEFAULT_OPTIONS
    from swift_ocr.eval.report.match import match_runs, select_rows, summarise
    from swift_ocr.eval.report.page import Figure, det_row_html, rec_row_html, render_page
    from swift_ocr.eval.report.runs import DET_METRICS, REC_METRICS, load_det_run, load_rec_run
    from swift_ocr.eval.report.thumbs import ThumbnailCache

    results = [os.fspath(p) for p in results]
    if not results:
        raise ValueError("give at least one results file")
    names = list(names) if names else default_names(results)
    if len(names) != len(results):
        raise ValueError(f"{len(names)} names for {len(results)} results files")
    if len(set(names)) != len(names):
        raise ValueError(f"run names must differ: {names}")
    if limit is not None and limit < 0:
        raise ValueError("limit must be >= 0")
    task = "rec" if det_options is None else "det"
    rec_options = DEFAULT_OPTIONS if rec_options is None else rec_options
    if task == "rec":
        runs = [load_rec_run(p, n, rec_options) for p, n in zip(results, names)]
    else:
        runs = [load_det_run(p, n, det_options) for p, n in zip(results, names)]
    log = None
    if train_log is not None:
        from swift_ocr.eval.report.train_log import read_train_log
        log = read_train_log(train_log)

    table = match_runs(runs)
    detail = select_rows(table, names, limit)
    summaries = summarise(table, names)
    out_dir = os.path.dirname(os.path.abspath(os.fspath(output)))

    rows_html: List[str] = []
    if task == "rec":
        cache = ThumbnailCache(REC_THUMB_SIDE)

        def image_src(k: int, i: int):
            images = runs[k].images[i]
            if not images:
                return None, "no image in the row"
            path = _locate(images[0], os.path.dirname(os.path.abspath(runs[k].path)))
            if link_images and images[0] != "<bytes>":
                if not os.path.isfile(path):
                    return None, "image not found"
                rel = os.path.relpath(os.path.abspath(path), out_dir).replace(os.sep, "/")
                return urllib.parse.quote(rel), None
            return cache.get(path)

        for r, why in detail.items():
            rows_html.append(rec_row_html(r, table, runs, why, image_src))
        figures = _rec_figures(runs, table, names)
        specs, details, normalisation = REC_METRICS, _rec_details, rec_options.describe()
    else:
        from swift_ocr.eval.draw import draw_regions
        from swift_ocr.images import open_rgb
        from swift_ocr.eval.report.thumbs import image_data_uri

        for r, why in detail.items():
            opened = {}

            def picture(k: int, i: int):
                item, m = runs[k].det_items[i], runs[k].det_result.images[i]
                if item.image not in opened:
                    try:
                        opened[item.image] = (open_rgb(item.image), None)
                    except Exception as exc:  # the scores stand without the pixels
                        opened[item.image] = (None, f"image not readable: {exc}")
                image, reason = opened[item.image]
                if image is None:
                    return None, reason
                drawn = draw_regions(image, item.gt, item.det, m, title=runs[k].name)
                return image_data_uri(drawn, DET_THUMB_SIDE), None

            rows_html.append(det_row_html(r, table, runs, why, picture))
        figures = _det_figures(runs, table, names)
        specs, details, normalisation = DET_METRICS, _det_details, det_options.describe()

    n_rows = len(table)
    if len(detail) == n_rows:
        detail_note = f"All {n_rows} rows in detail."
    else:
        cats = ("most improved, most regressed (each later run vs the first) and worst (each run)"
                if len(runs) > 1 else "worst")
        detail_note = (f"{len(detail)} of {n_rows} rows in detail: the {limit} {cats} rows; the tables and plots "
                       f"above cover all rows.")
    train_fig = None
    if log is not None:
        from swift_ocr.eval.report.plots import train_log_png
        png = train_log_png(log)
        train_fig = Figure("Training curves", png, f"from {log.path}") if png else None
    what = "Recognition" if task == "rec" else "Detection"
    page = render_page(
        title=title or f"{what} results: {' vs '.join(names)}", note=note, task=task, runs=runs, specs=specs,
        metric_details=details, normalisation=normalisation, summaries=summaries, n_rows=n_rows,
        rows_html=rows_html, detail_note=detail_note, figures=figures, train_log=log, train_figure=train_fig,
        version=__version__)
    data = page.encode("utf-8", "backslashreplace")  # lone surrogates from result files shown as \udXXX
    from swift_ocr.io_utils import atomic_write
    with atomic_write(os.fspath(output), "wb") as fh:
        fh.write(data)
    return ReportResult(output=os.fspath(output), runs=runs, n_rows=n_rows, n_detail=len(detail), size=len(data))
