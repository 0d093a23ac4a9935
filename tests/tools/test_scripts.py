"""The CLI is also reachable as scripts in tools/ (from a checkout, any working directory)."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_convert_script_equals_cli(tmp_path, shared_data):
    args = ["--format", "icdar", "--input", str(shared_data / "icdar2015"), "--task", "rec", "--json"]
    script = subprocess.run([sys.executable, str(REPO / "tools/convert.py"), *args, "--output",
                             str(tmp_path / "a/x.jsonl")], cwd=tmp_path, capture_output=True, text=True, check=True)
    cli = subprocess.run([str(Path(sys.executable).parent / "swift-ocr"), "convert", *args, "--output",
                          str(tmp_path / "b/x.jsonl")], cwd=tmp_path, capture_output=True, text=True, check=True)
    a, b = json.loads(script.stdout), json.loads(cli.stdout)
    assert a["converted_sources"] == b["converted_sources"] == 8
    assert (tmp_path / "a/x.jsonl").read_bytes() == (tmp_path / "b/x.jsonl").read_bytes()


def test_every_script_answers_help():
    for name in ("convert", "eval_rec", "eval_det", "draw", "validate", "tiny_model"):
        proc = subprocess.run([sys.executable, str(REPO / "tools" / f"{name}.py"), "--help"], capture_output=True,
                              text=True)
        assert proc.returncode == 0 and proc.stdout.startswith("usage: swift-ocr"), (name, proc.stderr)
