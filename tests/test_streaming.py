"""Issue 20.3: ``--streaming true`` with the plugin's formats, through real ms-swift.

With streaming, ms-swift expects an IterableDataset (its own loader converts hub datasets the same way); the
plugin's in-memory datasets made the GOT collator receive ``{bytes, path}`` dicts and ``#N`` sampling fail. Each
format gets the same rows streamed as loaded, a real 2-step ``swift sft --streaming true`` on the tiny random
(untrained) GOT-OCR2, and rejections logged once each with their line numbers. Real data: ``../shared/data`` and
``data_templates/``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from swift.dataset import load_dataset  # noqa: E402
from swift.utils import import_external_file  # noqa: E402

from swift_ocr.msswift.plugin import plugin_path  # noqa: E402
from swift_ocr.tiny.models import build_tiny_model  # noqa: E402

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module", autouse=True)
def plugin():
    import_external_file(plugin_path())


def _bad_parquet(tmp_path, shared_data):
    """rec_words crops as a parquet whose rows 2 and 4 are broken (truncated image, no image)."""
    labels = json.loads((shared_data / "rec_words/labels.json").read_text(encoding="utf-8"))["data_list"]
    paths = [shared_data / "rec_words" / d["img_path"] for d in labels]
    images = [{"bytes": p.read_bytes(), "path": p.name} for p in paths]
    images[1] = {"bytes": images[1]["bytes"][:40], "path": "truncated.png"}
    images[3] = {"bytes": None, "path": None}
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    path = tmp_path / "words.parquet"
    pq.write_table(pa.table({"image": pa.array(images, type=image_type),
                             "text": [d["instances"][0]["text"] for d in labels]}), path, row_group_size=3)
    return path


@pytest.fixture
def specs(tmp_path, shared_data, data_templates):
    return {
        "icdar": f"swift-ocr/icdar:{shared_data / 'sroie'}?family=got",
        "wordbox": f"swift-ocr/wordbox:{data_templates / 'wordbox'}?family=got&task=line",
        "got": f"swift-ocr/got:{data_templates / 'got/train.json'}?family=got",
        "parquet": f"swift-ocr/parquet:{_bad_parquet(tmp_path, shared_data)}?family=got",
    }


def _plain(row):
    return json.dumps(row["messages"], ensure_ascii=False)


@pytest.mark.parametrize("fmt", ["icdar", "wordbox", "got", "parquet"])
def test_streamed_rows_equal_loaded_rows(specs, fmt, tmp_path, monkeypatch):
    loaded, _ = load_dataset([specs[fmt]], load_from_cache_file=False, shuffle=False)
    rejects = tmp_path / "rejects.jsonl"
    monkeypatch.setenv("SWIFT_OCR_REJECTS", str(rejects))
    streamed, _ = load_dataset([specs[fmt]], streaming=True, shuffle=False)
    streamed = list(streamed)
    assert len(streamed) == len(loaded) > 0
    assert [_plain(r) for r in streamed] == [_plain(r) for r in loaded]
    if fmt == "parquet":  # each rejection once, with its 1-based row number
        recorded = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
        assert sorted(r["line"] for r in recorded) == [2, 4]


def test_sampling_a_streamed_dataset(shared_data):
    """``#N`` (what a ``--val_dataset`` is usually cut to) takes N rows of the streamed dataset."""
    sampled, _ = load_dataset([f"swift-ocr/icdar:{shared_data / 'icdar2015'}?family=got#3"], streaming=True)
    assert len(list(sampled)) == 3


@pytest.fixture(scope="module")
def tiny_got(tmp_path_factory):
    return build_tiny_model("got_ocr2_hf", tmp_path_factory.mktemp("m") / "tiny-random-untrained-got", seed=0)


@pytest.mark.parametrize("fmt", ["icdar", "wordbox", "got", "parquet"])
def test_two_step_streaming_sft(specs, fmt, tiny_got, tmp_path, shared_data):
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PATH": f"{BIN}:{os.environ['PATH']}"}
    cmd = [str(BIN / "swift"), "sft", "--custom_register_path", plugin_path(), "--model", str(tiny_got),
           "--model_type", "got_ocr2_hf", "--tuner_type", "lora", "--dataset", specs[fmt],
           "--val_dataset", f"swift-ocr/icdar:{shared_data / 'icdar2015'}?family=got#2", "--streaming", "true",
           "--max_steps", "2", "--eval_steps", "2", "--save_steps", "2", "--torch_dtype", "float32",
           "--per_device_train_batch_size", "1", "--gradient_accumulation_steps", "1",
           "--dataloader_num_workers", "0", "--max_length", "2048", "--report_to", "none", "--output_dir", str(out)]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    logs = [json.loads(line) for line in next(out.glob("v*/logging.jsonl")).read_text().splitlines()]
    assert [e["global_step/max_steps"] for e in logs if "global_step/max_steps" in e][-1] == "2/2"
    assert any("eval_loss" in entry for entry in logs)
