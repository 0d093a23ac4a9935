"""``swift-ocr synth``: render seeded synthetic text images with ICDAR labels (smoke tests, bootstrapping a domain)."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Tuple

from swift_ocr.tiny.synth import CHARSETS, FONTS, LAYOUTS  # stdlib-only at import time; Pillow loads when rendering


def _range(kind):
    """argparse type: ``N`` or a range, ``MIN-MAX`` for integers, ``MIN:MAX`` for floats (which may be negative)."""
    sep = "-" if kind is int else ":"

    def parse(value: str) -> Tuple:
        parts = value.split(sep)
        try:
            nums = [kind(p) for p in parts]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected N or MIN{sep}MAX, got {value!r}") from None
        if len(nums) == 1:
            nums = nums * 2
        if len(nums) != 2 or nums[0] > nums[1]:
            raise argparse.ArgumentTypeError(f"expected N or MIN{sep}MAX with MIN <= MAX, got {value!r}")
        return tuple(nums)
    return parse


def _size(value: str) -> Tuple[int, int]:
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 112x112, got {value!r}") from None
    return w, h


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", required=True,
                        help="folder to write: imgs/<stem>.png, gts/gt_<stem>.txt (ICDAR 2015 quads in pixels, "
                             "read by `swift-ocr convert --format icdar`), synth.json")
    parser.add_argument("--count", type=int, default=100, help="images to render (default 100)")
    parser.add_argument("--layout", choices=LAYOUTS, default="line",
                        help="line: one text line per image (default); page: several lines per image")
    parser.add_argument("--lines", type=_range(int), default=(3, 6), metavar="N|MIN-MAX",
                        help="text lines per page image (--layout page; default 3-6)")
    parser.add_argument("--charset", default="digits",
                        help=f"characters of the random strings: {', '.join(CHARSETS)}, or the characters "
                             "themselves (default digits)")
    parser.add_argument("--length", type=_range(int), default=(4, 4), metavar="N|MIN-MAX",
                        help="characters per random word (default 4)")
    parser.add_argument("--words", type=_range(int), default=(1, 1), metavar="N|MIN-MAX",
                        help="space-separated words per line (default 1)")
    parser.add_argument("--texts", default=None, metavar="FILE",
                        help="UTF-8 file of lines to render in order (cycled) instead of random strings")
    parser.add_argument("--font", choices=sorted(FONTS), default="dejavu-sans",
                        help="pillow: Pillow's bundled font; others: matplotlib's bundled DejaVu/STIX fonts "
                             "(never system fonts; default dejavu-sans)")
    parser.add_argument("--font-size", type=_range(int), default=(22, 26), metavar="PX|MIN-MAX",
                        help="font size in pixels (default 22-26)")
    parser.add_argument("--canvas", type=_size, default=None, metavar="WxH",
                        help="fixed image size in pixels (default: the text plus --margin)")
    parser.add_argument("--margin", type=int, default=6, help="pixels around the text (default 6)")
    parser.add_argument("--no-jitter", dest="jitter", action="store_false",
                        help="centre the text instead of placing it at random inside the canvas")
    parser.add_argument("--rotate", type=_range(float), default=(0.0, 0.0), metavar="DEG|MIN:MAX",
                        help="rotate the content by a random angle in degrees counter-clockwise "
                             "(e.g. 180, or -10:10; default 0)")
    parser.add_argument("--invert", action="store_true", help="white text on black")
    parser.add_argument("--noise", type=float, default=0.0, help="Gaussian pixel noise std, 0-255 scale (default 0)")
    parser.add_argument("--blank", action="store_true",
                        help="write blank images with the same labels (a control: a model that 'reads' these "
                             "learned the labels, not the pixels)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same settings give identical files")
    parser.add_argument("--exclude", metavar="DIR|FILE", action="append", default=[],
                        help="never draw a random line equal to one of these texts: an earlier synth output folder "
                             "(its gts/ labels) or a text file, one line each; e.g. a test set held out from the "
                             "training strings (repeatable)")
    parser.add_argument("--prefix", default="synth", help="image stem prefix (default synth)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --output folder")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from swift_ocr.tiny.synth import SynthConfig, read_label_texts, synthesize

    texts = None
    if args.texts:
        with open(args.texts, encoding="utf-8") as f:
            texts = [line.rstrip("\r\n") for line in f]
    try:
        exclude = [text for path in args.exclude for text in read_label_texts(path)]
    except (OSError, UnicodeDecodeError) as e:
        print(f"swift-ocr synth: error: --exclude: {e}", file=sys.stderr)
        return 2
    cfg = SynthConfig(count=args.count, layout=args.layout, charset=args.charset, length=args.length,
                      words=args.words, texts=texts, lines=args.lines, font=args.font, font_size=args.font_size,
                      canvas=args.canvas, margin=args.margin, jitter=args.jitter, rotate=args.rotate,
                      invert=args.invert, noise=args.noise, blank=args.blank, seed=args.seed, prefix=args.prefix,
                      exclude=exclude)
    try:
        summary = synthesize(args.output, cfg, overwrite=args.overwrite)
    except (ValueError, FileExistsError, FileNotFoundError) as e:
        print(f"swift-ocr synth: error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {summary['images']} synthetic images ({summary['lines']} text lines) to {summary['output']} "
              f"(imgs/ + gts/ ICDAR quads; convert with `swift-ocr convert --format icdar --input "
              f"{summary['output']}`)")
    return 0
