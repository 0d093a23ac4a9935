"""``swift-ocr`` console command: a thin dispatcher over one module per subcommand.

Each subcommand module in :mod:`swift_ocr.cli` exposes ``add_arguments(parser)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional, Sequence, Tuple

# (subcommand, module, help); nested groups such as ``eval rec`` use a tuple path.
COMMANDS = [
    (("convert",), "swift_ocr.cli.convert", "convert labelled images to ms-swift jsonl"),
    (("eval", "rec"), "swift_ocr.cli.eval_rec", "score recognition results (CER, WER, 1-NED, accuracy)"),
    (("eval", "det"), "swift_ocr.cli.eval_det", "score detection-as-text results (ICDAR 2015 P/R/Hmean, spotting)"),
    (("draw",), "swift_ocr.cli.draw", "draw ground-truth and predicted boxes on the images (PNG per image)"),
    (("report",), "swift_ocr.cli.report", "one HTML page comparing result files (metrics, diffs, plots)"),
    (("validate",), "swift_ocr.cli.validate", "check ms-swift jsonl data (images, tags, boxes, duplicates, token length)"),
    (("synth",), "swift_ocr.cli.synth", "render seeded synthetic text images with ICDAR labels (no network)"),
    (("tiny-model",), "swift_ocr.cli.tiny_model", "build a tiny random-weight (untrained) model for CPU runs"),
    (("plugin-path",), "swift_ocr.cli.plugin_path", "print the file to pass to --custom_register_path"),
]


def selected_command(argv: Sequence[str]) -> Optional[Tuple[str, ...]]:
    """The subcommand path ``argv`` starts with (e.g. ``("eval", "rec")``), or None (``--help``, a typo, ...)."""
    for path, _, _ in COMMANDS:
        if tuple(argv[: len(path)]) == path:
            return path
    return None


def build_parser(only: Optional[Tuple[str, ...]] = None) -> argparse.ArgumentParser:
    """The ``swift-ocr`` parser. Every subcommand is listed (with its help line), but only the module of ``only``
    -- or, when ``only`` is None, of every subcommand -- is imported and given its arguments: a command does not
    pay for importing the others (``validate`` alone pulls in the token-budget tables)."""
    parser = argparse.ArgumentParser(prog="swift-ocr", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    groups = {}
    for path, module_name, help_text in COMMANDS:
        container = subparsers
        for depth, name in enumerate(path[:-1]):
            key = path[: depth + 1]
            if key not in groups:
                group_parser = container.add_parser(name, help=f"{name} subcommands")
                groups[key] = group_parser.add_subparsers(dest=f"{name}_command", required=True)
            container = groups[key]
        sub = container.add_parser(path[-1], help=help_text, description=help_text)
        if only is None or path == only:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(_run=module.run)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(selected_command(argv))
    args = parser.parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
