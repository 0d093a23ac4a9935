"""The report's HTML: one self-contained page (inline CSS and JavaScript, images as ``data:`` URIs or relative
links, no external resource), written with the standard library only.

Page structure (ids and classes the tests and readers rely on):

* ``table.metrics``: one row per run; each metric in a ``td.metric`` with ``data-run`` (the run name),
  ``data-metric`` (the ``eval --json`` key) and ``data-value`` (the value as JSON, full precision), the shown
  value in ``span.v`` (4 decimals for rates) and the delta against the first run in ``span.delta``.
* ``table.summary``: counts over all rows per run.
* ``figure`` elements with the plots (PNG ``data:`` URIs).
* ``tbody#rows``: one ``tr.row`` per sample shown in detail, with ``data-idx`` (0-based row number),
  ``data-err`` (per-run errors, space-separated, ``nan`` where the run lacks the row) and one ``td.run`` per run
  (``data-run``; ``data-line``: the item's 1-based result-file line(s), comma-separated); recognition cells hold
  the prediction diff (``div.text``) and ``b.cer`` (``data-value``); detection cells hold the drawn image and
  ``b.precision`` / ``b.recall`` / ``b.hmean``.
* The script sorts and filters ``tr.row`` (controls ``#sort``, ``#run``, ``#filter``, ``#errors``; initial state
  from the URL fragment, e.g. ``report.html#sort=regressed&run=1&q=hotel&errors=1``) and marks ``body`` with
  ``data-sorted="<mode>:<run index>"`` once it has run.
"""
from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["Figure", "fmt_value", "fmt_delta", "rec_row_html", "det_row_html", "render_page"]

MINUS = "\u2212"


@dataclass
class Figure:
    """A plot: ``title``, PNG bytes, a caption (plain text)."""

    title: str
    png: bytes
    caption: str = ""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _attr(value) -> str:
    """A JSON value as an escaped attribute value (floats at full precision, None as ``null``)."""
    return _e(json.dumps(value))


