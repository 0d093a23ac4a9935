"""``swift-ocr convert``: labelled images -> ms-swift jsonl (or GOT conversation JSON)."""
from __future__ import annotations

import argparse
import gc
import json
import sys

from swift_ocr.formats import FORMATS
from swift_ocr.families.prompts import FAMILIES
from swift_ocr.tasks.core import TASKS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", required=True, choices=FORMATS, help="input format")
    src = p.add_argument_group("input (one of)")
    src.add_argument("--images", help="image folder (with --labels; wordbox, icdar)")
    src.add_argument("--labels", help="label folder matched to --images by file stem")
    src.add_argument("--list", dest="list_file", help="DBNet list file: '<image> <label>' per line (icdar)")
    src.add_argument("--input", help="dataset root folder (wordbox, icdar) or file (parquet, got)")
    p.add_argument("--task", default="rec", choices=TASKS,
                   help="rec: whole image -> text; line: one crop per region; det: text with boxes in the family's "
                        "detection format (see docs/detection_codecs.md)")
    det = p.add_argument_group("det task")
    det.add_argument("--lang", default="en", choices=("en", "zh"), help="language of the default det prompt")
    det.add_argument("--order", default="tb-lr", choices=("tb-lr", "tb-rl", "source"),
                     help="reading order of the boxes in the target (top-bottom then left-right, right-left, or as "
                          "in the label file)")
    det.add_argument("--max-boxes", type=int, help="at most N boxes per sample; longer pages are tiled (--tiling)")
    det.add_argument("--tiling", default="strips", choices=("strips", "none"),
                     help="strips: cut long pages into horizontal strips of whole lines; none: reject them")
    det.add_argument("--det-shape", default="box", choices=("box", "quad"),
                     help="box: axis-aligned boxes (every family); quad: 4-point quads (internvl only)")
    p.add_argument("--model-family", default="got", choices=FAMILIES, help="picks the default prompt")
    p.add_argument("--prompt", help="instruction replacing the family default (<image> tags are added for you)")
    p.add_argument("--prompt-style", default="plain", choices=("plain", "format"),
                   help="got only: 'format' uses 'OCR with format: '")
    p.add_argument("--output", required=True, help="OUT.jsonl (ms-swift) or OUT.json with --output-format got")
    p.add_argument("--output-format", choices=("swift", "got"), help="default: got for .json outputs, else swift")
    p.add_argument("--val-ratio", type=float, default=0.0, help="fraction of source images for OUT.val.jsonl")
    p.add_argument("--seed", type=int, default=42, help="split seed")
    p.add_argument("--encoding", help="label file encoding (default: UTF-8 with/without BOM, then GB18030)")
    p.add_argument("--icdar-variant", default="auto", choices=("auto", "2015", "mlt", "polygon", "2013"),
                   help="icdar label layout: 2015 'x1,...,y4,text' (also SROIE); mlt 'x1,...,y4,script,text' (ICDAR "
                        "2017/2019 MLT); polygon 'x1,y1,...,xn,yn,text' (Total-Text, CTW1500); 2013 'x1 y1 x2 y2 "
                        "\"text\"'. Default auto: decided per file from all its lines; a file that could be read two "
                        "ways is an error naming its lines")
    p.add_argument("--scripts", type=_scripts, metavar="NAME,...",
                   help="icdar MLT files: keep only regions of these scripts as targets, e.g. Chinese,Latin (regions "
                        "of other scripts become do-not-care, counted; an image with none of them is rejected)")
    p.add_argument("--image-column", default="image", help="parquet image column")
    p.add_argument("--text-column", default="text", help="parquet text column")
    p.add_argument("--image-root", help="got input: folder image paths are relative to (default: the JSON's folder)")
    p.add_argument("--strict", action="store_true", help="stop at the first bad item instead of recording it")
    p.add_argument("--no-nfkc", action="store_true",
                   help="keep transcriptions as they are (default: Unicode NFKC, e.g. full-width 'ＴＯＴＡＬ' -> 'TOTAL')")
    p.add_argument("--check-images", default="verify", choices=("header", "verify", "decode"),
                   help="image integrity check: header only, verify (default: whole file read cheaply, finds "
                        "truncated/corrupt files), or decode every pixel")
    p.add_argument("--max-image-pixels", type=int, default=None, metavar="N",
                   help="refuse images with more than N pixels (decompression-bomb protection; default 89478485, "
                        "Pillow's limit; 0: no limit). Above 178956970 the training process must raise Pillow's "
                        "Image.MAX_IMAGE_PIXELS too, or it will refuse the image")
    p.add_argument("--allow-outside-root", action="store_true",
                   help="accept image paths in list/GOT/parquet files that lead outside the dataset root")
    p.add_argument("--workers", type=_workers, default=0, metavar="N|auto",
                   help="processes that read labels and images and run the task (output is identical for any N); "
                        "default auto: for image/label folders one per CPU, but at most one per 2000 items (1 for "
                        "small datasets); 1 for parquet and GOT JSON, read as streams")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def _scripts(value: str):
    """``Chinese,Latin`` -> ``('Chinese', 'Latin')``, checked against the MLT script names."""
    from swift_ocr.formats.icdar import check_scripts

    try:
        return check_scripts(value.split(","))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _variant_lines(report, fmt: str):
    """How many converted items' label files were read in each ICDAR variant (``icdar`` only)."""
    from swift_ocr.formats.icdar import OTHER_SCRIPT_FIX_KEY, VARIANT_FIX_KEYS

    if fmt != "icdar":
        return {}, []
    counts = {v: report.fixes.get(k, 0) for v, k in VARIANT_FIX_KEYS.items()}
    counts = {"2015": report.converted_sources - sum(counts.values()), **counts}
    shown = ", ".join(f"{v} {n}" for v, n in counts.items() if n)
    lines = [f"ICDAR label files read as (converted items): {shown or 'none'}"]
    if report.fixes.get(OTHER_SCRIPT_FIX_KEY):
        lines.append(f"regions of other scripts made do-not-care (--scripts): {report.fixes[OTHER_SCRIPT_FIX_KEY]}")
    return counts, lines


