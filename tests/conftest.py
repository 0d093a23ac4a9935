"""Shared fixtures: the real OCR samples in ``../shared/data`` (never copied into this repository) and the helper
modules in tests/helpers/."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SWIFT_OCR_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()
DATA_TEMPLATES = REPO_ROOT / "data_templates"
HELPERS = Path(__file__).resolve().parent / "helpers"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the real OCR samples (SROIE, ICDAR 2015, word crops, Chinese lines)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real OCR samples not found at {SHARED_DATA}; set SWIFT_OCR_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def data_templates() -> Path:
    return DATA_TEMPLATES


def _load_helper(name: str) -> ModuleType:
    """``tests/helpers/<name>.py`` as a module. Test modules cannot import it by name: pytest runs them with
    ``--import-mode=importlib`` and tests/ is neither a package nor on ``sys.path``."""
    spec = importlib.util.spec_from_file_location(f"_swift_ocr_test_helpers_{name}", HELPERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def result_rows() -> ModuleType:
    """tests/helpers/result_rows.py: ms-swift 4.6.0-style result files (``write_swift_results``) and the real
    ICDAR 2015 / SROIE samples they are built from (``icdar2015_samples``, ``sroie_samples``)."""
    return _load_helper("result_rows")


@pytest.fixture(scope="session")
def write_swift_results(result_rows):
    """``write_swift_results(path, items) -> path`` of tests/helpers/result_rows.py: a result file as ms-swift 4.6.0
    ``swift infer --result_path`` writes it, from ``(image, target, response[, extra_columns])`` items."""
    return result_rows.write_swift_results


@pytest.fixture(scope="session")
def draw_checks() -> ModuleType:
    """tests/helpers/draw_checks.py: outline colours and clear pixels in pictures drawn by swift_ocr.eval.draw."""
    return _load_helper("draw_checks")


@pytest.fixture(scope="session")
def browser() -> ModuleType:
    """tests/helpers/browser.py (headless Chromium: ``dump_dom``, ``screenshot``, ``parse``). Skips the test, saying
    why, only when no ``chromium`` executable can be found (``make test`` installs the Debian package when root)."""
    module = _load_helper("browser")
    if module.find_chromium() is None:
        pytest.skip("chromium not found on PATH: install the Debian package `chromium` (`make test` does it when run "
                    "as root with apt-get); the report browser test needs a real browser")
    return module
