#!/usr/bin/env python3
"""`swift-ocr synth` as a script (works from a checkout without installing): `python tools/synth.py --help`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from swift_ocr_cli import run  # noqa: E402

if __name__ == "__main__":
    sys.exit(run(["synth"]))
