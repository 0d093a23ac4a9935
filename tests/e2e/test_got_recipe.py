"""End to end on real receipts with real ms-swift (CPU): ../shared/data/sroie -> swift-ocr convert -> swift sft
(LoRA, via the recipe, with the plugin) -> swift export --merge_lora -> swift infer on the val split -> swift-ocr eval rec.

The model is a TINY RANDOM UNTRAINED GOT-OCR2: the test checks that the pipeline runs and that every val sample is
scored, never OCR quality. A second run trains straight from the raw ICDAR folders through the registered
ms-swift preprocessor (``swift-ocr/icdar:<root>?family=got``).
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RECIPES = REPO / "recipes" / "got_ocr2"


def run(cmd, env=None, cwd=None):
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "SWIFT": str(BIN / "swift"), "PATH": f"{BIN}:{os.environ['PATH']}", **(env or {})}
    proc = subprocess.run(cmd, env=full_env, cwd=cwd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def last_value(stdout, key):
    values = [line.split("=", 1)[1] for line in stdout.splitlines() if line.startswith(f"{key}=")]
    assert values, f"no {key}= line in:\n{stdout[-2000:]}"
    return values[-1]


def gt_lines(csv_path):
    return [ln.split(",", 8)[8] for ln in csv_path.read_bytes().decode("utf-8-sig").splitlines() if ln.strip()]


def train_rows_in_log(stderr):
    """ms-swift logs `train_dataset: Dataset({... num_rows: N})`."""
    m = re.search(r"train_dataset: Dataset\(\{.*?num_rows: (\d+)", stderr, re.S)
    assert m, stderr[-3000:]
    return int(m.group(1))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "tiny-random-untrained-got_ocr2_hf"
    run([str(BIN / "swift-ocr"), "tiny-model", "--arch", "got_ocr2_hf", "--output", str(out)])
    return out


SFT_ENV = {"TORCH_DTYPE": "float32", "MAX_STEPS": "2", "BATCH_SIZE": "1", "GRAD_ACC": "1", "NUM_WORKERS": "0",
           "SAVE_STEPS": "2", "LOGGING_STEPS": "1", "MAX_LENGTH": "2048", "ADD_VERSION": "false",
           "EVAL_MAX_NEW_TOKENS": "16"}  # the recipe's eval_cer at step 2: keep the random model's answers short


def test_sroie_convert_sft_merge_infer_eval(tmp_path, shared_data, tiny_model):
    data = tmp_path / "data"
    proc = run([str(BIN / "swift-ocr"), "convert", "--format", "icdar", "--images", str(shared_data / "sroie/img"),
                "--labels", str(shared_data / "sroie/box"), "--task", "rec", "--model-family", "got",
                "--val-ratio", "0.2", "--seed", "1", "--output", str(data / "sroie.jsonl"), "--json"])
    report = json.loads(proc.stdout)
    train = [json.loads(line) for line in open(data / "sroie.jsonl", encoding="utf-8")]
    val = [json.loads(line) for line in open(data / "sroie.val.jsonl", encoding="utf-8")]
    assert (report["train"], report["val"], report["rejected"]) == (16, 4, 0)
    assert len(train) + len(val) == 20
    for row in train + val:  # every ground-truth line is present
        stem = Path(row["images"][0]).stem
        assert row["messages"][1]["content"].split("\n") == gt_lines(shared_data / f"sroie/box/{stem}.csv")

    plugin = run([str(BIN / "swift-ocr"), "plugin-path"]).stdout.strip()
    sft = run(["bash", str(RECIPES / "sft_lora.sh")], env={
        **SFT_ENV, "MODEL": str(tiny_model), "DATASET": str(data / "sroie.jsonl"),
        "VAL_DATASET": str(data / "sroie.val.jsonl"), "OUTPUT_DIR": str(tmp_path / "sft"),
        "CUSTOM_REGISTER_PATH": plugin}, cwd=tmp_path)
    assert train_rows_in_log(sft.stderr) == report["train"]  # trains on exactly what the converter reported
    assert "Successfully imported external_plugins" in sft.stderr
    checkpoint = Path(last_value(sft.stdout, "CHECKPOINT"))
    assert (checkpoint / "adapter_config.json").is_file()
    # the checkpoint reported is the one ms-swift recorded for this run: the last line of RUN_DIR/logging.jsonl
    run_dir = Path(last_value(sft.stdout, "RUN_DIR"))
    record = json.loads((run_dir / "logging.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert checkpoint == Path(record["last_model_checkpoint"]) == run_dir / "checkpoint-2"
    # ms-swift 4.6 also keeps a relative `last-checkpoint` symlink (tests/recipes/test_recipe_outputs.py fakes it)
    assert (run_dir / "last-checkpoint").is_symlink() and (run_dir / "last-checkpoint").resolve() == checkpoint

    merged = Path(last_value(run(["bash", str(RECIPES / "merge.sh")], env={"ADAPTERS": str(checkpoint)},
                                 cwd=tmp_path).stdout, "MERGED"))
    assert (merged / "config.json").is_file()
    assert json.loads((merged / "config.json").read_text())["swift_ocr_tiny_random_untrained"] is True

    result = Path(last_value(run(["bash", str(RECIPES / "infer.sh")], env={
        "MODEL": str(merged), "VAL_DATASET": str(data / "sroie.val.jsonl"),
        "RESULT_PATH": str(tmp_path / "result.jsonl"), "MAX_NEW_TOKENS": "16"}, cwd=tmp_path).stdout, "RESULT_PATH"))
    per_sample = tmp_path / "per_sample.jsonl"
    metrics = json.loads(run([str(BIN / "swift-ocr"), "eval", "rec", "--results", str(result), "--json",
                              "--per-sample", str(per_sample)]).stdout)
    assert metrics["n"] == 4
    assert all(isinstance(metrics[k], float) for k in ("cer", "wer", "ned", "accuracy"))
    samples = [json.loads(line) for line in open(per_sample, encoding="utf-8")]
    assert len(samples) == 4 and all(isinstance(s["cer"], float) for s in samples)
    # the references scored are the receipts' real texts, in val order
    assert [s["ref"] for s in samples] == [" ".join(r["messages"][1]["content"].split()) for r in val]


def test_train_straight_from_raw_icdar_folders(tmp_path, shared_data, tiny_model):
    plugin = run([str(BIN / "swift-ocr"), "plugin-path"]).stdout.strip()
    rejects = tmp_path / "rejects.jsonl"
    spec = f"swift-ocr/icdar:{shared_data / 'sroie'}?family=got&rejects={rejects}"
    sft = run(["bash", str(RECIPES / "sft_lora.sh")], env={
        **SFT_ENV, "MODEL": str(tiny_model), "DATASET": spec, "SPLIT_DATASET_RATIO": "0.1",
        "OUTPUT_DIR": str(tmp_path / "sft"), "CUSTOM_REGISTER_PATH": plugin}, cwd=tmp_path)
    assert train_rows_in_log(sft.stderr) == 18  # 20 receipts, 2 held out by ms-swift's split
    assert (Path(last_value(sft.stdout, "CHECKPOINT")) / "adapter_config.json").is_file()
    assert not rejects.exists()  # nothing rejected, nothing silently dropped
