"""Several processes on a machine without GPU (recipes/common.sh ``so_launch`` / ``so_infer``): the recipes add
``--use_cpu true --ddp_backend gloo`` and, for data-parallel ``swift infer``, the swift-ocr plugin. Dry runs only
(``DRY_RUN=1``); tests/e2e/test_scale_out.py runs them for real. ``CUDA_VISIBLE_DEVICES=""`` hides any GPU, so the
results do not depend on the machine the tests run on."""
from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SFT = ("got_ocr2/sft_lora.sh", "internvl2_8b/sft_lora_det.sh")
CLEAR = ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "DEEPSPEED", "DDP_BACKEND",
         "CUSTOM_REGISTER_PATH", "EXTRA_ARGS", "DATASET", "VAL_DATASET", "RESULT_PATH", "MODEL", "ADAPTERS")


def dry_run(script: str, env: dict, cwd: Path):
    """``(swift argv after the subcommand, stderr)`` of a recipe run with DRY_RUN=1 and no GPU visible."""
    full = {k: v for k, v in os.environ.items() if k not in CLEAR}
    full.update({"DRY_RUN": "1", "SWIFT": "swift", "CUDA_VISIBLE_DEVICES": "", **env})
    proc = subprocess.run(["bash", str(REPO / "recipes" / script)], env=full, cwd=cwd, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("+ ")]
    words = shlex.split(line[2:])
    while "=" in words[0] and not words[0].startswith("-"):
        words.pop(0)
    return words[2:], proc.stderr


def option(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


@pytest.mark.parametrize("script", SFT)
def test_several_processes_without_gpu_train_as_one_cpu_run(tmp_path, script):
    argv, err = dry_run(script, {"DATASET": "a.jsonl", "NPROC_PER_NODE": "2", "DEEPSPEED": "none"}, tmp_path)
    assert (option(argv, "--use_cpu"), option(argv, "--ddp_backend")) == ("true", "gloo")
    assert "--deepspeed" not in argv and "no GPU visible" in err
    from swift_ocr.msswift.plugin import plugin_path  # the plugin, once (InternVL's recipe loads it by default anyway)

    assert [argv[i + 1] for i, w in enumerate(argv) if w == "--custom_register_path"] == [plugin_path()]


@pytest.mark.parametrize("script", SFT)
def test_one_process_gets_no_distributed_flags(tmp_path, script):
    argv, _ = dry_run(script, {"DATASET": "a.jsonl"}, tmp_path)
    assert "--use_cpu" not in argv and "--ddp_backend" not in argv


def test_ddp_backend_setting_wins_and_deepspeed_on_cpu_warns(tmp_path):
    argv, err = dry_run("got_ocr2/sft_lora.sh", {"DATASET": "a.jsonl", "NNODES": "2", "NODE_RANK": "1",
                                                  "MASTER_ADDR": "127.0.0.1", "DDP_BACKEND": "mpi"}, tmp_path)
    assert option(argv, "--ddp_backend") == "mpi" and option(argv, "--use_cpu") == "true"
    assert option(argv, "--deepspeed") == "zero2" and "DeepSpeed needs GPUs" in err


@pytest.mark.parametrize("script", ("got_ocr2/infer.sh", "internvl2_8b/infer.sh"))
def test_data_parallel_infer_without_gpu_loads_the_plugin_once(tmp_path, script):
    from swift_ocr.msswift.plugin import plugin_path

    env = {"VAL_DATASET": "val.jsonl", "RESULT_PATH": "r.jsonl", "NPROC_PER_NODE": "2"}
    argv, _ = dry_run(script, env, tmp_path)
    assert [argv[i + 1] for i, w in enumerate(argv) if w == "--custom_register_path"] == [plugin_path()]
    own_default = {"CUSTOM_REGISTER_PATH": "none"} if script.startswith("internvl") else {}  # InternVL loads it anyway
    argv, _ = dry_run(script, {**env, "NPROC_PER_NODE": "1", **own_default}, tmp_path)
    assert "--custom_register_path" not in argv
