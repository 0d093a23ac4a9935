"""``swift-ocr eval rec``: score a ``swift infer --result_path`` jsonl file with CER, WER, 1-NED and accuracy.

Metric definitions and the text normalisation are documented in :mod:`swift_ocr.eval.metrics.rec`; the row
format in :mod:`swift_ocr.eval.results`.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from swift_ocr.cli.eval_api import API_EPILOG, add_api_arguments

EPILOG = """\
metrics (after normalisation: NFKC, whitespace runs -> one space, see --keep-newlines/--ignore-case):
  cer       character edit distance / reference characters, micro-averaged (total edits / total ref chars)
  wer       word edit distance / reference words (words = whitespace split; unspaced text such as Chinese
            is one word per space-separated chunk), micro-averaged
  ned       1-NED, i.e. 1 - mean(edit / max(len(pred), len(ref))) as in ICDAR 2019 ReCTS/ArT and
            PaddleOCR (higher is better; spaces are kept, unlike PaddleOCR's default)
  accuracy  exact-match rate
  n         number of scored rows
exit status: 0 on success, 2 if the results file is missing, unreadable, malformed or empty.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG + API_EPILOG
    parser.add_argument("--results", metavar="RESULT.jsonl",
                        help="jsonl written by `swift infer --result_path` (rows with 'response' and 'labels'); "
                             "or --api below")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object {cer, wer, ned (= 1-NED), accuracy, n} instead of the table")
    parser.add_argument("--ignore-case", action="store_true", help="case-fold both texts before scoring")
    parser.add_argument("--keep-newlines", action="store_true",
                        help="keep line breaks (a missing or extra line break is then an edit) "
                             "instead of turning them into spaces")
    parser.add_argument("--no-nfkc", action="store_true", help="skip Unicode NFKC normalisation")
    parser.add_argument("--per-sample", metavar="OUT.jsonl",
                        help="write one JSON object per row (index, line, images, normalised pred/ref, char_edits, "
                             "ref_chars, cer, word_edits, ref_words, wer, ned (= 1-NED), exact); written atomically")
    parser.add_argument("--worst", type=int, default=5, metavar="K",
                        help="how many worst rows (lowest 1-NED) to show under the table (default 5)")
    parser.add_argument("--note", metavar="TEXT",
                        help="a line printed above the table (and added as 'note' to --json output), e.g. "
                             "'tiny random untrained model - not OCR quality'")
    add_api_arguments(parser)


def _write_jsonl_atomic(path: str, records) -> None:
    """Write ``records`` (dicts) as jsonl, atomically (temp file next to ``path``, then ``os.replace``). A record
    holding a lone surrogate (``"\\ud800"`` read from the result file) is written with ``\\uXXXX`` escapes
    (:func:`swift_ocr.eval.results.report_line`): valid JSON, read back unchanged."""
    from swift_ocr.io_utils import atomic_write
    from swift_ocr.eval.results import report_line
    with atomic_write(path) as fh:
        for rec in records:
            fh.write(report_line(rec))


def _fmt(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _clip(text: str, width: int = 100) -> str:
    shown = repr(text)
    return shown if len(shown) <= width else shown[: width - 3] + "..."


def format_table(result, rows, results_path: str, worst: int, note: Optional[str]) -> str:
    """The human-readable report: optional note, metric table, then the worst rows.

    ``rows[i]`` is ``(line, images)`` of the i-th scored row of ``results_path``.
    """
    o = result.overall
    out: List[str] = []
    if note:
        out.append(f"NOTE: {note}")
    out.append(f"results: {results_path}")
    out.append(f"normalisation: {result.options.describe()}")
    out.append("")
    out.append(f"{'metric':<44}{'value':>10}  detail")
    table = [
        ("CER  (char edits / ref chars, micro)", _fmt(o.cer), f"{o.char_edits} / {o.ref_chars}"),
        ("WER  (word edits / ref words, micro)", _fmt(o.wer), f"{o.word_edits} / {o.ref_words}"),
        ("1-NED (1 - mean normalised edit dist.)", _fmt(o.ned), "ICDAR 2019 ReCTS/ArT, PaddleOCR"),
        ("accuracy (exact match)", _fmt(o.accuracy), f"{o.exact} / {o.n}"),
        ("n (rows)", str(o.n), ""),
    ]
    for name, value, detail in table:
        out.append(f"{name:<44}{value:>10}  {detail}")
    if worst > 0:
        bad = result.worst(worst)
        out.append("")
        if not bad:
            out.append("all rows match exactly")
        else:
            out.append(f"worst {len(bad)} rows (lowest 1-NED):")
            for s in bad:
                line, images = rows[s.index]
                image = ", ".join(images) if images else "-"
                out.append(
                    f"  line {line}  image {image}  1-NED {s.ned:.4f}  CER {_fmt(s.cer)}  "
                    f"edits {s.char_edits}/{s.ref_chars}"
                )
                out.append(f"    ref : {_clip(s.ref)}")
                out.append(f"    pred: {_clip(s.pred)}")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from swift_ocr.errors import OcrFormatError
    from swift_ocr.eval.metrics.rec import NormOptions, score_pairs
    from swift_ocr.eval.results import iter_results, print_report, report_json

    from swift_ocr.cli.eval_api import api_report, check_source, run_api

    prog = "swift-ocr eval rec"
    error = check_source(prog, args)
    if error:
        print_report(error, sys.stderr)
        return 2
    api = run_api(args, prog) if args.api else None
    if isinstance(api, int):
        return api
    options = NormOptions(nfkc=not args.no_nfkc, ignore_case=args.ignore_case, keep_newlines=args.keep_newlines)
    preds: List[str] = []
    refs: List[str] = []
    rows = []
    try:
        for row in iter_results(args.results):
            preds.append(row.pred)
            refs.append(row.ref)
            rows.append((row.line, row.images))  # for the report; the texts are in preds/refs
    except (OcrFormatError, OSError) as exc:
        print_report(f"swift-ocr eval rec: error: {exc}", sys.stderr)
        return 2
    if not rows:
        print_report(f"swift-ocr eval rec: error: {args.results}: no result rows to score", sys.stderr)
        return 2
    result = score_pairs(preds, refs, options)
    del preds, refs

    if args.per_sample:
        records = (
            {"index": i, "line": rows[i][0], "images": rows[i][1], **result.sample(i).to_dict()}
            for i in range(len(result))
        )
        try:
            _write_jsonl_atomic(args.per_sample, records)
        except OSError as exc:
            print_report(f"swift-ocr eval rec: error: cannot write {args.per_sample}: {exc}", sys.stderr)
            return 2

    if args.json:
        payload = result.overall.metrics()
        if args.note:
            payload["note"] = args.note
        if api is not None:
            payload["api"] = api_report(api, args)
        print_report(report_json(payload))
    else:
        print_report(format_table(result, rows, args.results, args.worst, args.note))
    return 1 if api is not None and api.failed else 0
