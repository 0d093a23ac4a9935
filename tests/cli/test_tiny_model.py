"""Tests for ``swift-ocr tiny-model`` (swift_ocr/cli/tiny_model.py)."""
from __future__ import annotations

import json

import pytest

from swift_ocr.cli.main import main
from swift_ocr.tiny.models import TINY_MARKER_KEY


def test_builds_model_and_says_it_is_untrained(tmp_path, capsys):
    out = tmp_path / "tiny-got"
    assert main(["tiny-model", "--arch", "got_ocr2_hf", "--output", str(out), "--seed", "5"]) == 0
    printed = capsys.readouterr().out.lower()
    for word in ("tiny", "random", "untrained", str(out).lower()):
        assert word in printed
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config[TINY_MARKER_KEY] is True
    assert config["swift_ocr_tiny_model_info"]["seed"] == 5


def test_unknown_arch_is_rejected_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["tiny-model", "--arch", "no_such_arch", "--output", str(tmp_path / "x")])
    assert exc.value.code == 2
    assert "no_such_arch" in capsys.readouterr().err
