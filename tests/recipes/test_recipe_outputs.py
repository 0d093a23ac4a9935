"""What the recipes report and delete after ``swift`` ran (CPU only, nothing is trained).

A stand-in ``swift`` (``SWIFT=<fake>``) writes what ms-swift 4.6 writes, read from its source:

* ``swift sft``: the run folder is ``--output_dir`` itself (``--add_version false``) or a new
  ``v<N>-<YYYYmmdd-HHMMSS>`` in it (``swift/utils/utils.py``, ``add_version_to_work_dir``); each save writes
  ``checkpoint-<global_step>`` (``swift/trainers/mixin.py``, ``_save_checkpoint``) and points the relative symlink
  ``last-checkpoint`` at it (``swift/utils/io_utils.py``, ``update_last_checkpoint_symlink``; skipped with a warning
  where the filesystem has no symlinks); ``logging.jsonl`` is *appended* to, one line per log step
  (``swift/trainers/patcher.py``) and, at the end, the run's summary with ``last_model_checkpoint`` /
  ``best_model_checkpoint`` (``swift/pipelines/train/sft.py``, ``_save_trainer_state``); with
  ``--create_checkpoint_symlink true`` those two are the absolute symlinks ``last`` / ``best`` in the run folder.
* ``swift infer``: appends one row per input row to ``--result_path``.

The e2e test tests/e2e/test_got_recipe.py checks the reported checkpoint against a real ms-swift run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECIPE_VARS = ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "CUDA_VISIBLE_DEVICES",
               "DEEPSPEED", "MAX_NUM", "BATCH_SIZE", "TOTAL_BATCH_SIZE", "GRAD_ACC", "DATASET", "VAL_DATASET",
               "RESULT_PATH", "OVERWRITE", "ADAPTERS", "OUTPUT_DIR", "ADD_VERSION", "EXTRA_ARGS", "DRY_RUN",
               "MAX_STEPS", "SAVE_STEPS", "MODEL", "LOAD_DATA_ARGS", "CUSTOM_REGISTER_PATH")

FAKE_SWIFT = r'''
import datetime
import json
import os
import sys

args = sys.argv[1:]
sub = args[0]


def opt(name, default=None):
    return args[args.index(name) + 1] if name in args else default


def append(path, obj):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(obj, ensure_ascii=False) + "\n")


if sub == "sft":
    out = opt("--output_dir")
    if opt("--add_version", "true") == "true":
        versions = [int(d[1:].split("-")[0]) for d in (os.listdir(out) if os.path.isdir(out) else [])
                    if d.startswith("v") and d[1:].split("-")[0].isdigit()]
        out = os.path.join(out, f"v{max(versions, default=-1) + 1}-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    os.makedirs(out, exist_ok=True)
    if os.environ.get("FAKE_SWIFT_FAIL"):
        print("training failed", file=sys.stderr)
        sys.exit(1)
    if os.environ.get("FAKE_SWIFT_NO_LOG"):
        sys.exit(0)
    steps, save = int(opt("--max_steps")), int(opt("--save_steps"))
    log = os.path.join(out, "logging.jsonl")
    saves = list(range(save, steps + 1, save))
    if steps not in saves and not os.environ.get("FAKE_SWIFT_NO_SAVE"):
        saves.append(steps)  # DefaultFlowCallbackNew saves at the last step
    checkpoint = None
    for step in range(1, steps + 1):
        append(log, {"loss": 1.0 / step, "global_step/max_steps": f"{step}/{steps}"})
        if step in saves:
            checkpoint = os.path.join(out, f"checkpoint-{step}")
            os.makedirs(checkpoint)
            with open(os.path.join(checkpoint, "adapter_config.json"), "w") as f:
                json.dump({"peft_type": "LORA"}, f)
            if not os.environ.get("FAKE_SWIFT_NO_SYMLINKS"):
                link = os.path.join(out, "last-checkpoint")
                os.symlink(os.path.basename(checkpoint), link + ".tmp")
                os.replace(link + ".tmp", link)
    last = best = checkpoint
    if opt("--create_checkpoint_symlink") == "true" and checkpoint:
        os.symlink(checkpoint, os.path.join(out, "last"))
        os.symlink(checkpoint, os.path.join(out, "best"))
        last, best = os.path.join(out, "last"), os.path.join(out, "best")
    append(log, {"model_parameter_info": "fake", "last_model_checkpoint": last, "best_model_checkpoint": best,
                 "best_metric": None, "global_step": steps, "log_history": [], "memory": {}})
elif sub == "infer":
    rows = [json.loads(line) for line in open(opt("--val_dataset"), encoding="utf-8") if line.strip()]
    for row in rows:
        append(opt("--result_path"), {**row, "response": "fake", "labels": row["messages"][-1]["content"]})
'''


@pytest.fixture
def fake_swift(tmp_path):
    path = tmp_path / "bin" / "swift"
    path.parent.mkdir()
    path.write_text(f"#!{sys.executable}\n{FAKE_SWIFT}")
    path.chmod(0o755)
    return path


def run_recipe(script: str, env: dict, cwd: Path, swift: Path):
    full = {k: v for k, v in os.environ.items() if k not in RECIPE_VARS}
    full.update({"SWIFT": str(swift), **{k: str(v) for k, v in env.items()}})
    return subprocess.run(["bash", str(REPO / "recipes" / script)], env=full, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def last_value(stdout: str, key: str):
    values = [ln.split("=", 1)[1] for ln in stdout.splitlines() if ln.startswith(f"{key}=")]
    return values[-1] if values else None


def recorded_checkpoint(run_dir: Path) -> str:
    """``last_model_checkpoint`` of the last line of ms-swift's logging.jsonl, symlinks resolved."""
    record = json.loads((run_dir / "logging.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    return os.path.realpath(record["last_model_checkpoint"])


SFT_RECIPES = ("got_ocr2/sft_lora.sh", "internvl2_8b/sft_lora_det.sh")


def leftovers_of_an_earlier_run(out: Path, symlinks: bool = True):
    """What a 1000-step run left in OUTPUT_DIR: checkpoint-1000, its merged model, its logging.jsonl."""
    old = out / "checkpoint-1000"
    old.mkdir(parents=True)
    (old / "adapter_config.json").write_text("{}")
    (out / "checkpoint-1000-merged").mkdir()
    (out / "checkpoint-1000-merged" / "config.json").write_text("{}")
    (out / "logging.jsonl").write_text(json.dumps({"last_model_checkpoint": str(old)}) + "\n")
    if symlinks:
        (out / "last-checkpoint").symlink_to("checkpoint-1000")


# ---------------------------------------------------------------- issue 19, case 11: the checkpoint of this run

@pytest.mark.parametrize("script", SFT_RECIPES)
@pytest.mark.parametrize("extra", [{}, {"FAKE_SWIFT_NO_SYMLINKS": "1"},
                                   {"EXTRA_ARGS": "--create_checkpoint_symlink true"}])
def test_reused_output_dir_reports_this_runs_checkpoint(tmp_path, fake_swift, script, extra):
    out = tmp_path / "out"
    leftovers_of_an_earlier_run(out, symlinks="FAKE_SWIFT_NO_SYMLINKS" not in extra)
    proc = run_recipe(script, {"DATASET": "a.jsonl", "OUTPUT_DIR": out, "ADD_VERSION": "false", "MAX_STEPS": 100,
                               "SAVE_STEPS": 40, **extra}, tmp_path, fake_swift)
    assert proc.returncode == 0, proc.stderr
    assert last_value(proc.stdout, "RUN_DIR") == str(out)
    checkpoint = last_value(proc.stdout, "CHECKPOINT")
    assert checkpoint == str(out / "checkpoint-100") == recorded_checkpoint(out)
    assert proc.stdout.splitlines()[-1] == f"CHECKPOINT={checkpoint}"


@pytest.mark.parametrize("script", SFT_RECIPES)
def test_new_version_folder_reports_its_checkpoint(tmp_path, fake_swift, script):
    out = tmp_path / "out"
    leftovers_of_an_earlier_run(out / "v0-20200101-000000")
    proc = run_recipe(script, {"DATASET": "a.jsonl", "OUTPUT_DIR": out, "MAX_STEPS": 3, "SAVE_STEPS": 2},
                      tmp_path, fake_swift)
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(last_value(proc.stdout, "RUN_DIR"))
    assert run_dir.parent == out and run_dir.name.startswith("v1-")
    assert last_value(proc.stdout, "CHECKPOINT") == str(run_dir / "checkpoint-3") == recorded_checkpoint(run_dir)


@pytest.mark.parametrize("env,message", [
    ({"FAKE_SWIFT_NO_LOG": "1"}, "no final record with last_model_checkpoint from this run"),
    ({"FAKE_SWIFT_NO_LOG": "1", "ADD_VERSION": "true"}, "swift sft wrote no"),
    ({"FAKE_SWIFT_NO_SAVE": "1", "MAX_STEPS": 3, "SAVE_STEPS": 5}, "saved no checkpoint"),
])
def test_a_run_without_a_recorded_checkpoint_is_an_error(tmp_path, fake_swift, env, message):
    out = tmp_path / "out"
    leftovers_of_an_earlier_run(out)  # the earlier run's record must not be taken for this run's
    proc = run_recipe("got_ocr2/sft_lora.sh", {"DATASET": "a.jsonl", "OUTPUT_DIR": out, "ADD_VERSION": "false",
                                               "MAX_STEPS": 2, "SAVE_STEPS": 2, **env}, tmp_path, fake_swift)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert last_value(proc.stdout, "CHECKPOINT") is None


def test_a_failed_training_reports_nothing(tmp_path, fake_swift):
    proc = run_recipe("got_ocr2/sft_lora.sh", {"DATASET": "a.jsonl", "OUTPUT_DIR": tmp_path / "out",
                                               "FAKE_SWIFT_FAIL": "1"}, tmp_path, fake_swift)
    assert proc.returncode == 1 and "training failed" in proc.stderr
    assert last_value(proc.stdout, "CHECKPOINT") is None


def test_worker_nodes_do_not_look_for_checkpoints(tmp_path, fake_swift):
    """ms-swift writes checkpoints and logging.jsonl on global rank 0 only (``is_master``)."""
    proc = run_recipe("got_ocr2/sft_lora.sh", {"DATASET": "a.jsonl", "OUTPUT_DIR": tmp_path / "out",
                                               "NNODES": 2, "NODE_RANK": 1, "MASTER_ADDR": "h",
                                               "FAKE_SWIFT_NO_LOG": "1"}, tmp_path, fake_swift)
    assert proc.returncode == 0, proc.stderr
    assert last_value(proc.stdout, "CHECKPOINT") is None and "NODE_RANK=1" in proc.stderr


# ---------------------------------------------------------------- issue 19, case 10: OVERWRITE deletes last

INFER_RECIPES = ("got_ocr2/infer.sh", "internvl2_8b/infer.sh")
OLD_ROWS = '{"response": "from an earlier run"}\n'


@pytest.fixture
def val_and_result(tmp_path):
    val = tmp_path / "val.jsonl"
    val.write_text(json.dumps({"messages": [{"role": "user", "content": "<image>OCR: "},
                                            {"role": "assistant", "content": "TOTAL 9.00"}],
                               "images": ["x.png"]}) + "\n")
    result = tmp_path / "result.jsonl"
    result.write_text(OLD_ROWS)
    return val, result


@pytest.mark.parametrize("script", INFER_RECIPES)
def test_overwrite_with_dry_run_deletes_nothing(tmp_path, fake_swift, val_and_result, script):
    val, result = val_and_result
    proc = run_recipe(script, {"VAL_DATASET": val, "RESULT_PATH": result, "OVERWRITE": "true", "DRY_RUN": "1"},
                      tmp_path, fake_swift)
    assert proc.returncode == 0, proc.stderr
    assert "--result_path" in proc.stdout and result.read_text() == OLD_ROWS


@pytest.mark.parametrize("script", INFER_RECIPES)
@pytest.mark.parametrize("env,message", [({"ADAPTERS": "no_such_checkpoint"}, "ADAPTERS=no_such_checkpoint"),
                                         ({"NPROC_PER_NODE": "0"}, "NPROC_PER_NODE"),
                                         ({"VAL_DATASET": ""}, "set VAL_DATASET")])
def test_overwrite_deletes_nothing_when_a_check_fails(tmp_path, fake_swift, val_and_result, script, env, message):
    val, result = val_and_result
    proc = run_recipe(script, {"VAL_DATASET": val, "RESULT_PATH": result, "OVERWRITE": "true", **env},
                      tmp_path, fake_swift)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert result.read_text() == OLD_ROWS


@pytest.mark.parametrize("script", INFER_RECIPES)
def test_overwrite_replaces_the_results_once_everything_passed(tmp_path, fake_swift, val_and_result, script):
    val, result = val_and_result
    proc = run_recipe(script, {"VAL_DATASET": val, "RESULT_PATH": result}, tmp_path, fake_swift)
    assert proc.returncode == 2 and "OVERWRITE=true" in proc.stderr and result.read_text() == OLD_ROWS
    proc = run_recipe(script, {"VAL_DATASET": val, "RESULT_PATH": result, "OVERWRITE": "true"}, tmp_path, fake_swift)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in result.read_text().splitlines()]
    assert [r["response"] for r in rows] == ["fake"]  # swift infer appends: the old rows had to go first
    assert last_value(proc.stdout, "RESULT_PATH") == str(result)


def test_result_path_that_is_a_folder_is_refused(tmp_path, fake_swift, val_and_result):
    val, _ = val_and_result
    (tmp_path / "results").mkdir()
    proc = run_recipe("got_ocr2/infer.sh", {"VAL_DATASET": val, "RESULT_PATH": tmp_path / "results",
                                            "OVERWRITE": "true"}, tmp_path, fake_swift)
    assert proc.returncode == 2 and "RESULT_PATH" in proc.stderr and "folder" in proc.stderr
    assert (tmp_path / "results").is_dir()
