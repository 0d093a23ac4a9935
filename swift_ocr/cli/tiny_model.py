"""``swift-ocr tiny-model``: build a tiny, random-weight, untrained model for CPU pipeline runs."""
from __future__ import annotations

import argparse

from swift_ocr.tiny.models import tiny_archs  # stdlib-only at import time; torch loads in the builders


def add_arguments(parser: argparse.ArgumentParser) -> None:
    archs = tiny_archs()
    parser.add_argument("--arch", required=True, choices=sorted(archs),
                        help="architecture to copy in miniature: " + "; ".join(
                            f"{arch} (ms-swift --model_type {tiny.model_type} --template {tiny.template})"
                            for arch, (_, tiny) in sorted(archs.items())))
    parser.add_argument("--output", default=None,
                        help="model directory to write (default: output/tiny-random-untrained-ARCH)")
    parser.add_argument("--seed", type=int, default=0, help="weight-initialisation seed (default 0)")


def run(args: argparse.Namespace) -> int:
    from swift_ocr.tiny.models import build_tiny_model

    output = args.output or f"output/tiny-random-untrained-{args.arch}"
    path = build_tiny_model(args.arch, output, seed=args.seed)
    tiny = tiny_archs()[args.arch][1]
    model_type, template = tiny.model_type, tiny.template
    print(f"wrote a TINY RANDOM-WEIGHT UNTRAINED {args.arch} model (seed {args.seed}) to {path}; "
          f"its output is gibberish, use it only to test pipelines "
          f"(ms-swift: --model_type {model_type} --template {template})")
    return 0