def fmt_value(value, kind: str = "rate") -> str:
    """A metric as shown: ``n/a`` for None, 4 decimals for a rate, the integer for a count."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "count":
        return str(int(value))
    return f"{value:.4f}"


def fmt_delta(delta: Optional[float], kind: str = "rate") -> str:
    """A signed delta (``+0.0123``, ``\u22120.0456``, ``\u00b10`` for none)."""
    if delta is None or math.isnan(delta):
        return ""
    if delta == 0:
        return "\u00b10"
    sign = "+" if delta > 0 else MINUS
    mag = abs(delta)
    return f"{sign}{int(mag)}" if kind == "count" else f"{sign}{mag:.4f}"


def _delta_class(delta: Optional[float], better: Optional[str]) -> str:
    if delta is None or math.isnan(delta) or better is None:
        return "neutral"
    if delta == 0:
        return "same"
    return "better" if (delta < 0) == (better == "lower") else "worse"


def _delta_span(delta: Optional[float], better: Optional[str], kind: str, title: str) -> str:
    if delta is None:
        return ""
    return (f'<span class="delta {_delta_class(delta, better)}" data-value="{_attr(delta)}" title="{_e(title)}">'
            f'{fmt_delta(delta, kind)}</span>')


# --------------------------------------------------------------------------------------------- sample rows


def _err_attr(errors: np.ndarray) -> str:
    return " ".join("nan" if math.isnan(e) else repr(float(e)) for e in errors)


def _row_open(r: int, errors: np.ndarray, reasons: Sequence[str]) -> str:
    chips = "".join(f'<span class="why">{_e(x)}</span>' for x in reasons)
    return (f'<tr class="row" data-idx="{r}" data-err="{_err_attr(errors)}">'
            f'<td class="num">{r + 1}{chips}</td>')


def _img(src: Optional[str], reason: Optional[str], alt: str) -> str:
    if src is None:
        return f'<div class="noimg">{_e(reason or "no image")}</div>'
    return f'<img src="{_e(src)}" alt="{_e(alt)}" loading="lazy" decoding="async">'


def _lines(runs, idx_row: np.ndarray) -> str:
    parts = []
    for k, run in enumerate(runs):
        i = int(idx_row[k])
        if i >= 0:
            line = run.lines[i]
            shown = ",".join(map(str, line)) if isinstance(line, list) else str(line)
            parts.append(f"{_e(run.name)}: {_e(shown)}")
    return f'<div class="lines" title="1-based lines in the result files">line {"; ".join(parts)}</div>'


def rec_row_html(r: int, table, runs, reasons: Sequence[str],
                 image_src: Callable[[int, int], Tuple[Optional[str], Optional[str]]]) -> str:
    """One recognition ``tr.row``: image, normalised reference, each run's prediction diff and per-sample CER.

    Args:
        r: row number in ``table`` (:class:`swift_ocr.eval.report.match.RowTable`).
        runs: the :class:`swift_ocr.eval.report.runs.Run` list.
        reasons: why the row is shown (``select_rows``).
        image_src: ``(run index, item index) -> (src, reason)``: the image's ``src`` or why there is none.
    """
    from swift_ocr.eval.report.diff import char_diff, diff_counts, diff_html

    idx = table.index[r]
    errors = table.errors[r]
    first = next(k for k in range(len(runs)) if idx[k] >= 0)
    i0 = int(idx[first])
    res0 = runs[first].rec
    ref = res0.refs[i0]
    images = runs[first].images[i0]
    name = ", ".join(os.path.basename(p) for p in images) or "(no image)"
    src, reason = image_src(first, i0)
    out = [_row_open(r, errors, reasons),
           f'<td class="image">{_img(src, reason, name)}<div class="path" title="{_e(", ".join(images))}">'
           f'{_e(name)}</div>{_lines(runs, idx)}</td>',
           f'<td class="ref"><div class="text">{_e(ref)}</div><div class="small">{len(ref)} characters</div></td>']
    for k, run in enumerate(runs):
        i = int(idx[k])
        if i < 0:
            out.append(f'<td class="run missing" data-run="{_e(run.name)}">not in this run</td>')
            continue
        s = run.rec.sample(i)
        counts = diff_counts(char_diff(s.ref, s.pred))
        detail = (f"{s.char_edits} edit{'s' if s.char_edits != 1 else ''} / {s.ref_chars} chars: "
                  f"{counts.insertions} ins, {counts.deletions} del, {counts.substitutions} sub")
        cer = ('<b class="cer" data-value="null">n/a</b> (empty reference)' if s.cer is None
               else f'<b class="cer" data-value="{_attr(s.cer)}">{fmt_value(s.cer)}</b>')
        delta = ""
        if k > 0 and idx[0] >= 0:
            d = float(errors[k] - errors[0])
            delta = " " + _delta_span(d, "lower", "rate", f"per-sample error minus {runs[0].name}'s")
        exact = ' <span class="exact">exact</span>' if s.exact else ""
        out.append(f'<td class="run" data-run="{_e(run.name)}" data-line="{run.lines[i]}" data-edits="{s.char_edits}">'
                   f'<div class="text">{diff_html(s.ref, s.pred)}</div>'
                   f'<div class="score">CER {cer}{delta}{exact}<div class="small">{_e(detail)}</div></div></td>')
    out.append("</tr>")
    return "".join(out)


def det_row_html(r: int, table, runs, reasons: Sequence[str],
                 picture: Callable[[int, int], Tuple[Optional[str], Optional[str]]]) -> str:
    """One detection ``tr.row``: the image name and, per run, the image with ground truth and predictions drawn
    (``picture(run index, item index) -> (src, reason)``) and the image's P / R / Hmean and counts."""
    idx = table.index[r]
    errors = table.errors[r]
    first = next(k for k in range(len(runs)) if idx[k] >= 0)
    item0 = runs[first].det_items[int(idx[first])]
    n_care = sum(1 for g in item0.gt if not g.dont_care)
    n_dc = len(item0.gt) - n_care
    name = os.path.basename(item0.image)
    dc = f", {n_dc} do-not-care" if n_dc else ""
    out = [_row_open(r, errors, reasons),
           f'<td class="image"><div class="path" title="{_e(item0.image)}">{_e(name)}</div>'
           f'<div class="small">{n_care} ground-truth regions{dc}</div>{_lines(runs, idx)}</td>']
    for k, run in enumerate(runs):
        i = int(idx[k])
        if i < 0:
            out.append(f'<td class="run missing" data-run="{_e(run.name)}">not in this run</td>')
            continue
        item, m = run.det_items[i], run.det_result.images[i]
        src, reason = picture(k, i)
        scores = " ".join(f'{lab} <b class="{key}" data-value="{_attr(getattr(m, key))}">{getattr(m, key):.4f}</b>'
                          for lab, key in (("P", "precision"), ("R", "recall"), ("H", "hmean")))
        delta = ""
        if k > 0 and idx[0] >= 0:
            d = float(errors[0] - errors[k])  # = hmean_k - hmean_0
            delta = " " + _delta_span(d, "higher", "rate", f"Hmean minus {runs[0].name}'s")
        problems = [f"matched {m.n_matched}/{m.n_gt}", f"detections {m.n_det}",
                    f"missed {len(m.unmatched_gt)}", f"false {len(m.unmatched_det)}"]
        for label, n in (("wrong text", len(m.wrong_text)), ("unparsed", len(item.unparsed)),
                         ("duplicates", item.duplicates), ("extra text", len(item.extra_text))):
            if n:
                problems.append(f"{label} {n}")
        lines = ",".join(map(str, run.lines[i]))
        out.append(f'<td class="run" data-run="{_e(run.name)}" data-line="{lines}">{_img(src, reason, name)}'
                   f'<div class="score">{scores}{delta}<div class="small">{_e(", ".join(problems))}</div></div></td>')
    out.append("</tr>")
    return "".join(out)


