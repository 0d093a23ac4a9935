"""End to end on CPU: the InternVL2 detection recipes (recipes/internvl2_8b/) on the real SROIE receipts.

SROIE quads -> det samples (swift_ocr.det_task.det, internvl codec, pages tiled into strips of at most MAX_BOXES
boxes) -> ms-swift jsonl -> sft_lora_det.sh (2 LoRA steps) on a TINY RANDOM UNTRAINED transformers InternVL
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

from swift_ocr.det_task import det, det_meta
from swift_ocr.formats import open_source
from swift_ocr.prompts import build_query, det_prompt

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


def _write_rows(samples, path: Path, images_dir: Path, instruction: str) -> int:
    """ms-swift rows with the det tile metadata; tile PNGs are written into ``images_dir``."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for s in samples:
            if s.image_bytes is not None:
                image = images_dir / s.images[0]
                image.write_bytes(s.image_bytes)
            else:
                image = Path(s.images[0]).resolve()
            row = {"messages": [{"role": "user", "content": build_query(instruction)},
                                {"role": "assistant", "content": s.text}],
                   "images": [str(image)], "swift_ocr": det_meta(s)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _eval(results: Path, *extra) -> dict:
    proc = subprocess.run([str(BIN / "swift-ocr"), "eval", "det", "--results", str(results), "--model-family",
                           "internvl", "--json", "--note", "tiny random untrained model - not OCR quality", *extra],
                          env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_internvl_det_recipe_sft_merge_infer_eval(shared_data, tmp_path):
    sroie = shared_data / "sroie"
    reader = open_source("icdar", input_path=str(sroie))
    items = sorted(reader.iter_samples(), key=lambda kv: kv[0])
    assert not reader.rejections and len(items) == 20
    val_keys = {k for k, _ in items[:N_VAL]}
    images_dir = tmp_path / "tiles"
    images_dir.mkdir()
    rejected = []
    train, val, val_care, val_targets = [], [], 0, 0
    for key, sample in items:
        assert not isinstance(sample, Exception), sample
        out = det(sample, "internvl", max_boxes=MAX_BOXES, rejected=rejected)
        assert all(len(s.regions) <= MAX_BOXES for s in out)
        if key in val_keys:
            val += out
            val_care += len(sample.care_regions())
            val_targets += sum(len(s.regions) for s in out)
        else:
            train += out
    assert not rejected  # SROIE boxes are all usable
    assert len(val) > N_VAL  # the val receipts were tiled, so tile offsets are exercised
    instruction = det_prompt("internvl", "zh")
    _write_rows(train, tmp_path / "train.jsonl", images_dir, instruction)
    n_val = _write_rows(val, tmp_path / "val.jsonl", images_dir, instruction)

    model = tmp_path / "tiny-random-untrained-internvl_hf"
    subprocess.run([str(BIN / "swift-ocr"), "tiny-model", "--arch", "internvl_hf", "--output", str(model)],
                   env=_env(), check=True, capture_output=True)

    checkpoint = _recipe(
        "sft_lora_det.sh", "CHECKPOINT", DATASET=tmp_path / "train.jsonl", MODEL=model, MODEL_TYPE="internvl",
        TEMPLATE="internvl_hf_ocr_det", OUTPUT_DIR=tmp_path / "sft", TORCH_DTYPE="float32", MAX_STEPS=2,
        SAVE_STEPS=2, BATCH_SIZE=1, GRAD_ACC=1, NUM_WORKERS=0, LOGGING_STEPS=1, REPORT_TO="none", LR="1e-3")
    args = json.loads((Path(checkpoint) / "args.json").read_text(encoding="utf-8"))
    assert args["template"] == "internvl_hf_ocr_det" and args["lora_rank"] == 16 and args["freeze_vit"] is True

    merged = _recipe("merge.sh", "MERGED", ADAPTERS=checkpoint)
    assert (Path(merged) / "processing_swift_ocr_internvl.py").is_file()

    result = Path(_recipe("infer.sh", "RESULT_PATH", MODEL=merged, MODEL_TYPE="internvl",
                          TEMPLATE="internvl_hf_ocr_det", VAL_DATASET=tmp_path / "val.jsonl",
                          RESULT_PATH=tmp_path / "result.jsonl", MAX_NEW_TOKENS=24, TORCH_DTYPE="float32"))
    rows = [json.loads(line) for line in result.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == n_val
    for row, sample in zip(rows, val):
        assert row["swift_ocr"] == det_meta(sample)  # kept by --remove_unused_columns false
        assert row["labels"] == sample.text
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
