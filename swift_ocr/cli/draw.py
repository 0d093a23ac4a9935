"""``swift-ocr draw``: one PNG per image with ground-truth (green) and predicted boxes (red / blue when matched).

With ``--results`` the predictions are read like ``swift-ocr eval det`` does (swift infer rows with
:mod:`swift_ocr.eval.det_results`; ICDAR 2015 result files, PaddleOCR results and MMOCR predictions with
:mod:`swift_ocr.eval.predictions`, ``--pred-format``) and matched with the ICDAR 2015 protocol; with ``--gt`` alone
the ground truth of a dataset is drawn, to check it.
Colours and labels: :mod:`swift_ocr.eval.draw`.
"""
from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from swift_ocr.cli.eval_det import add_codec_arguments, add_gt_arguments, add_pred_arguments

    parser.add_argument("--results", metavar="RESULT.jsonl",
                        help="jsonl written by `swift infer --result_path` (needs --model-family), or another "
                             "detector's predictions (--pred-format; needs --gt); without it, --gt is drawn alone")
    add_codec_arguments(parser, required=False)
    add_pred_arguments(parser)
    parser.add_argument("--gt", metavar="GT",
                        help="original ICDAR-style labels (### drawn dashed grey): dataset root, label folder or "
                             "DBNet list file (alone: a root or list file, which name the images)")
    add_gt_arguments(parser)
    parser.add_argument("--output", required=True, metavar="DIR", help="folder for the PNGs (<image stem>.png)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="draw the first N images only")
    parser.add_argument("--iou", type=float, default=0.5, help="IoU a match must exceed (default 0.5)")
    parser.add_argument("--spotting", nargs="?", const="end_to_end", choices=("end_to_end", "word_spotting"),
                        help="a match also needs the right text (wrong text drawn orange); both texts NFKC- and "
                             "whitespace-normalised as in `eval det --spotting`")


def _unique_name(stem: str, used: set) -> str:
    name, k = f"{stem}.png", 1
    while name in used:
        k += 1
        name = f"{stem}_{k}.png"
    used.add(name)
    return name


def run(args: argparse.Namespace) -> int:
    from swift_ocr.eval.det_results import load_gt_images
    from swift_ocr.eval.draw import draw_regions, save_png
    from swift_ocr.errors import OcrFormatError
    from swift_ocr.images import open_rgb
    from swift_ocr.eval.metrics.det import match_image
    from swift_ocr.eval.results import print_report
    from swift_ocr.eval.det_scoring import codec_for, explicit_codec_options, pred_inputs, spotting_mode, text_norm
    from swift_ocr.eval.predictions import load_predictions

    prog = "swift-ocr draw"
    if args.results is None and args.gt is None:
        print(f"{prog}: error: give --results (with --model-family) and/or --gt", file=sys.stderr)
        return 2
    if args.limit is not None and args.limit < 0:
        print(f"{prog}: error: --limit must be >= 0", file=sys.stderr)
        return 2
    try:
        if args.results is not None:
            (system,) = pred_inputs(args)
            codec = codec_for(args, [system.path] if system.is_swift_rows else [])
            items = load_predictions(system.path, system.format, gt=args.gt, codec=codec, family=args.model_family,
                                     allow_outside_root=args.allow_outside_root,
                                     score_threshold=args.score_threshold,
                                     codec_options=explicit_codec_options(args) if codec is not None else None)
        else:
            items = load_gt_images(args.gt, allow_outside_root=args.allow_outside_root)
        if args.limit is not None:
            items = items[: args.limit]
        used: set = set()
        for item in items:
            image = open_rgb(item.image)
            match = None
            if args.results is not None:
                match = match_image(item.gt, item.det, iou_threshold=args.iou, spotting=spotting_mode(args.spotting),
                                    image_id=item.image, text_norm=text_norm(args))
            picture = draw_regions(image, item.gt, item.det if args.results is not None else None, match,
                                   title=os.path.basename(item.image))
            name = _unique_name(os.path.splitext(os.path.basename(item.image))[0], used)
            save_png(picture, os.path.join(args.output, name))
    except (OcrFormatError, OSError, ValueError) as exc:
        print_report(f"{prog}: error: {exc}", sys.stderr)
        return 2
    print_report(f"wrote {len(items)} image(s) to {args.output}")
    return 0
