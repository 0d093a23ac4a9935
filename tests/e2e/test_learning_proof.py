"""Learning proof on CPU: training through ms-swift makes a tiny model read pixels, and blank images do not.

`swift-ocr synth` renders random digit strings (train set, and a held-out test set with another seed) and the same
train labels on BLANK images (the control). A TINY RANDOM UNTRAINED InternVL (`swift-ocr tiny-model --arch
internvl_hf_112`: one 112 px tile, 16 image tokens, width 64, ~0.27M parameters) is trained from its random
weights twice with the same `swift sft --tuner_type full` settings -- once on the real images, once on the blank
ones -- then each runs `swift infer` on the held-out real images and `swift-ocr eval rec` scores it.

The model that saw the pixels must read the held-out strings well (CER far below the control's); the control can
only learn the label statistics, so its CER stays near chance. This is a *tiny synthetic reader* trained for a few
hundred steps, not an OCR model: the numbers prove that pixels reach the model and that training uses them, never
OCR quality. The full-size story (a base reader, LoRA on a new domain, merge) is `make demo` (tools/demo.sh).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
# CI-sized: short strings, few steps (the demo uses 4-digit strings and more steps)
N_TRAIN = int(os.environ.get("SWIFT_OCR_PROOF_TRAIN", "1000"))
N_TEST = 50
LENGTH = os.environ.get("SWIFT_OCR_PROOF_LENGTH", "3")
STEPS = int(os.environ.get("SWIFT_OCR_PROOF_STEPS", "700"))
LR = "2e-3"


def _env() -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    # one thread per process: faster for a 0.27M-parameter model, and far faster on a busy 2-core machine
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(*cmd: str) -> str:
    proc = subprocess.run([str(c) for c in cmd], env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, f"{cmd[0]} {cmd[1]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc.stdout


def _synth_and_convert(out: Path, seed: int, count: int, *extra: str) -> Path:
    _run(BIN / "swift-ocr", "synth", "--output", out, "--count", count, "--seed", seed, "--length", LENGTH,
         "--font", "dejavu-sans", *extra)
    jsonl = out.with_suffix(".jsonl")
    _run(BIN / "swift-ocr", "convert", "--format", "icdar", "--input", out, "--task", "rec", "--model-family",
         "internvl", "--output", jsonl)
    return jsonl


def _train(model: Path, data: Path, out: Path) -> Path:
    _run(BIN / "swift", "sft", "--model", model, "--model_type", "internvl", "--template", "internvl_hf",
         "--dataset", data, "--split_dataset_ratio", "0", "--tuner_type", "full", "--torch_dtype", "float32",
         "--freeze_vit", "false", "--freeze_aligner", "false", "--freeze_llm", "false",
         "--learning_rate", LR, "--warmup_ratio", "0.05", "--per_device_train_batch_size", "16",
         "--gradient_accumulation_steps", "1", "--max_steps", STEPS, "--save_steps", STEPS, "--save_only_model", "true",
         "--logging_steps", "50", "--dataloader_num_workers", "0", "--gradient_checkpointing", "false",
         "--seed", "42", "--report_to", "none", "--output_dir", out, "--add_version", "false")
    checkpoint = out / f"checkpoint-{STEPS}"
    assert (checkpoint / "model.safetensors").is_file()
    return checkpoint


def _cer(checkpoint: Path, test: Path, result: Path) -> dict:
    assert not result.exists()  # swift infer appends
    _run(BIN / "swift", "infer", "--model", checkpoint, "--val_dataset", test, "--result_path", result,
         "--infer_backend", "transformers", "--max_new_tokens", "8", "--temperature", "0", "--max_batch_size", "16")
    rows = [json.loads(line) for line in result.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == N_TEST
    summary = json.loads(_run(BIN / "swift-ocr", "eval", "rec", "--results", result, "--json", "--note",
                              "tiny synthetic reader, not a real OCR model"))
    summary["responses"] = [row["response"] for row in rows]
    return summary


def test_training_reads_pixels_and_blank_image_control_does_not(tmp_path):
    train = _synth_and_convert(tmp_path / "train", 1, N_TRAIN)
    blank = _synth_and_convert(tmp_path / "blank", 1, N_TRAIN, "--blank")
    test = _synth_and_convert(tmp_path / "test", 1001, N_TEST, "--exclude", tmp_path / "train")  # unseen strings
    # the control differs from the real training set only in its pixels
    assert [json.loads(a)["messages"] for a in train.read_text().splitlines()] == \
        [json.loads(b)["messages"] for b in blank.read_text().splitlines()]

    model = tmp_path / "tiny-random-untrained-internvl_hf_112"
    _run(BIN / "swift-ocr", "tiny-model", "--arch", "internvl_hf_112", "--output", model)
    train_texts = {json.loads(row)["messages"][1]["content"] for row in train.read_text().splitlines()}
    assert not train_texts & {json.loads(row)["messages"][1]["content"] for row in test.read_text().splitlines()}
    untrained = _cer(model, test, tmp_path / "result_untrained.jsonl")
    real = _cer(_train(model, train, tmp_path / "sft-real"), test, tmp_path / "result_real.jsonl")
    control = _cer(_train(model, blank, tmp_path / "sft-blank"), test, tmp_path / "result_blank.jsonl")

    print(f"held-out CER of the tiny synthetic reader (not an OCR model): untrained {untrained['cer']:.3f}, "
          f"trained on real images {real['cer']:.3f}, trained on blank images {control['cer']:.3f}")
    assert untrained["cer"] >= 0.9  # random weights: gibberish
    assert control["cer"] >= 0.7  # no pixels, no reading: only the label statistics can be learned
    assert real["cer"] <= 0.35  # it reads unseen strings
    assert control["cer"] - real["cer"] >= 0.4
    # the control cannot tell images apart: (nearly) one answer for all; the reader gives many
    assert len(set(control["responses"])) <= 3 < 25 <= len(set(real["responses"]))
