"""The plugin's pieces for several-process runs: the ``swift_ocr_seen`` callback is registered into ms-swift, rank 0
alone writes the rejects file, and the CPU gather fix stays out of single-process runs. (The callback's records and
the fix are exercised for real in tests/e2e/test_scale_out.py.)"""
from __future__ import annotations

import json

import pytest

from swift_ocr.errors import Rejection
from swift_ocr.msswift.plugin import cpu_data_parallel, register_all
from swift_ocr.msswift.datasets import record_rejection


def test_seen_callback_is_registered_into_ms_swift():
    from swift.callbacks import callbacks_map
    from swift_ocr.msswift.callbacks import SEEN_CALLBACK, SeenSamplesCallback

    assert SEEN_CALLBACK in register_all()["callbacks"]
    assert callbacks_map[SEEN_CALLBACK] is SeenSamplesCallback


@pytest.mark.parametrize("env,written", [({}, True), ({"WORLD_SIZE": "1", "RANK": "0"}, True),
                                         ({"WORLD_SIZE": "2", "RANK": "0"}, True),
                                         ({"WORLD_SIZE": "2", "RANK": "1"}, False),
                                         ({"WORLD_SIZE": "4", "RANK": "3"}, False)])
def test_only_rank_0_writes_the_rejects_file(tmp_path, monkeypatch, shared_data, env, written):
    for key in ("WORLD_SIZE", "RANK"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    rejects, tally = tmp_path / "rejects.jsonl", tmp_path / "tally.jsonl"
    gt = str(shared_data / "icdar2015" / "gts" / "gt_img_4.txt")
    record_rejection(Rejection(gt, None, "no readable region (all are ###)", "no_readable_region"),
                     {"rejects": str(rejects)}, str(tally))
    rows = [json.loads(line) for line in rejects.read_text().splitlines()] if rejects.exists() else []
    assert [row["source"] for row in rows] == ([gt] if written else [])
    assert len(tally.read_text().splitlines()) == 1  # every rank still counts it for its own summary


def test_cpu_fix_is_off_outside_torchrun(monkeypatch):
    for key in ("WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    assert cpu_data_parallel() is False
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert cpu_data_parallel() is False