# -------------------------------------------------------------------------------------------------- page

CSS = """
body{font-family:"DejaVu Sans","Noto Sans","Noto Sans CJK SC",system-ui,sans-serif;margin:16px 20px;color:#1d1d1d;
 font-size:14px;line-height:1.35}
h1{font-size:22px;margin:0 0 6px}h2{font-size:18px;margin:22px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d4d4d4;padding:4px 7px;vertical-align:top}
th{background:#f2f2f2;text-align:left;font-weight:600}
.note{background:#fff4d6;border:1px solid #e8c15a;padding:6px 10px;margin:8px 0;max-width:1100px}
.meta{color:#555;margin:2px 0}.small{font-size:12px;color:#666}
td.metric,td.count{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.metric .v{font-weight:600}td.metric .delta{display:block;font-size:12px}
.delta.better{color:#137a2a}.delta.worse{color:#c0262d}.delta.same,.delta.neutral{color:#777}
figure{display:inline-table;margin:6px 14px 6px 0;vertical-align:top}figure img{max-width:100%;border:1px solid #eee}
figcaption{display:table-caption;caption-side:bottom;font-size:12px;color:#555}
.controls{position:sticky;top:0;background:#fafafa;border:1px solid #ddd;padding:6px 8px;z-index:2;margin:6px 0}
.controls label{margin-right:12px}#count{color:#444;font-weight:600}
#samples{table-layout:fixed;width:100%}#samples .num{width:84px}#samples .ref{width:18%}
#samples .image{width:240px}#samples td.image img{max-width:230px;max-height:160px;min-height:36px;display:block;
 object-fit:contain;object-position:left}
#samples.det .image{width:150px}
#samples td.run img{max-width:100%;display:block;margin-bottom:4px;cursor:zoom-in}
#samples td.run img.zoom{max-width:none;cursor:zoom-out;position:relative;z-index:1;box-shadow:0 0 8px #0006}
.text{white-space:pre-wrap;word-break:break-word;font-family:"DejaVu Sans Mono","Noto Sans Mono",monospace;
 font-size:14px}
.path{word-break:break-all;font-size:12px}.lines{font-size:11px;color:#777}
.why{display:block;font-size:10px;background:#eef;border-radius:3px;padding:0 3px;margin-top:3px;color:#335}
.exact{font-size:11px;background:#dff3e3;color:#137a2a;border-radius:3px;padding:0 3px}
ins{background:#bfe3ff;text-decoration:none;color:#003a66;border-radius:2px}
del{background:#ffd0d0;color:#8a1010;text-decoration:line-through;border-radius:2px}
.sub del{background:#ffe7b8;color:#7a4a00}.sub ins{background:#ffbf5e;color:#3a2300}
.nl::before{content:"\\21B5"}
.missing{color:#999;font-style:italic}.noimg{color:#999;font-size:12px;border:1px dashed #ccc;padding:10px}
.legend span{margin-right:12px}
"""

