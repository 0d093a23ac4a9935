"""``swift-ocr eval det``: score detection-as-text results, and the predictions of other detectors, with the ICDAR
2015 Challenge 4 protocol.

Each row's ``response`` of a ``swift infer --result_path`` jsonl file is parsed back into boxes with the
model family's codec (:mod:`swift_ocr.codecs`), rows are grouped per source image and matched against the
ground truth (the rows' ``labels``, or the original ICDAR label files with ``--gt``) by
:mod:`swift_ocr.eval.metrics.det`. Reading and grouping: :mod:`swift_ocr.eval.det_results`. ICDAR 2015 result
files, PaddleOCR results and MMOCR predictions are read by :mod:`swift_ocr.eval.predictions` (``--pred-format``)
against ``--gt``; several systems (``--pred NAME=PATH`` repeated) print one comparison table.
"""
from __future__ import annotations

import argparse
import sys

from swift_ocr.cli.eval_api import API_EPILOG, add_api_arguments
from swift_ocr.eval.det_scoring import (codec_for, format_comparison, format_table, format_warning, image_record,
                                       load_system, pred_inputs, summary)

EPILOG = """\
protocol (ICDAR 2015 Challenge 4, rrc.cvc.uab.es/?ch=4, official script.py; see swift_ocr/eval/metrics/det/):
  a detection matches a ground-truth region one-to-one when IoU > --iou (strictly; default 0.5);
  a detection overlapping one do-not-care (###) region by more than half of its own area is discarded;
  precision = matched / kept detections, recall = matched / care ground truth, summed over the dataset;
  hmean = 2PR / (P + R).
  every detection counts: an object the model repeats (a repetition loop) is a false positive each time,
  as in the official script; such exact repeats are counted under 'duplicates'.
  --spotting: a geometric match also needs the transcription (case-insensitive; end_to_end also accepts a
  ground truth with one special character !?.:,*"()[]/' removed at its start and/or end, as Task 4.4).
  Both texts are first normalised as in `eval rec` (Unicode NFKC, whitespace runs -> one space), so that
  full-width ground truth (１２．５０) matches a detection written in ASCII (12.50) and the other way round (the
  converter's targets keep the label's text as written).
codec settings: a row of `convert --task det` for a family with codec options (qwen2_5_vl) records the settings its
  target was written with ("swift_ocr": {"codec": {"min_pixels": .., "max_pixels": ..}}, kept by swift infer
  --remove_unused_columns false): its response and labels are parsed with them. An explicit --min-pixels /
  --max-pixels that differs from a row's recorded value is an error (exit 2) naming the row and both values; rows
  without a record are parsed with the flags, else the codec's defaults.
ground truth: the rows' 'labels' parsed with the same codec (no ### regions: they are left out of training
  targets), or with --gt the original label files (dataset root, label folder, DBNet list file, or a
  PaddleOCR detection label file), matched to each row's image by path or by stem (img_1.jpg <->
  gt_img_1.txt, 000.jpg <-> 000.csv).
unparsed: response fragments the codec could not parse (malformed or cut-off objects, non-finite numbers).
duplicates: exact repeats of an earlier object of the same response (same text and box), kept and scored.
no detection: responses that gave no detection; extra text: response text outside any object (prose, or an
  answer in another family's format). A warning goes to stderr when most responses give no detection.
other detectors (--pred-format, default auto: decided from the path; --gt required):
  icdar   ICDAR 2015 result files res_<image stem>.txt ('x1,y1,...,x4,y4[,transcription]' per line) in a
          folder or .zip; every ground-truth image is scored, one without a file has no detection
  paddle  PaddleOCR results '<image><TAB>[{"points": [[x, y], ...], "transcription"?, "score"?}, ...]'
          (tools/infer_det.py, predict_system.py; predict_det.py's bare point lists too)
  mmocr   MMOCR 1.x: the folder of <image stem>.json that MMOCRInferencer(save_pred=True) writes
          (det_polygons/det_scores/rec_texts), or one JSON list of entries with img_path
  swift   swift infer result rows (needs --model-family)
  coordinates are pixels of the original image; scores are ignored unless --score-threshold is given
  (detections with score >= T are kept). Predictions have no do-not-care: a '###' detection is an ordinary
  detection (discarded by the protocol when it lies on a ### ground-truth region).
several systems: --pred NAME=PATH repeated (and/or --results) print one table (system, format, images, P, R,
  Hmean, detections, unparsed) scored against the same --gt; --json prints {"systems": [...]} with one object
  per system; --per-image records carry "system".
exit status: 0 on success, 2 on unreadable input (result file, image, ground truth).
"""


def add_codec_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """``--model-family`` (the registered families) and one flag per codec option a family declares
    (:attr:`swift_ocr.families.base.ModelFamily.codec_options`, e.g. Qwen2.5-VL's ``--min-pixels``/``--max-pixels``);
    shared with ``swift-ocr draw`` and ``report``."""
    from swift_ocr.families import codec_options, family_names

    parser.add_argument("--model-family", choices=family_names(), required=required,
                        help="codec the model was trained with (its box text format and coordinate grid)")
    for option, owners in codec_options().values():
        parser.add_argument(option.flag, type=option.type, default=None,
                            help=f"{', '.join(owners)} only: {option.help}. Default: the value each result row "
                                 "records (swift_ocr.codec, written by convert --task det; a different explicit "
                                 "value is an error), else the codec's own")


