"""``swift-ocr report``: one self-contained HTML page comparing result files (before/after fine-tuning).

Each file is scored exactly as ``swift-ocr eval rec --json`` (or, with ``--model-family``, ``eval det --json``);
rows are matched across files by image and reference. Building the page: :mod:`swift_ocr.eval.report`.
"""
from __future__ import annotations

import argparse
import sys

EPILOG = """\
page: a metrics table per run (values of `eval rec --json` / `eval det --json`, deltas against the first run,
  the normalisation used), counts over all rows, plots (per-sample CER / per-image Hmean distribution, later
  runs against the first, training curves with --train-log), and per-sample rows: the image, the reference and
  each run's prediction with character-level diff highlighting and its CER (detection: the image with ground
  truth and predicted boxes drawn, per-image P/R/Hmean), sortable by most improved / most regressed / worst and
  filterable. Works offline: images and plots are embedded, no external resource.
large result sets: every row is scored and counted, but only the --limit most improved, most regressed and
  worst rows of each run are shown in detail.
exit status: 0 on success, 2 on unreadable or malformed input or an unwritable output.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from swift_ocr.cli.eval_det import add_codec_arguments, add_gt_arguments, add_pred_arguments

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--results", required=True, nargs="+", metavar="RESULT.jsonl",
                        help="jsonl files written by `swift infer --result_path`, one per run; the first is the "
                             "baseline of the deltas")
    parser.add_argument("--name", nargs="+", metavar="NAME",
                        help="a label per results file (default: the file names)")
    parser.add_argument("--output", required=True, metavar="REPORT.html", help="the HTML file to write")
    parser.add_argument("--train-log", metavar="logging.jsonl",
                        help="`swift sft` logging.jsonl: plot training loss and eval curves (eval_cer, eval_hmean, "
                             "...)")
    parser.add_argument("--limit", type=int, default=50, metavar="N",
                        help="when there are more than N rows, show in detail only the N most improved, N most "
                             "regressed and N worst rows of each run (default 50); 0 shows none")
    parser.add_argument("--title", metavar="TEXT", help="page title")
    parser.add_argument("--note", metavar="TEXT",
                        help="a line shown at the top, e.g. 'tiny random untrained model - not OCR quality'")
    parser.add_argument("--link-images", action="store_true",
                        help="recognition: link the images (paths relative to the report) instead of embedding "
                             "thumbnails; the page then needs the image files")
    rec = parser.add_argument_group("recognition (as `eval rec`)")
    rec.add_argument("--ignore-case", action="store_true", help="case-fold both texts before scoring")
    rec.add_argument("--keep-newlines", action="store_true", help="keep line breaks (a missing one is an edit)")
    rec.add_argument("--no-nfkc", action="store_true", help="skip Unicode NFKC normalisation")
    det = parser.add_argument_group("detection (as `eval det`; --model-family or --pred-format selects detection)")
    add_codec_arguments(det, required=False)
    add_pred_arguments(det)
    det.add_argument("--gt", metavar="GT", help="original ICDAR-style labels (default: the rows' 'labels')")
    add_gt_arguments(det)
    det.add_argument("--iou", type=float, default=0.5, help="IoU a match must exceed (default 0.5)")
    det.add_argument("--spotting", nargs="?", const="end_to_end", choices=("end_to_end", "word_spotting"),
                     help="a match also needs the right transcription")


def run(args: argparse.Namespace) -> int:
    from swift_ocr.errors import OcrFormatError
    from swift_ocr.eval.metrics.rec import NormOptions
    from swift_ocr.eval.report import DetOptions, build_report
    from swift_ocr.eval.results import print_report

    prog = "swift-ocr report"
    det_options = None
    if args.model_family or args.pred_format != "auto":
        det_options = DetOptions(model_family=args.model_family, min_pixels=args.min_pixels,
                                 max_pixels=args.max_pixels, gt=args.gt, allow_outside_root=args.allow_outside_root,
                                 iou=args.iou, spotting=args.spotting, pred_format=args.pred_format,
                                 score_threshold=args.score_threshold)
    elif (args.gt or args.spotting or args.min_pixels is not None or args.max_pixels is not None
          or args.score_threshold is not None):
        print_report(f"{prog}: error: --gt, --spotting, --score-threshold and the pixel bounds are detection "
                     f"options: give --model-family (swift infer rows) or --pred-format", sys.stderr)
        return 2
    options = NormOptions(nfkc=not args.no_nfkc, ignore_case=args.ignore_case, keep_newlines=args.keep_newlines)
    try:
        res = build_report(args.results, args.output, names=args.name, rec_options=options,
                           det_options=det_options, train_log=args.train_log, limit=args.limit, title=args.title,
                           note=args.note, link_images=args.link_images)
    except (OcrFormatError, OSError, ValueError) as exc:
        print_report(f"{prog}: error: {exc}", sys.stderr)
        return 2
    runs = f"{len(res.runs)} run{'s' if len(res.runs) != 1 else ''}"
    print_report(f"wrote {res.output} ({runs}, {res.n_rows} rows, {res.n_detail} in detail, "
                 f"{res.size / 1024:.0f} KiB)")
    return 0
