"""tools/deepseek_ocr_requirements.py: swift-ocr's dependencies for the DeepSeek-OCR environment are setup.cfg's
install_requires without the packages constraints/deepseek_ocr.txt pins (no second copy of the list to drift)."""
from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "deepseek_ocr_requirements.py"


def _run(*args):
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def test_setup_cfg_minus_the_pinned_stack():
    proc = _run()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg", encoding="utf-8")
    declared = [ln.split("#")[0].strip() for ln in cfg.get("options", "install_requires").splitlines()]
    declared = [ln for ln in declared if ln]
    pinned = {re.match(r"[A-Za-z0-9._-]+", ln).group(0).lower()
              for ln in (REPO / "constraints" / "deepseek_ocr.txt").read_text().splitlines() if "==" in ln.split("#")[0]}
    stack = [ln for ln in declared if re.match(r"[A-Za-z0-9._-]+", ln).group(0).lower() in pinned]
    assert {"ms-swift==4.6.0", "transformers==5.19.0"} <= set(stack)  # the main environment's pins, replaced
    assert lines == [ln for ln in declared if ln not in stack]
    assert "rapidfuzz>=3.9,<4" in lines and not any(ln.startswith("transformers") for ln in lines)


def test_names_are_compared_normalised(tmp_path):
    constraints = tmp_path / "c.txt"
    constraints.write_text("# a comment naming numpy\nPILLOW==10.4.0  # upper case\nJiwer==4.0.0\n")
    proc = _run(str(constraints))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.split()
    assert "numpy>=2.0" in out and "transformers==5.19.0" in out
    assert not any(ln.lower().startswith(("pillow", "jiwer")) for ln in out)


def test_missing_constraints_file_is_a_clear_error(tmp_path):
    proc = _run(str(tmp_path / "absent.txt"))
    assert proc.returncode == 2 and "absent.txt" in proc.stderr and proc.stdout == ""
