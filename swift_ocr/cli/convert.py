"""``swift-ocr convert``: labelled images -> ms-swift jsonl (or GOT conversation JSON)."""
from __future__ import annotations

import argparse
import gc
import json
import sys

import typing
from dataclasses import MISSING, fields
from typing import Any, Dict

from swift_ocr.formats import formats
from swift_ocr.formats.registry import PAIRS, all_format_options
from swift_ocr.tasks.core import TaskFields
from swift_ocr.writers import DEFAULT_WRITER, get_writer, writer_for_output, writer_names


def add_arguments(p: argparse.ArgumentParser) -> None:
    known = formats()  # the registry as it is now: formats registered at run time are choices too
    pairs = ", ".join(f.name for f in known if f.layout == PAIRS)
    files = ", ".join(f.name for f in known if f.layout != PAIRS)
    lists = ", ".join(f.name for f in known if getattr(f, "list_files", False))
    p.add_argument("--format", required=True, choices=[f.name for f in known],
                   help="input format: " + "; ".join(f"{f.name}: {f.description}" for f in known))
    src = p.add_argument_group("input (one of)")
    src.add_argument("--images", help=f"image folder (with --labels; {pairs})")
    src.add_argument("--labels", help="label folder matched to --images by file stem")
    src.add_argument("--list", dest="list_file", help=f"DBNet list file: '<image> <label>' per line ({lists})")
    src.add_argument("--input", help=f"dataset root folder ({pairs}) or file ({files})")
    add_task_arguments(p)
    writers = [get_writer(name) for name in writer_names()]
    p.add_argument("--output", required=True, help="OUT.jsonl (ms-swift) or OUT.json with --output-format got")
    p.add_argument("--output-format", choices=[w.name for w in writers],
                   help="; ".join(f"{w.name}: {w.description}" for w in writers) + ". Default: the format whose "
                        "extension the output has (" + ", ".join(f"{e} {w.name}" for w in writers for e in w.suffixes)
                        + f"), else {DEFAULT_WRITER}")
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
    for opt in all_format_options().values():  # each format's own options (swift_ocr.formats.registry)
        owners = ", ".join(f.name for f in known if opt.name in f.option_names())
        p.add_argument("--" + opt.name.replace("_", "-"), dest=opt.name, default=opt.default,
                       help=f"{opt.help} ({owners})")
    p.add_argument("--strict", action="store_true", help="stop at the first bad item instead of recording it")
    p.add_argument("--nfkc", dest="nfkc", action="store_true", default=False,
                   help="NFKC-normalise the targets (e.g. full-width 'ＴＯＴＡＬ' -> 'TOTAL', but also Chinese '，（２）' -> "
                        "',(2)' and '①' -> '1'). Default: targets keep the label's text exactly as written; the "
                        "metrics (eval rec/det) normalise both sides when scoring")
    p.add_argument("--no-nfkc", dest="nfkc", action="store_false",
                   help="keep the text as written (the default; accepted for older command lines)")
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
    p.add_argument("--no-fast-path", dest="fast_path", action="store_false",
                   help="convert every item by the careful per-item path, the reference of the fast path for plain "
                        "image/label-folder items (the output is the same bytes; slower)")
    p.add_argument("--relative-paths", action="store_true",
                   help="write image paths relative to the output file's folder (ms-swift jsonl), so the folder can "
                        "move to another machine: ms-swift resolves relative paths against the working directory, "
                        "then $ROOT_IMAGE_DIR, so train with ROOT_IMAGE_DIR=<that folder>. Images outside the folder "
                        "are named with ../ and must move along")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar (shown on a terminal only: items, items per second, rejections so far)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")


class _CodecOptionAction(argparse.Action):
    """Stores ``--<option> VALUE`` as ``{option: VALUE}`` into the dict of its ``dest`` (the ``codec_options``
    field), so that every codec option flag fills one :class:`~swift_ocr.tasks.core.TaskFields` field."""

    def __init__(self, option_strings, dest, option_name: str = "", **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.option_name = option_name

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, {**(getattr(namespace, self.dest, None) or {}), self.option_name: values})