JS = r"""
(function(){
  var tbody=document.getElementById('rows');
  if(!tbody){document.body.setAttribute('data-sorted','none');return;}
  var rows=Array.prototype.slice.call(tbody.querySelectorAll('tr.row'));
  rows.forEach(function(tr){
    tr._err=tr.getAttribute('data-err').split(' ').map(Number);
    tr._idx=Number(tr.getAttribute('data-idx'));
    tr._text=tr.textContent.toLowerCase();
  });
  var sortSel=document.getElementById('sort'),runSel=document.getElementById('run'),
      filt=document.getElementById('filter'),errs=document.getElementById('errors'),
      count=document.getElementById('count');
  function score(tr,mode,k){
    var a=tr._err[0],b=tr._err[k];
    if(mode==='improved')return a-b;
    if(mode==='regressed')return b-a;
    if(mode==='worst')return b;
    return -tr._idx;
  }
  function apply(){
    var mode=sortSel.value,k=Number(runSel.value),q=filt.value.toLowerCase(),only=errs.checked;
    var keyed=rows.map(function(tr){return [score(tr,mode,k),tr];});
    keyed.sort(function(x,y){
      var nx=isNaN(x[0]),ny=isNaN(y[0]);
      if(nx!==ny)return nx?1:-1;
      if(!nx&&x[0]!==y[0])return y[0]-x[0];
      return x[1]._idx-y[1]._idx;
    });
    var frag=document.createDocumentFragment(),shown=0;
    keyed.forEach(function(p){
      var tr=p[1],e=tr._err[k];
      var vis=(!q||tr._text.indexOf(q)>=0)&&(!only||e>0);
      tr.hidden=!vis;if(vis)shown++;frag.appendChild(tr);
    });
    tbody.appendChild(frag);
    count.textContent=shown+' of '+rows.length+' detailed rows shown';
    document.body.setAttribute('data-sorted',mode+':'+k);
  }
  var h=location.hash.replace(/^#/,'').split('&');
  h.forEach(function(kv){
    var i=kv.indexOf('=');if(i<0)return;
    var key=kv.slice(0,i),val=decodeURIComponent(kv.slice(i+1));
    if(key==='sort'&&sortSel.querySelector('option[value="'+val+'"]'))sortSel.value=val;
    if(key==='run'&&runSel.querySelector('option[value="'+val+'"]'))runSel.value=val;
    if(key==='q')filt.value=val;
    if(key==='errors')errs.checked=(val==='1');
  });
  [sortSel,runSel,errs].forEach(function(el){el.addEventListener('change',apply);});
  filt.addEventListener('input',apply);
  tbody.addEventListener('click',function(ev){
    var t=ev.target;if(t.tagName==='IMG'&&t.closest('td.run'))t.classList.toggle('zoom');
  });
  apply();
})();
"""


