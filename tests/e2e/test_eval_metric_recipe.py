"""A tiny training run through recipes/got_ocr2/sft_lora.sh with the OCR metric on (``EVAL_METRIC=ocr``, the default):
ms-swift generates an answer for every validation row at each evaluation, the plugin's ``ocr`` metric logs
``eval_cer`` (and WER, 1-NED, accuracy), ms-swift keeps the checkpoint with the lowest ``eval_cer`` and the recipe
prints that one as ``CHECKPOINT=``.

Real word crops (../shared/data/rec_words) and their real labels; the model is a TINY RANDOM UNTRAINED GOT-OCR2, so
the CER is garbage: the test checks the plumbing (one ``eval_cer`` per evaluation, identical to ``swift-ocr eval rec``
on the predictions ms-swift saved with each checkpoint, best checkpoint = lowest CER), never OCR quality.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RECIPE = REPO / "recipes" / "got_ocr2" / "sft_lora.sh"
REC_KEYS = ("cer", "wer", "ned", "accuracy", "n")


def run(cmd, env=None, cwd=None):
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "SWIFT": str(BIN / "swift"), "PATH": f"{BIN}:{os.environ['PATH']}", **(env or {})}
    proc = subprocess.run(cmd, env=full_env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc


def last_value(stdout, key):
    values = [line.split("=", 1)[1] for line in stdout.splitlines() if line.startswith(f"{key}=")]
    assert values, f"no {key}= line in:\n{stdout[-2000:]}"
    return values[-1]


def word_rows(shared_data):
    labels = json.loads((shared_data / "rec_words/labels.json").read_text(encoding="utf-8"))["data_list"]
    return [{"messages": [{"role": "user", "content": "<image>OCR: "},
                          {"role": "assistant", "content": d["instances"][0]["text"]}],
             "images": [str(shared_data / "rec_words" / d["img_path"])]} for d in labels]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_cer_logged_each_evaluation_and_best_checkpoint_printed(tmp_path, shared_data):
    rows = word_rows(shared_data)
    train, val = write_jsonl(tmp_path / "train.jsonl", rows[:8]), write_jsonl(tmp_path / "val.jsonl", rows[8:])
    model = tmp_path / "tiny-random-untrained-got_ocr2_hf"
    run([str(BIN / "swift-ocr"), "tiny-model", "--arch", "got_ocr2_hf", "--output", str(model)])
    plugin = run([str(BIN / "swift-ocr"), "plugin-path"]).stdout.strip()

    sft = run(["bash", str(RECIPE)], cwd=tmp_path, env={
        "MODEL": str(model), "DATASET": str(train), "VAL_DATASET": str(val), "OUTPUT_DIR": str(tmp_path / "sft"),
        "CUSTOM_REGISTER_PATH": plugin, "TORCH_DTYPE": "float32", "MAX_STEPS": "4", "SAVE_STEPS": "2",
        "BATCH_SIZE": "1", "GRAD_ACC": "1", "NUM_WORKERS": "0", "LOGGING_STEPS": "1", "LR": "1e-2",
        "MAX_LENGTH": "2048", "REPORT_TO": "none", "EVAL_MAX_NEW_TOKENS": "8"})
    command = next(line for line in sft.stdout.splitlines() if line.startswith("+ "))
    for flag in ("--eval_metric ocr", "--predict_with_generate true", "--metric_for_best_model cer",
                 "--greater_is_better false", "--max_new_tokens 8"):
        assert flag in command, command

    run_dir = Path(last_value(sft.stdout, "RUN_DIR"))
    record = json.loads((run_dir / "logging.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    evals = [h for h in record["log_history"] if "eval_cer" in h]
    assert [h["step"] for h in evals] == [2, 4]  # eval_cer at each evaluation (EVAL_STEPS = SAVE_STEPS = 2)

    for h in evals:  # identical to the offline scorer on the predictions ms-swift saved with that checkpoint
        predict = run_dir / f"checkpoint-{h['step']}" / "predict.jsonl"
        saved = [json.loads(line) for line in predict.read_text(encoding="utf-8").splitlines()]
        assert [r["labels"] for r in saved] == [r["messages"][1]["content"] for r in rows[8:]]  # the real labels
        offline = json.loads(run([str(BIN / "swift-ocr"), "eval", "rec", "--results", str(predict), "--json"]).stdout)
        assert {k: h[f"eval_{k}"] for k in REC_KEYS} == {k: offline[k] for k in REC_KEYS}

    # best = lowest eval_cer (the earliest on a tie: transformers replaces the best only on a strict improvement)
    best = min(evals, key=lambda h: h["eval_cer"])
    assert record["best_metric"] == pytest.approx(best["eval_cer"], rel=1e-6)  # ms-swift rounds it
    checkpoint = Path(last_value(sft.stdout, "CHECKPOINT"))
    assert checkpoint == Path(record["best_model_checkpoint"]) == run_dir / f"checkpoint-{best['step']}"
    assert (checkpoint / "adapter_config.json").is_file()
