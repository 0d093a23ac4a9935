#!/usr/bin/env python3
"""Run any ``swift-ocr`` subcommand from a checkout, installed or not: ``python tools/swift_ocr_cli.py convert ...``.

The per-command scripts next to this file (``convert.py``, ``eval_rec.py``, ...) call it with their subcommand.
"""
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(prefix):
    """Run ``swift-ocr <prefix...> <sys.argv[1:]>`` and return its exit status."""
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    from swift_ocr.cli.main import main
    return main(list(prefix) + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(run([]))
