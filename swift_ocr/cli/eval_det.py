"""``swift-ocr eval det``: score detection-as-text results with the ICDAR 2015 Challenge 4 protocol.

Each row's ``response`` of a ``swift infer --result_path`` jsonl file is parsed back into boxes with the
model family's codec (:mod:`swift_ocr.codecs`), rows are grouped per source image and matched against the
ground truth (the rows' ``labels``, or the original ICDAR label files with ``--gt``) by
:mod:`swift_ocr.eval.metrics.det`. Reading and grouping: :mod:`swift_ocr.eval.det_results`.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from swift_ocr.cli.eval_api import API_EPILOG, add_api_arguments

EPILOG = """\
protocol (ICDAR 2015 Challenge 4, rrc.cvc.uab.es/?ch=4, official script.py; see swift_ocr/eval/metrics/det.py):
  a detection matches a ground-truth region one-to-one when IoU > --iou (strictly; default 0.5);
  a detection overlapping one do-not-care (###) region by more than half of its own area is discarded;
  precision = matched / kept detections, recall = matched / care ground truth, summed over the dataset;
  hmean = 2PR / (P + R).
  every detection counts: an object the model repeats (a repetition loop) is a false positive each time,
  as in the official script; such exact repeats are counted under 'duplicates'.
  --spotting: a geometric match also needs the transcription (case-insensitive; end_to_end also accepts a
  ground truth with one special character !?.:,*"()[]/' removed at its start and/or end, as Task 4.4).
  Both texts are first normalised as in `eval rec` (Unicode NFKC, whitespace runs -> one space), so that
  full-width ground truth (１２．５０) matches the NFKC targets the converter writes (12.50).
ground truth: the rows' 'labels' parsed with the same codec (no ### regions: they are left out of training
  targets), or with --gt the original label files (dataset root, label folder or DBNet list file), matched
  to each row's image by path or by stem (img_1.jpg <-> gt_img_1.txt, 000.jpg <-> 000.csv).
unparsed: response fragments the codec could not parse (malformed or cut-off objects, non-finite numbers).
duplicates: exact repeats of an earlier object of the same response (same text and box), kept and scored.
no detection: responses that gave no detection; extra text: response text outside any object (prose, or an
  answer in another family's format). A warning goes to stderr when most responses give no detection.
exit status: 0 on success, 2 on unreadable input (result file, image, ground truth).
"""


def add_codec_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """``--model-family`` and the Qwen2.5-VL resize bounds (shared with ``swift-ocr draw``)."""
    from swift_ocr.codecs import FAMILIES
    from swift_ocr.codecs.qwen2_5_vl import PROCESSOR_MAX_PIXELS, PROCESSOR_MIN_PIXELS

    parser.add_argument("--model-family", choices=FAMILIES, required=required,
                        help="codec the model was trained with (its box text format and coordinate grid)")
    parser.add_argument("--min-pixels", type=int, default=None,
                        help=f"qwen2_5_vl only: smart_resize lower bound (default {PROCESSOR_MIN_PIXELS})")
    parser.add_argument("--max-pixels", type=int, default=None,
                        help=f"qwen2_5_vl only: smart_resize upper bound (default {PROCESSOR_MAX_PIXELS}, the "
                             "processor's; ms-swift without MAX_PIXELS uses 12845056): must be what resized "
                             "the images at training and inference")


def codec_from_args(args: argparse.Namespace):
    """The codec for ``args.model_family`` (ValueError for pixel bounds given to another family)."""
    from swift_ocr.codecs import get_codec

    params = {}
    for name in ("min_pixels", "max_pixels"):
        value = getattr(args, name, None)
        if value is not None:
            if args.model_family != "qwen2_5_vl":
                raise ValueError(f"--{name.replace('_', '-')} applies to --model-family qwen2_5_vl only")
            params[name] = value
    return get_codec(args.model_family, **params)


def add_gt_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-outside-root", action="store_true",
                        help="--gt list file: accept image/label paths outside the list file's folder")


def spotting_mode(value: Optional[str]):
    """``--spotting [MODE]`` -> the ``spotting=`` argument of :mod:`swift_ocr.eval.metrics.det`."""
    return False if value is None else value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG + API_EPILOG
    parser.add_argument("--results", metavar="RESULT.jsonl",
                        help="jsonl written by `swift infer --result_path` for a detection-as-text model; "
                             "or --api below")
    add_codec_arguments(parser)
    parser.add_argument("--gt", metavar="GT",
                        help="original ICDAR-style labels (### = do-not-care): dataset root, label folder or "
                             "DBNet list file; default: the rows' 'labels'")
    add_gt_arguments(parser)
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


# ------------------------------------------------------------------------------------------------ report


def _clip(text: str, width: int = 40) -> str:
    shown = repr(text)
    return shown if len(shown) <= width else shown[: width - 3] + "..."


def image_record(item, match) -> dict:
    """One ``--per-image`` record: the image's rows, counts, scores and what went wrong (texts, lines).

    ``item`` is a :class:`~swift_ocr.eval.det_results.DetImage`, ``match`` its
    :class:`~swift_ocr.eval.metrics.det.ImageMatch`. Per-image precision/recall follow the official per-sample
    rules (no care ground truth: recall 1). Texts are as read (not normalised); ``duplicates`` are exact repeats
    (kept in ``n_det``), ``extra_text`` counts response fragments outside any object (listed in
    ``extra_text_fragments``), ``responses_without_detections`` the image's rows that gave no detection.
    """
    extra = item.extra_text
    return {
        "image": item.image,
        "lines": item.lines,
        "label_file": item.label_file,
        "n_gt": match.n_gt,
        "n_det": match.n_det,
        "n_matched": match.n_matched,
        "precision": match.precision,
        "recall": match.recall,
        "hmean": match.hmean,
        "unparsed": len(item.unparsed),
        "unparsed_fragments": item.unparsed,
        "truncated": item.truncated,
        "duplicates": item.duplicates,
        "responses_without_detections": item.responses_without_detections,
        "extra_text": len(extra),
        "extra_text_fragments": extra,
        "missed": [item.gt[i].text for i in match.unmatched_gt],
        "false_positives": [item.det[j].text for j in match.unmatched_det],
        "wrong_text": [{"gt": item.gt[m.gt].text, "det": item.det[m.det].text} for m in match.wrong_text],
        "dont_care_gt": len(match.dont_care_gt),
        "discarded_det": len(match.discarded_det),
        "invalid_det": len(match.invalid_det),
    }


def summary(result, items, args) -> dict:
    """The ``--json`` object: dataset scores plus parse and input counts."""
    out = result.summary()
    out.update(
        unparsed=sum(len(it.unparsed) for it in items),
        truncated=sum(it.truncated for it in items),
        duplicates=sum(it.duplicates for it in items),
        responses_without_detections=sum(it.responses_without_detections for it in items),
        extra_text=sum(len(it.extra_text) for it in items),
        n_rows=sum(len(it.rows) for it in items),
        iou=args.iou,
        spotting=args.spotting or False,
        model_family=args.model_family,
        gt=args.gt or "labels",
    )
    if args.note:
        out["note"] = args.note
    return out


def format_table(result, items, summ: dict, args) -> str:
    """The human-readable report: note, metric table, then the worst images."""
    out: List[str] = []
    if args.note:
        out.append(f"NOTE: {args.note}")
    mode = (f"end-to-end spotting ({args.spotting}; texts compared case-insensitively after NFKC and "
            f"whitespace normalisation)" if args.spotting else "detection")
    out.append(f"results: {args.results}  ({summ['n_rows']} rows, {summ['n_images']} images)")
    out.append(f"ground truth: {args.gt or 'labels in the result rows (no ### regions)'}")
    out.append(f"protocol: ICDAR 2015 Challenge 4 {mode}, IoU > {args.iou}, model family {args.model_family}")
    out.append("")
    out.append(f"{'metric':<14}{'value':>10}  detail")
    table = [
        ("precision", f"{result.precision:.4f}", f"{result.n_matched} / {result.n_det} detections"),
        ("recall", f"{result.recall:.4f}", f"{result.n_matched} / {result.n_gt} ground-truth regions"),
        ("hmean", f"{result.hmean:.4f}", ""),
        ("unparsed", str(summ["unparsed"]), f"fragments; {summ['truncated']} cut-off responses"),
        ("duplicates", str(summ["duplicates"]), "exact repeats of an object in its response (repetition loops), "
                                                "scored as detections"),
        ("no detection", str(summ["responses_without_detections"]), f"of {summ['n_rows']} responses"),
        ("extra text", str(summ["extra_text"]), "response fragments outside any detection object"),
    ]
    for name, value, detail in table:
        out.append(f"{name:<14}{value:>10}  {detail}")
    if args.worst > 0:
        ranked = sorted(
            range(len(items)),
            key=lambda k: (result.images[k].hmean,
                           -(len(result.images[k].unmatched_gt) + len(result.images[k].unmatched_det))))
        bad = [k for k in ranked if result.images[k].hmean < 1.0 or items[k].unparsed][: args.worst]
        out.append("")
        if not bad:
            out.append("every image is fully matched")
        else:
            out.append(f"worst {len(bad)} images (lowest Hmean):")
            for k in bad:
                m, it = result.images[k], items[k]
                lines = ",".join(str(n) for n in it.lines)
                wrong = f"  wrong text {len(m.wrong_text)}" if args.spotting else ""
                dup = f"  duplicates {it.duplicates}" if it.duplicates else ""
                out.append(f"  {it.image}  (line {lines})  P {m.precision:.3f}  R {m.recall:.3f}  H {m.hmean:.3f}"
                           f"  missed {len(m.unmatched_gt)}/{m.n_gt}  false {len(m.unmatched_det)}/{m.n_det}{wrong}"
                           f"  unparsed {len(it.unparsed)}{dup}")
                if m.unmatched_gt:
                    out.append("    missed: " + ", ".join(_clip(it.gt[i].text) for i in m.unmatched_gt[:6])
                               + (" ..." if len(m.unmatched_gt) > 6 else ""))
                if m.unmatched_det:
                    out.append("    false : " + ", ".join(_clip(it.det[j].text) for j in m.unmatched_det[:6])
                               + (" ..." if len(m.unmatched_det) > 6 else ""))
                if m.wrong_text:
                    out.append("    text  : " + ", ".join(f"{_clip(it.gt[x.gt].text)} -> {_clip(it.det[x.det].text)}"
                                                          for x in m.wrong_text[:4]))
                if it.unparsed:
                    out.append("    unparsed: " + ", ".join(_clip(s) for s in it.unparsed[:3]))
                if it.extra_text and not it.det:
                    out.append("    extra text: " + ", ".join(_clip(s) for s in it.extra_text[:2]))
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------- run


def text_norm(args: argparse.Namespace):
    """The text normalisation of ``--spotting`` (None without it): :func:`swift_ocr.eval.metrics.rec.normalize_text`
    with its default options (NFKC, whitespace runs -> one space), as ``swift-ocr eval rec``, applied to ground
    truth and detections alike."""
    from swift_ocr.eval.metrics.rec import normalize_text

    return normalize_text if args.spotting else None


def score(items, args):
    """:func:`swift_ocr.eval.metrics.det.evaluate` over the images (ValueError for bad thresholds/polygons)."""
    from swift_ocr.eval.metrics.det import evaluate

    return evaluate(((it.image, it.gt, it.det) for it in items), iou_threshold=args.iou,
                    spotting=spotting_mode(args.spotting), text_norm=text_norm(args))


def format_warning(summ: dict, args) -> Optional[str]:
    """The stderr warning when most responses (more than half of the rows) gave no detection, else None."""
    n_rows, empty = summ["n_rows"], summ["responses_without_detections"]
    if not n_rows or 2 * empty <= n_rows:
        return None
    why = (f"; {summ['extra_text']} fragment(s) of text outside any {args.model_family} object: wrong "
           f"--model-family, or not a detection model?" if summ["extra_text"] else "")
    return (f"swift-ocr eval det: warning: {empty} of {n_rows} responses gave no detection with --model-family "
            f"{args.model_family}{why} (see 'extra_text' with --per-image)")


def run(args: argparse.Namespace) -> int:
    from swift_ocr.eval.det_results import load_det_images
    from swift_ocr.errors import OcrFormatError
    from swift_ocr.io_utils import atomic_write
    from swift_ocr.eval.results import print_report, report_json, report_line
    from swift_ocr.cli.eval_api import api_report, check_source, run_api

    prog = "swift-ocr eval det"
    error = check_source(prog, args)
    if error:
        print_report(error, sys.stderr)
        return 2
    try:
        codec = codec_from_args(args)
    except ValueError as exc:
        print_report(f"{prog}: error: {exc}", sys.stderr)
        return 2
    api = run_api(args, prog) if args.api else None
    if isinstance(api, int):
        return api
    try:
        items = load_det_images(args.results, codec, gt=args.gt, family=args.model_family,
                                allow_outside_root=args.allow_outside_root)
        if not items:
            raise OcrFormatError(args.results, None, "no result rows to score")
        result = score(items, args)
    except (OcrFormatError, OSError, ValueError) as exc:
        print_report(f"{prog}: error: {exc}", sys.stderr)
        return 2

    if args.per_image:
        try:
            with atomic_write(args.per_image) as fh:
                for it, m in zip(items, result.images):
                    fh.write(report_line(image_record(it, m)))
        except OSError as exc:
            print_report(f"{prog}: error: cannot write {args.per_image}: {exc}", sys.stderr)
            return 2

    summ = summary(result, items, args)
    if api is not None:
        summ["api"] = api_report(api, args)
    warning = format_warning(summ, args)
    if warning:
        print_report(warning, sys.stderr)
    if args.json:
        print_report(report_json(summ))
    else:
        print_report(format_table(result, items, summ, args))
    return 1 if api is not None and api.failed else 0
