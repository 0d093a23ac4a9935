"""Print swift-ocr's own dependencies for the DeepSeek-OCR environment (``make venv-deepseek-ocr``).

They are ``install_requires`` of setup.cfg without every package that constraints/deepseek_ocr.txt names: that file
pins the ms-swift/transformers stack for DeepSeek-OCR (transformers==4.46.3), and setup.cfg's pins for the main
environment (transformers==5.19.0, ...) would conflict with it. swift-ocr itself is then installed with
``pip install --no-deps -e .``. A dependency added to setup.cfg reaches the second environment with no edit here.

Usage: ``python tools/deepseek_ocr_requirements.py [CONSTRAINTS] > requirements.txt`` (run from the repository root;
CONSTRAINTS defaults to constraints/deepseek_ocr.txt). Exits 2 with a message when a file is missing or unreadable.
"""
from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path
from typing import List, Set

ROOT = Path(__file__).resolve().parents[1]
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    """PEP 503 normalised project name (``Pillow`` -> ``pillow``, ``huggingface_hub`` -> ``huggingface-hub``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(lines: List[str]) -> Set[str]:
    """Canonical names of the requirement lines (comments and blank lines skipped)."""
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        match = _NAME.match(line)
        if match:
            names.add(canonical(match.group(1)))
    return names


def own_requirements(setup_cfg: Path, constraints: Path) -> List[str]:
    """setup.cfg's ``install_requires`` lines whose package ``constraints`` does not name, in setup.cfg's order."""
    parser = configparser.ConfigParser()
    if not parser.read(setup_cfg, encoding="utf-8") or not parser.has_option("options", "install_requires"):
        raise ValueError(f"{setup_cfg}: no [options] install_requires")
    pinned = requirement_names(constraints.read_text(encoding="utf-8").splitlines())
    out = []
    for line in parser.get("options", "install_requires").splitlines():
        line = line.split("#", 1)[0].strip()
        match = _NAME.match(line)
        if match and canonical(match.group(1)) not in pinned:
            out.append(line)
    return out


def main(argv: List[str]) -> int:
    constraints = Path(argv[0]) if argv else ROOT / "constraints" / "deepseek_ocr.txt"
    try:
        lines = own_requirements(ROOT / "setup.cfg", constraints)
    except (OSError, ValueError, configparser.Error) as e:
        print(f"deepseek_ocr_requirements: {e}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