def _metrics_table(runs, specs, details: Optional[Callable[[object], dict]]) -> str:
    head = "".join(f'<th title="{_e(s.help)}">{_e(s.label)}</th>' for s in specs)
    out = [f'<table class="metrics"><thead><tr><th>run</th><th>results file</th>{head}</tr></thead><tbody>']
    base = runs[0].metrics
    for k, run in enumerate(runs):
        cells = []
        extra = details(run) if details else {}
        for s in specs:
            v = run.metrics.get(s.key)
            delta = None
            if k > 0 and v is not None and base.get(s.key) is not None:
                delta = v - base[s.key]
            d = _delta_span(delta, s.better, s.kind, f"minus {runs[0].name}'s") if delta is not None else ""
            sub = f'<div class="small">{_e(extra[s.key])}</div>' if s.key in extra else ""
            cells.append(f'<td class="metric" data-run="{_e(run.name)}" data-metric="{_e(s.key)}" '
                         f'data-value="{_attr(v)}"><span class="v">{fmt_value(v, s.kind)}</span>{d}{sub}</td>')
        out.append(f'<tr data-run="{_e(run.name)}"><th>{_e(run.name)}</th>'
                   f'<td class="path">{_e(run.path)}</td>{"".join(cells)}</tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _summary_table(summaries, error_label: str) -> str:
    cols = [("rows", "rows", "rows this run has"),
            ("perfect", "perfect", "rows with error 0"),
            ("with_errors", "with errors", "rows with error > 0"),
            ("mean_error", f"mean {error_label}", "mean of the per-row values (not the dataset metric)"),
            ("median_error", f"median {error_label}", "median of the per-row values"),
            ("improved", "improved", "rows with a lower error than in the first run"),
            ("regressed", "regressed", "rows with a higher error than in the first run"),
            ("unchanged", "unchanged", "rows with the same error as in the first run"),
            ("only_here", "not in first run", "rows the first run lacks"),
            ("missing", "missing", "rows of the first run this run lacks")]
    head = "".join(f'<th title="{_e(t)}">{_e(label)}</th>' for _, label, t in cols)
    out = [f'<table class="summary"><thead><tr><th>run</th>{head}</tr></thead><tbody>']
    for s in summaries:
        cells = []
        for key, _, _ in cols:
            v = getattr(s, key)
            shown = "\u2013" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))
            cells.append(f'<td class="count" data-key="{key}" data-value="{_attr(v)}">{shown}</td>')
        out.append(f'<tr data-run="{_e(s.name)}"><th>{_e(s.name)}</th>{"".join(cells)}</tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _train_log_html(log, figure_html: str) -> str:
    rows = []
    for group in (log.train, log.eval):
        for key, points in group.items():
            for step, v in points:
                rows.append(f'<tr data-key="{_e(key)}" data-step="{step}"><td>{_e(key)}</td><td>{step}</td>'
                            f'<td class="count" data-value="{_attr(v)}">{v:.6g}</td></tr>')
    skipped = f" {log.skipped} non-finite value(s) left out." if log.skipped else ""
    keys = ", ".join(list(log.train) + list(log.eval)) or "none"
    return (f'<p class="meta">log: {_e(log.path)}; series: {_e(keys)}.{_e(skipped)}</p>{figure_html}'
            f'<details><summary>values ({len(rows)})</summary><table class="trainlog"><thead><tr><th>series</th>'
            f'<th>step</th><th>value</th></tr></thead><tbody>{"".join(rows)}</tbody></table></details>')


def _figure_html(fig: Figure) -> str:
    from swift_ocr.eval.report.thumbs import data_uri

    return (f'<figure><img src="{data_uri(fig.png, "image/png")}" alt="{_e(fig.title)}">'
            f'<figcaption><b>{_e(fig.title)}</b>{" - " + _e(fig.caption) if fig.caption else ""}</figcaption></figure>')


def render_page(*, title: str, note: Optional[str], task: str, runs, specs, metric_details, normalisation: str,
                summaries, n_rows: int, rows_html: List[str], detail_note: str, figures: List[Figure],
                train_log=None, train_figure: Optional[Figure] = None, version: str = "") -> str:
    """The whole page as a string (see the module docstring for its structure).

    Args:
        title: page title; note: an optional warning line shown at the top (e.g. "tiny random model").
        task: ``"rec"`` or ``"det"``; runs: the runs; specs: their :class:`~swift_ocr.eval.report.runs.MetricSpec`\\ s.
        metric_details: ``run -> {metric key: small text}`` shown under values (e.g. ``"5 / 21"``), or None.
        normalisation: how texts were normalised / the detection protocol (one line).
        summaries: :class:`~swift_ocr.eval.report.match.RunSummary` per run; n_rows: rows in all.
        rows_html: the ``tr.row`` elements of the rows shown in detail; detail_note: which rows those are.
        figures: plots of the results; train_log / train_figure: the training log and its plot, or None.
    """
    names = [r.name for r in runs]
    what = "recognition" if task == "rec" else "detection"
    cmd = "eval rec --json" if task == "rec" else "eval det --json"
    runs_line = ", ".join(f"{_e(n)} ({_e(r.path)})" for n, r in zip(names, runs))
    note_html = f'<div class="note" id="note">{_e(note)}</div>' if note else ""
    multi = len(runs) > 1
    sort_opts = ([("improved", "most improved (vs first run)"), ("regressed", "most regressed (vs first run)")]
                 if multi else []) + [("worst", "worst"), ("order", "file order")]
    sort_html = "".join(f'<option value="{v}">{_e(t)}</option>' for v, t in sort_opts)
    run_html = "".join(f'<option value="{k}"{" selected" if k == len(runs) - 1 else ""}>{_e(n)}</option>'
                       for k, n in enumerate(names))
    if task == "rec":
        legend = ('<p class="legend small">Texts after normalisation (as scored). Prediction diff against the '
                  'reference: '
                  '<span><ins>inserted</ins></span><span><del>deleted (in the reference, missing)</del></span>'
                  '<span><span class="sub"><del>ref</del><ins>pred</ins></span> substituted</span>'
                  'Error used for sorting: '
                  'per-sample CER (character edits / reference characters; the edit count when the reference is '
                  'empty).</p>')
        cols = ('<th class="num">#</th><th class="image">image</th><th class="ref">reference</th>'
                + "".join(f"<th>{_e(n)}</th>" for n in names))
        error_label = "CER"
    else:
        legend = ('<p class="legend small">Boxes: ground truth green (do-not-care grey, dashed); predictions blue when '
                  'matched, red when unmatched, orange for a match with the wrong text, grey when on a do-not-care '
                  'region. Error used for sorting: 1 - per-image Hmean.</p>')
        cols = '<th class="num">#</th><th class="image">image</th>' + "".join(f"<th>{_e(n)}</th>" for n in names)
        error_label = "1 - Hmean"
    figs = "".join(_figure_html(f) for f in figures)
    train = ""
    if train_log is not None:
        train = (f'<h2>Training log</h2>'
                 f'{_train_log_html(train_log, _figure_html(train_figure) if train_figure else "<p>no curves</p>")}')
    body = f"""<h1>{_e(title)}</h1>
{note_html}
<p class="meta">{what} results of {len(runs)} run{"s" if multi else ""}: {runs_line}</p>
<p class="meta">Runs are labelled by the names given; the numbers describe these result files only.</p>
<h2>Metrics</h2>
<p class="meta">Values as <code>swift-ocr {cmd}</code> computes them on each file; deltas against the first run
({_e(names[0])}), coloured by which direction is better.</p>
<p class="meta" id="normalisation">{"normalisation" if task == "rec" else "protocol"}: {_e(normalisation)}</p>
{_metrics_table(runs, specs, metric_details)}
<h2>All rows</h2>
<p class="meta">{n_rows} rows in all, matched across runs by image and {"reference" if task == "rec" else
"ground truth"}. Per-row error: {error_label}.</p>
{_summary_table(summaries, error_label)}
<h2>Plots</h2>
{figs}
{train}
<h2>Samples</h2>
<p class="meta" id="detail-note">{_e(detail_note)}</p>
{legend}
<div class="controls"><label>sort <select id="sort">{sort_html}</select></label>
<label>run <select id="run">{run_html}</select></label>
<label>filter <input id="filter" type="search" size="28" placeholder="image name, reference or prediction"></label>
<label><input id="errors" type="checkbox"> rows with errors in the selected run only</label>
<span id="count"></span></div>
<table id="samples" class="{task}"><thead><tr>{cols}</tr></thead><tbody id="rows">
{chr(10).join(rows_html)}
</tbody></table>
<p class="small">swift-ocr {_e(version)} report</p>"""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{_e(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n<script>{JS}</script>\n'
            f'</body></html>\n')