def _add_codec_option_flags(group, f) -> None:
    """One flag per codec option of the registered families (:func:`swift_ocr.families.codec_options`, e.g.
    ``--max-pixels``) into the dict field ``f`` (``codec_options``); which families take it is checked by
    :class:`~swift_ocr.tasks.core.TaskConfig`."""
    from swift_ocr.families import codec_options, get_family

    for option, owners in codec_options().values():
        env = sorted({var for owner in owners for var in get_family(owner).env_vars})
        text = f.metadata.get("help", "{env}").format(env=", ".join(env) or "no variable")
        group.add_argument(option.flag, dest=f.name, action=_CodecOptionAction, option_name=option.name,
                           type=option.type, default=None, metavar="N",
                           help=f"{', '.join(owners)} only: {option.help}. {text}")


def add_task_arguments(p: argparse.ArgumentParser) -> None:
    """One flag per :class:`~swift_ocr.tasks.core.TaskFields` field, from the field's metadata (``flag``, ``help``,
    ``choices``, ``group``), its default and its type (``int`` fields take a number); the det options in a group.
    The ``codec_options`` field (metadata ``codec_options``) gets one flag per codec option instead
    (:func:`_add_codec_option_flags`)."""
    det = p.add_argument_group("det task")
    hints = typing.get_type_hints(TaskFields)
    for f in fields(TaskFields):
        meta = f.metadata
        if meta.get("codec_options"):
            _add_codec_option_flags(det if meta.get("group") == "det" else p, f)
            continue
        choices, text = meta.get("choices"), meta.get("help")
        kind = hints[f.name]
        kind = next((a for a in typing.get_args(kind) if a is not type(None)), kind)  # Optional[X] -> X
        (det if meta.get("group") == "det" else p).add_argument(
            meta.get("flag", "--" + f.name.replace("_", "-")), dest=f.name,
            default=None if f.default is MISSING else f.default, type=int if kind is int else None,
            choices=choices() if callable(choices) else choices, help=text() if callable(text) else text)


def task_values(args: argparse.Namespace) -> Dict[str, Any]:
    """The :class:`~swift_ocr.tasks.core.TaskFields` values of parsed arguments (see :func:`add_task_arguments`)."""
    return {f.name: getattr(args, f.name) for f in fields(TaskFields)}


def _scripts(value: str):
    """``Chinese,Latin`` -> ``('Chinese', 'Latin')``, checked against the MLT script names."""
    from swift_ocr.formats.icdar import check_scripts

    try:
        return check_scripts(value.split(","))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


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
    from swift_ocr.convert.api import ConvertOptions, convert, format_report, report_json
    from swift_ocr.errors import OcrFormatError
    from swift_ocr.formats import get_format, open_source
    from swift_ocr.formats.registry import check_format_options
    from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS
    from swift_ocr.progress import progress_wanted

    output_format = args.output_format or writer_for_output(args.output)
    try:
        fmt = get_format(args.format)
        format_options = {name: getattr(args, name) for name in all_format_options()}
        check_format_options(fmt, {**format_options, "icdar_variant": args.icdar_variant, "scripts": args.scripts},
                             lambda name: "--" + name.replace("_", "-"))
        reader = open_source(fmt, images=args.images, labels=args.labels, list_file=args.list_file,
                             input_path=args.input, encoding=args.encoding, nfkc=args.nfkc,
                             check_images=args.check_images,
                             max_image_pixels=(DEFAULT_MAX_IMAGE_PIXELS if args.max_image_pixels is None
                                               else args.max_image_pixels),
                             allow_outside_root=args.allow_outside_root, icdar_variant=args.icdar_variant,
                             scripts=args.scripts, **format_options)
        options = ConvertOptions(**task_values(args), val_ratio=args.val_ratio, seed=args.seed, strict=args.strict,
                                 output_format=output_format, workers=args.workers, fast_path=args.fast_path,
                                 relative_paths=args.relative_paths, progress=progress_wanted(args.quiet))
        # This process ends after the conversion: what it holds now (modules, the listing) lives to the end, so it
        # is moved out of the garbage collector's generations instead of being walked again by every full
        # collection that the many small objects of the items trigger.
        gc.freeze()
        report = convert(reader, options, args.output)
    except (OcrFormatError, ValueError) as e:
        print(f"swift-ocr convert: error: {e}", file=sys.stderr)
        return 2
    extras, lines = fmt.report_extras(report.fixes, report.converted_sources)
    if args.json:
        out = {**json.loads(report_json(report)), **extras}
        print(json.dumps(out, ensure_ascii=False, sort_keys=True))
    else:
        print("\n".join([format_report(report), *lines]))
    return 0
