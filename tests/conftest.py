"""Shared fixtures: the real OCR samples in ``../shared/data`` (never copied into this repository)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SWIFT_OCR_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()
DATA_TEMPLATES = REPO_ROOT / "data_templates"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the real OCR samples (SROIE, ICDAR 2015, word crops, Chinese lines)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real OCR samples not found at {SHARED_DATA}; set SWIFT_OCR_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def data_templates() -> Path:
    return DATA_TEMPLATES
