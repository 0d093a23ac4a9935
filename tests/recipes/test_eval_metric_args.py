"""The training recipes' OCR-metric settings (EVAL_METRIC, EVAL_MAX_NEW_TOKENS, METRIC_FOR_BEST_MODEL,
GREATER_IS_BETTER, SWIFT_OCR_FAMILY: ``so_eval_metric`` in recipes/common.sh) give arguments ms-swift 4.6 accepts
(CPU only, ``DRY_RUN=1``: nothing is trained; the e2e run is tests/e2e/test_eval_metric_recipe.py)."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SETTINGS = ("EVAL_METRIC", "EVAL_MAX_NEW_TOKENS", "METRIC_FOR_BEST_MODEL", "GREATER_IS_BETTER", "SWIFT_OCR_FAMILY",
            "CUSTOM_REGISTER_PATH", "VAL_DATASET", "SPLIT_DATASET_RATIO", "NPROC_PER_NODE", "NNODES", "NODE_RANK",
            "MASTER_ADDR", "MASTER_PORT", "DEEPSPEED", "STREAMING", "MAX_STEPS", "EXTRA_ARGS")
PLUGIN = str(REPO / "swift_ocr" / "msswift" / "_plugin" / "swift_ocr_plugin.py")


def dry_run(script: str, **env):
    """``(exit code, launch variables, swift sft argv, stderr)`` of a recipe run with DRY_RUN=1."""
    full = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    full.update({"DRY_RUN": "1", "SWIFT": "swift", "DATASET": "train.jsonl", **env})
    proc = subprocess.run(["bash", str(REPO / "recipes" / script)], env=full, capture_output=True, text=True,
                          timeout=60)
    if proc.returncode != 0:
        return proc.returncode, {}, [], proc.stderr
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("+ ")]
    words = shlex.split(line[2:])
    launch = {}
    while "=" in words[0] and not words[0].startswith("-"):
        key, value = words.pop(0).split("=", 1)
        launch[key] = value
    assert words[:2] == ["swift", "sft"], words
    return 0, launch, words[2:], proc.stderr


def value(argv, name):
    assert argv.count(name) == 1, (name, argv)
    return argv[argv.index(name) + 1]


def parse_sft(argv):
    """ms-swift's own parser over ``SftArguments`` (no ``__post_init__``: nothing is loaded)."""
    from transformers import HfArgumentParser

    import swift.arguments as swift_args
    from swift.utils import utils as swift_utils

    with swift_utils._patch_get_type_hints():
        parser = HfArgumentParser([swift_args.SftArguments])
    namespace, remaining = parser.parse_known_args(argv)
    assert remaining == [], f"ms-swift does not know {remaining}"
    return namespace


@pytest.mark.parametrize("script,metric,best,greater", [
    ("got_ocr2/sft_lora.sh", "ocr", "cer", "false"),
    ("internvl2_8b/sft_lora_det.sh", "ocr_det", "hmean", "true"),
])
def test_defaults_with_a_validation_set(script, metric, best, greater):
    rc, _, argv, err = dry_run(script, VAL_DATASET="val.jsonl")
    assert rc == 0, err
    ns = parse_sft(argv)
    assert (ns.predict_with_generate, ns.eval_metric, ns.metric_for_best_model) == (True, metric, best)
    assert ns.greater_is_better is (greater == "true")
    assert ns.max_new_tokens == 4096  # not ms-swift's 64, which cuts OCR answers short
    assert ns.custom_register_path == [PLUGIN]  # the metrics are the plugin's


def test_split_validation_set_settings_and_family():
    rc, launch, argv, err = dry_run("got_ocr2/sft_lora.sh", SPLIT_DATASET_RATIO="0.05", EVAL_METRIC="OCR_DET",
                                    SWIFT_OCR_FAMILY="got", EVAL_MAX_NEW_TOKENS="777", METRIC_FOR_BEST_MODEL="recall")
    assert rc == 0, err
    assert launch == {"SWIFT_OCR_FAMILY": "got"}  # printed in front: the pasted command scores with the same codec
    assert (value(argv, "--eval_metric"), value(argv, "--max_new_tokens")) == ("ocr_det", "777")
    assert (value(argv, "--metric_for_best_model"), value(argv, "--greater_is_better")) == ("recall", "true")


@pytest.mark.parametrize("env", [{}, {"VAL_DATASET": "val.jsonl", "EVAL_METRIC": "none"}])
def test_no_generation_without_a_validation_set_or_metric(env):
    rc, _, argv, err = dry_run("got_ocr2/sft_lora.sh", **env)
    assert rc == 0, err
    for flag in ("--predict_with_generate", "--eval_metric", "--metric_for_best_model", "--max_new_tokens"):
        assert flag not in argv


@pytest.mark.parametrize("env,message", [
    ({"EVAL_METRIC": "bleu"}, "EVAL_METRIC must be ocr, ocr_det or none"),
    ({"EVAL_MAX_NEW_TOKENS": "0"}, "EVAL_MAX_NEW_TOKENS must be a positive integer"),
    ({"CUSTOM_REGISTER_PATH": "none"}, "needs the swift-ocr plugin"),
])
def test_bad_settings_stop_the_recipe(env, message):
    rc, _, _, err = dry_run("internvl2_8b/sft_lora_det.sh", VAL_DATASET="val.jsonl", **env)
    assert rc == 2 and message in err, err


# A stand-in `swift` that ends like ms-swift 4.6 `swift sft` (swift/pipelines/train/sft.py, _save_trainer_state): two
# checkpoints and the run's summary as the last line of logging.jsonl, the best one being $FAKE_BEST (or null).
FAKE_SWIFT = r"""
import json, os, sys
args = sys.argv[1:]
out = args[args.index("--output_dir") + 1]
for step in (2, 4):
    os.makedirs(os.path.join(out, f"checkpoint-{step}"))
    with open(os.path.join(out, f"checkpoint-{step}", "adapter_config.json"), "w") as f:
        f.write("{}")
best = os.environ.get("FAKE_BEST")
with open(os.path.join(out, "logging.jsonl"), "a") as f:
    f.write(json.dumps({"eval_cer": 0.5, "global_step/max_steps": "2/4"}) + "\n")
    f.write(json.dumps({"last_model_checkpoint": os.path.join(out, "checkpoint-4"),
                        "best_model_checkpoint": best and os.path.join(out, best), "best_metric": 0.5}) + "\n")
"""


@pytest.mark.parametrize("best,expected", [("checkpoint-2", "checkpoint-2"), (None, "checkpoint-4")])
def test_checkpoint_printed_is_the_best_one_recorded(tmp_path, best, expected):
    swift = tmp_path / "swift"
    swift.write_text(f"#!{sys.executable}\n{FAKE_SWIFT}")
    swift.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and k != "FAKE_BEST"}
    env.update({"SWIFT": str(swift), "DATASET": "train.jsonl", "VAL_DATASET": "val.jsonl", "ADD_VERSION": "false",
                "OUTPUT_DIR": str(tmp_path / "run"), "MAX_STEPS": "4", **({"FAKE_BEST": best} if best else {})})
    proc = subprocess.run(["bash", str(REPO / "recipes" / "got_ocr2" / "sft_lora.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "run" / "logging.jsonl").read_text().splitlines()[-1])
    assert record["last_model_checkpoint"].endswith("checkpoint-4")  # the last one is not what is printed with a best
    assert proc.stdout.splitlines()[-1] == f"CHECKPOINT={tmp_path / 'run' / expected}"