def _workers(value: str) -> int:
    """``auto`` -> 0 (chosen by the converter), else a positive integer."""
    if value == "auto":
        return 0
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes or 'auto', got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"--workers must be >= 1 (or auto), got {n}")
    return n


def run(args: argparse.Namespace) -> int:
    from swift_ocr.convert.core import ConvertOptions, convert, format_report, report_json
    from swift_ocr.errors import OcrFormatError
    from swift_ocr.formats import open_source
    from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS

    output_format = args.output_format or ("got" if args.output.endswith(".json") else "swift")
    try:
        if args.format != "icdar" and (args.icdar_variant != "auto" or args.scripts is not None):
            raise ValueError("--icdar-variant and --scripts are for --format icdar")
        reader = open_source(args.format, images=args.images, labels=args.labels, list_file=args.list_file,
                             input_path=args.input, encoding=args.encoding, image_column=args.image_column,
                             text_column=args.text_column, image_root=args.image_root, nfkc=not args.no_nfkc,
                             check_images=args.check_images,
                             max_image_pixels=(DEFAULT_MAX_IMAGE_PIXELS if args.max_image_pixels is None
                                               else args.max_image_pixels),
                             allow_outside_root=args.allow_outside_root, icdar_variant=args.icdar_variant,
                             scripts=args.scripts)
        options = ConvertOptions(task=args.task, family=args.model_family, prompt=args.prompt,
                                 prompt_style=args.prompt_style, val_ratio=args.val_ratio, seed=args.seed,
                                 strict=args.strict, output_format=output_format, lang=args.lang,
                                 order=args.order, max_boxes=args.max_boxes, tiling=args.tiling,
                                 det_shape=args.det_shape, workers=args.workers)
        # This process ends after the conversion: what it holds now (modules, the listing) lives to the end, so it
        # is moved out of the garbage collector's generations instead of being walked again by every full
        # collection that the many small objects of the items trigger.
        gc.freeze()
        report = convert(reader, options, args.output)
    except (OcrFormatError, ValueError) as e:
        print(f"swift-ocr convert: error: {e}", file=sys.stderr)
        return 2
    counts, lines = _variant_lines(report, args.format)
    if args.json:
        out = json.loads(report_json(report))
        if counts:
            out["icdar_variants"] = counts
        print(json.dumps(out, ensure_ascii=False, sort_keys=True))
    else:
        print("\n".join([format_report(report), *lines]))
    return 0