def add_gt_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-outside-root", action="store_true",
                        help="--gt list file: accept image/label paths outside the list file's folder")


def add_pred_arguments(parser: argparse.ArgumentParser) -> None:
    """``--pred-format`` and ``--score-threshold`` (shared with ``swift-ocr draw`` and ``report``)."""
    from swift_ocr.eval.predictions import PRED_FORMATS

    parser.add_argument("--pred-format", default="auto", choices=("auto", *PRED_FORMATS),
                        help="format of the predictions (default auto: from the path; see below): swift infer rows, "
                             "ICDAR 2015 res_*.txt folder/zip, PaddleOCR results, MMOCR predictions")
    parser.add_argument("--score-threshold", type=float, default=None, metavar="T",
                        help="keep only detections with a score >= T (formats with scores: PaddleOCR 'score', "
                             "MMOCR scores); default: every detection, scores ignored")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG + API_EPILOG
    parser.add_argument("--results", metavar="RESULT.jsonl",
                        help="jsonl written by `swift infer --result_path` for a detection-as-text model (or "
                             "another detector's predictions, see --pred-format); or --api below")
    parser.add_argument("--pred", action="append", metavar="[NAME=]PATH",
                        help="predictions of one system to score and compare (repeatable; with --results or --api "
                             "too): any --pred-format; NAME labels its row (default: the file name)")
    add_codec_arguments(parser, required=False)
    parser.add_argument("--gt", metavar="GT",
                        help="original ICDAR-style labels (### = do-not-care): dataset root, label folder, "
                             "DBNet list file or PaddleOCR detection label file; default: the rows' 'labels' (swift "
                             "rows only; required for other formats and for several systems)")
    add_gt_arguments(parser)
    add_pred_arguments(parser)
    parser.add_argument("--iou", type=float, default=0.5, help="IoU a match must exceed (default 0.5)")
    parser.add_argument("--spotting", nargs="?", const="end_to_end", choices=("end_to_end", "word_spotting"),
                        help="also require the transcription to match, case-insensitively (default mode "
                             "end_to_end; word_spotting: Task 4.4 dictionary-word rules)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object {precision, recall, hmean, n_images, n_gt, n_det, unparsed, "
                             "duplicates, responses_without_detections, extra_text, ...}")
    parser.add_argument("--per-image", metavar="OUT.jsonl",
                        help="write one JSON object per image (counts, scores, missed / false-positive texts, "
                             "unparsed fragments, duplicates, extra text); written atomically")
    parser.add_argument("--worst", type=int, default=5, metavar="K",
                        help="how many worst images (lowest Hmean) to list under the table (default 5)")
    parser.add_argument("--note", metavar="TEXT",
                        help="a line printed above the table (and 'note' in --json), e.g. 'tiny random untrained "
                             "model - not OCR quality'")
    add_api_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from swift_ocr.eval.det_results import GroundTruthIndex
    from swift_ocr.errors import OcrFormatError
    from swift_ocr.io_utils import atomic_write
    from swift_ocr.eval.results import print_report, report_json, report_line
    from swift_ocr.cli.eval_api import api_report, check_source, run_api

    prog = "swift-ocr eval det"
    if not args.pred or args.results or args.api:
        error = check_source(prog, args)
        if error:
            print_report(error, sys.stderr)
            return 2
    try:
        systems = pred_inputs(args)
        codec = codec_for(args, [p.path for p in systems if p.is_swift_rows] + (["--api"] if args.api else []))
        if len(systems) + bool(args.api) > 1 and not args.gt:
            raise ValueError("several systems are compared on one ground truth: pass --gt")
    except (OcrFormatError, ValueError) as exc:
        print_report(f"{prog}: error: {exc}", sys.stderr)
        return 2
    api = run_api(args, prog) if args.api else None
    if isinstance(api, int):
        return api
    try:
        if api is not None:
            systems = pred_inputs(args)
        gt = GroundTruthIndex(args.gt, args.allow_outside_root) if args.gt else None
        loaded = [(system, *load_system(system, args, codec, gt)) for system in systems]
    except (OcrFormatError, OSError, ValueError) as exc:
        print_report(f"{prog}: error: {exc}", sys.stderr)
        return 2

    several = len(loaded) > 1
    if args.per_image:
        try:
            with atomic_write(args.per_image) as fh:
                for system, items, result in loaded:
                    for it, m in zip(items, result.images):
                        record = image_record(it, m)
                        if several:
                            record = {"system": system.name, **record}
                        fh.write(report_line(record))
        except OSError as exc:
            print_report(f"{prog}: error: cannot write {args.per_image}: {exc}", sys.stderr)
            return 2

    summaries = [summary(result, items, args, system) for system, items, result in loaded]
    if api is not None:
        summaries[0]["api"] = api_report(api, args)
    for summ in summaries:
        warning = format_warning(summ, args)
        if warning:
            print_report(warning, sys.stderr)
    if several:
        if args.json:
            out = {"gt": args.gt, "iou": args.iou, "spotting": args.spotting or False, "systems": summaries}
            if getattr(args, "score_threshold", None) is not None:
                out["score_threshold"] = args.score_threshold
            if args.note:
                out["note"] = args.note
            print_report(report_json(out))
        else:
            print_report(format_comparison(loaded, summaries, args))
    elif args.json:
        print_report(report_json(summaries[0]))
    else:
        (_, items, result), = loaded
        print_report(format_table(result, items, summaries[0], args))
    return 1 if api is not None and api.failed else 0
