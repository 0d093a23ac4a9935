"""End to end on CPU: the InternVL2 detection recipes (recipes/internvl2_8b/) on the real SROIE receipts.

SROIE quads -> `swift-ocr convert --task det` (internvl codec, Chinese prompt, pages tiled into strips of at most
MAX_BOXES boxes) -> ms-swift jsonl -> sft_lora_det.sh (2 LoRA steps) on a TINY RANDOM UNTRAINED transformers InternVL
(`swift-ocr tiny-model --arch internvl_hf`, model_type internvl, template internvl_hf_ocr_det from the swift-ocr
plugin) -> merge.sh -> infer.sh on the val receipts -> `swift-ocr eval det`.

The model's output is gibberish: the test checks that every stage runs and hands the next one what it needs (tile
metadata through `swift infer`, tile boxes mapped back to whole receipts, the real ground truth counted), never
detection quality.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from swift_ocr.families.prompts import det_prompt

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes" / "internvl2_8b"
BIN = Path(sys.executable).parent
MAX_BOXES = 20
N_VAL = 2


def _env(**extra) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               SWIFT=str(BIN / "swift"))
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _recipe(script: str, key: str, **extra) -> str:
    """Run a recipe; return the value of its last-line ``KEY=value``."""
    proc = subprocess.run(["bash", str(RECIPES / script)], env=_env(**extra), capture_output=True, text=True)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith(f"{key}="), last
    return last[len(key) + 1:]


def _eval(results: Path, *extra) -> dict:
    proc = subprocess.run([str(BIN / "swift-ocr"), "eval", "det", "--results", str(results), "--model-family",
                           "internvl", "--json", "--note", "tiny random untrained model - not OCR quality", *extra],
                          env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_internvl_det_recipe_sft_merge_infer_eval(shared_data, tmp_path):
    sroie = shared_data / "sroie"
    proc = subprocess.run([str(BIN / "swift-ocr"), "convert", "--format", "icdar", "--input", str(sroie),
                           "--task", "det", "--model-family", "internvl", "--lang", "zh", "--max-boxes", str(MAX_BOXES),
                           "--val-ratio", "0.1", "--seed", "3", "--output", str(tmp_path / "train.jsonl"), "--json"],
                          env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["rejected"] == 0 and report["rejected_regions"] == 0  # SROIE boxes are all usable
    val = [json.loads(line) for line in (tmp_path / "train.val.jsonl").read_text(encoding="utf-8").splitlines()]
    n_val = len(val)
    assert n_val == report["val"]
    val_receipts = {row["swift_ocr"]["source_image"] for row in val}
    assert len(val_receipts) == N_VAL and n_val > N_VAL  # the val receipts were tiled: tile offsets are exercised
    assert all(row["messages"][0]["content"] == "<image>" + det_prompt("internvl", "zh") for row in val)
    # care boxes of the val receipts, counted from the raw label files (SROIE has no ###)
    val_care = sum(sum(1 for ln in (sroie / "box" / f"{Path(img).stem}.csv").read_text(encoding="utf-8-sig").splitlines()
                       if ln.strip() and ln.split(",", 8)[8] != "###") for img in val_receipts)
    val_targets = sum(row["messages"][1]["content"].count("<ref>") for row in val)
    assert val_targets == val_care
    assert all(row["messages"][1]["content"].count("<ref>") <= MAX_BOXES for row in val)

    model = tmp_path / "tiny-random-untrained-internvl_hf"
    subprocess.run([str(BIN / "swift-ocr"), "tiny-model", "--arch", "internvl_hf", "--output", str(model)],
                   env=_env(), check=True, capture_output=True)

    checkpoint = _recipe(
        "sft_lora_det.sh", "CHECKPOINT", DATASET=tmp_path / "train.jsonl", MODEL=model, MODEL_TYPE="internvl",
        TEMPLATE="internvl_hf_ocr_det", OUTPUT_DIR=tmp_path / "sft", TORCH_DTYPE="float32", MAX_STEPS=2,
        SAVE_STEPS=2, BATCH_SIZE=1, GRAD_ACC=1, NUM_WORKERS=0, LOGGING_STEPS=1, REPORT_TO="none", LR="1e-3")
    record = json.loads((Path(checkpoint).parent / "logging.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert record["last_model_checkpoint"] == checkpoint  # this run's own record of its last checkpoint
    args = json.loads((Path(checkpoint) / "args.json").read_text(encoding="utf-8"))
    assert args["template"] == "internvl_hf_ocr_det" and args["lora_rank"] == 16 and args["freeze_vit"] is True

    merged = _recipe("merge.sh", "MERGED", ADAPTERS=checkpoint)
    assert (Path(merged) / "processing_swift_ocr_internvl.py").is_file()

    result = Path(_recipe("infer.sh", "RESULT_PATH", MODEL=merged, MODEL_TYPE="internvl",
                          TEMPLATE="internvl_hf_ocr_det", VAL_DATASET=tmp_path / "train.val.jsonl",
                          RESULT_PATH=tmp_path / "result.jsonl", MAX_NEW_TOKENS=24, TORCH_DTYPE="float32"))
    rows = [json.loads(line) for line in result.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == n_val
    for row, source in zip(rows, val):
        assert row["swift_ocr"] == source["swift_ocr"]  # kept by --remove_unused_columns false
        assert row["labels"] == source["messages"][1]["content"]
        assert isinstance(row["response"], str)

    against_gt = _eval(result, "--gt", str(sroie))
    from_labels = _eval(result)
    for summary in (against_gt, from_labels):
        for key in ("precision", "recall", "hmean"):
            assert isinstance(summary[key], (int, float)) and 0.0 <= summary[key] <= 1.0, (key, summary)
        assert summary["n_images"] == N_VAL  # tiles grouped back into their receipts
        assert summary["n_rows"] == n_val
    assert against_gt["n_gt"] == val_care
    assert from_labels["n_gt"] == val_targets
