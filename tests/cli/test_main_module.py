"""``python -m swift_ocr`` is the ``swift-ocr`` console command (swift_ocr/__main__.py)."""
import json
import subprocess
import sys
from pathlib import Path

SWIFT_OCR = str(Path(sys.executable).parent / "swift-ocr")


def test_module_convert_equals_console_script(tmp_path, shared_data):
    args = ["convert", "--format", "icdar", "--input", str(shared_data / "icdar2015"), "--task", "rec", "--json"]
    module = subprocess.run([sys.executable, "-m", "swift_ocr", *args, "--output", str(tmp_path / "a/x.jsonl")],
                            cwd=tmp_path, capture_output=True, text=True, check=True)
    script = subprocess.run([SWIFT_OCR, *args, "--output", str(tmp_path / "b/x.jsonl")], cwd=tmp_path,
                            capture_output=True, text=True, check=True)
    a, b = json.loads(module.stdout), json.loads(script.stdout)
    assert a["converted_sources"] == b["converted_sources"] == 8
    assert (tmp_path / "a/x.jsonl").read_bytes() == (tmp_path / "b/x.jsonl").read_bytes()


def test_module_help_and_exit_status(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "swift_ocr", "eval", "det", "--help"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: swift-ocr eval det"), proc.stderr
    # an error exit status comes through (argparse: 2 for an unknown subcommand)
    bad = subprocess.run([sys.executable, "-m", "swift_ocr", "no-such-command"], cwd=tmp_path, capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
