"""End to end on CPU: the PaddleOCR-VL recipes (recipes/paddleocr_vl/) on the real SROIE receipts.

SROIE quads -> `swift-ocr convert --task det --model-family paddleocr_vl` (PaddleOCR-VL 1.5's `Spotting:` prompt, text
then 8 <|LOC_n|> tokens per line, pages tiled into strips of at most MAX_BOXES lines) -> sft_lora_det.sh (2 LoRA steps,
with the ocr_det metric on the val rows) on a TINY RANDOM UNTRAINED transformers PaddleOCR-VL (`swift-ocr tiny-model
--arch paddleocr_vl`, template paddle_ocr_1_5_compat of the swift-ocr plugin) -> merge.sh -> infer.sh (transformers
backend, extra columns kept) -> `swift-ocr eval det` against the raw label files.

The model's output is gibberish: the test checks that every stage runs and hands the next one what it needs, never
detection quality.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes" / "paddleocr_vl"
BIN = Path(sys.executable).parent
MAX_BOXES = 20
N_VAL = 2


def _env(**extra) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               SWIFT=str(BIN / "swift"))
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for name in ("CUSTOM_REGISTER_PATH", "TEMPLATE", "MODEL_TYPE", "INFER_BACKEND", "EVAL_METRIC"):
        env.pop(name, None)  # the recipes' own defaults are under test
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _run(cmd, key=None, **extra) -> str:
    """Run a command; return its stdout, or with ``key`` the value of its last-line ``KEY=value``."""
    proc = subprocess.run([str(c) for c in cmd], env=_env(**extra), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    if key is None:
        return proc.stdout
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith(f"{key}="), last
    return last[len(key) + 1:]


def test_paddleocr_vl_det_recipe_sft_merge_infer_eval(shared_data, tmp_path):
    sroie = shared_data / "sroie"
    report = json.loads(_run([BIN / "swift-ocr", "convert", "--format", "icdar", "--input", sroie, "--task", "det",
                              "--model-family", "paddleocr_vl", "--max-boxes", MAX_BOXES, "--val-ratio", "0.1",
                              "--seed", "3", "--output", tmp_path / "train.jsonl", "--json"]))
    assert report["rejected"] == 0 and report["rejected_regions"] == 0
    val = [json.loads(line) for line in (tmp_path / "train.val.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(val) == report["val"]
    assert all(row["messages"][0]["content"] == "<image>Spotting:" for row in val)
    val_receipts = {row["swift_ocr"]["source_image"] for row in val}
    assert len(val_receipts) == N_VAL
    val_care = sum(sum(1 for ln in (sroie / "box" / f"{Path(img).stem}.csv").read_text(encoding="utf-8-sig")
                       .splitlines() if ln.strip() and ln.split(",", 8)[8] != "###") for img in val_receipts)
    assert sum(row["messages"][1]["content"].count("\n") + 1 for row in val) == val_care  # one line per care box

    model = tmp_path / "tiny-random-untrained-paddleocr_vl"
    _run([BIN / "swift-ocr", "tiny-model", "--arch", "paddleocr_vl", "--output", model])

    checkpoint = _run(["bash", RECIPES / "sft_lora_det.sh"], "CHECKPOINT", DATASET=tmp_path / "train.jsonl",
                      VAL_DATASET=tmp_path / "train.val.jsonl", MODEL=model, OUTPUT_DIR=tmp_path / "sft",
                      TORCH_DTYPE="float32", MAX_STEPS=2, SAVE_STEPS=2, BATCH_SIZE=1, GRAD_ACC=1, NUM_WORKERS=0,
                      LOGGING_STEPS=1, REPORT_TO="none", MAX_LENGTH=4096, EVAL_MAX_NEW_TOKENS=16)
    run_dir = Path(checkpoint).parent  # ms-swift's vN-<timestamp> folder
    records = [json.loads(line) for line in (run_dir / "logging.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records[-1]["last_model_checkpoint"] == checkpoint
    evals = [r for r in records if "eval_hmean" in r]  # the plugin's ocr_det metric scored the val rows
    assert evals and evals[-1]["eval_n_rows"] == len(val)
    args = json.loads((Path(checkpoint) / "args.json").read_text(encoding="utf-8"))
    assert (args["model_type"], args["template"]) == ("paddleocr_vl", "paddle_ocr_1_5_compat")
    assert args["freeze_vit"] is True and args["freeze_aligner"] is True and args["tuner_type"] == "lora"

    merged = Path(_run(["bash", RECIPES / "merge.sh"], "MERGED", ADAPTERS=checkpoint))
    assert json.loads((merged / "config.json").read_text())["swift_ocr_tiny_random_untrained"] is True

    result = Path(_run(["bash", RECIPES / "infer.sh"], "RESULT_PATH", MODEL=merged, INFER_BACKEND="transformers",
                       VAL_DATASET=tmp_path / "train.val.jsonl", RESULT_PATH=tmp_path / "result.jsonl",
                       MAX_NEW_TOKENS=24, TORCH_DTYPE="float32"))
    rows = [json.loads(line) for line in result.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(val)
    for row, source in zip(rows, val):
        assert row["swift_ocr"] == source["swift_ocr"]  # kept by --remove_unused_columns false
        assert row["labels"] == source["messages"][1]["content"] and isinstance(row["response"], str)

    summary = json.loads(_run([BIN / "swift-ocr", "eval", "det", "--results", result, "--model-family",
                               "paddleocr_vl", "--gt", sroie, "--json", "--note",
                               "tiny random untrained model - not OCR quality"]))
    for key in ("precision", "recall", "hmean"):
        assert 0.0 <= summary[key] <= 1.0, (key, summary)
    assert summary["n_images"] == N_VAL and summary["n_rows"] == len(val)  # tiles grouped back into receipts
    assert summary["n_gt"] == val_care
