"""The recipes' launch settings are what ms-swift 4.6 and torchrun accept (CPU only, nothing is trained).

The GOT-OCR2 recipes (recipes/got_ocr2/) and the InternVL2 detection recipes (recipes/internvl2_8b/) share
recipes/common.sh. Each recipe runs with ``DRY_RUN=1``, which prints the exact ``swift`` command (prefixed with the
launch variables ms-swift's launcher reads, and MAX_NUM for InternVL) and exits. The printed arguments are then
parsed by ms-swift's own argument parser (``HfArgumentParser`` over ``SftArguments`` / ``InferArguments`` /
``ExportArguments``, as ``swift.utils.parse_args`` builds it) up to -- not including -- constructing the dataclass,
whose ``__post_init__`` would load the model and require DeepSpeed to be installed. The launch variables go through
ms-swift's ``get_torchrun_args`` and torch's own ``torch.distributed.run`` parser; ``DEEPSPEED`` names must be
ms-swift's built-in config files.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes" / "got_ocr2"
SFT_RECIPES = ("got_ocr2/sft_lora.sh", "internvl2_8b/sft_lora_det.sh")
# settings the recipes read: never inherited from the environment pytest runs in
LAUNCH_VARS = ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "CUSTOM_REGISTER_PATH",
               "CUDA_VISIBLE_DEVICES", "DEEPSPEED", "STREAMING", "MAX_STEPS", "LAZY_TOKENIZE", "MAX_NUM", "BATCH_SIZE",
               "TOTAL_BATCH_SIZE", "GRAD_ACC", "TARGET_MODULES", "REPORT_TO", "DATASET", "VAL_DATASET", "RESULT_PATH",
               "OVERWRITE", "ADAPTERS", "OUTPUT_DIR", "ADD_VERSION", "EXTRA_ARGS", "RESUME", "HOST", "PORT",
               "SERVED_MODEL_NAME", "INFER_BACKEND", "EVAL_METRIC")


def recipe_path(script: str) -> Path:
    """``sft_lora.sh`` is a GOT-OCR2 recipe; ``internvl2_8b/infer.sh`` names the family."""
    return REPO / "recipes" / script if "/" in script else RECIPES / script


def dry_run(script: str, env: dict, cwd: Path):
    """Run a recipe with DRY_RUN=1; returns ``(exit code, launch variables, swift argv after the subcommand,
    subcommand, stderr)``."""
    full = {k: v for k, v in os.environ.items() if k not in LAUNCH_VARS}
    full.update({"DRY_RUN": "1", "SWIFT": "swift", **env})
    proc = subprocess.run(["bash", str(recipe_path(script))], env=full, cwd=cwd, capture_output=True, text=True,
                          timeout=60)
    if proc.returncode != 0:
        return proc.returncode, {}, [], None, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("+ ")]
    assert len(lines) == 1, proc.stdout
    words = shlex.split(lines[0][2:])
    launch = {}
    while "=" in words[0] and not words[0].startswith("-"):
        key, value = words.pop(0).split("=", 1)
        launch[key] = value
    assert words[0] == "swift", words
    return 0, launch, words[2:], words[1], proc.stderr


def deepspeed_config(name_or_path: str) -> dict:
    """What ms-swift's ``SftArguments._init_deepspeed`` loads for ``--deepspeed NAME``: its built-in
    ``swift/config/NAME.json``, or the JSON file given."""
    import swift

    builtin = Path(swift.__file__).parent / "config" / f"{name_or_path}.json"
    path = builtin if builtin.is_file() else Path(name_or_path)
    return json.loads(path.read_text())


def arg(argv, name):
    i = argv.index(name)
    return argv[i + 1]


def test_single_gpu_defaults_parse(tmp_path, swift_parser):
    rc, launch, argv, sub, err = dry_run("sft_lora.sh", {"DATASET": "train.jsonl"}, tmp_path)
    assert rc == 0, err
    assert sub == "sft" and launch == {}
    ns = swift_parser("SftArguments", argv)
    assert ns.deepspeed is None and ns.streaming is False and ns.tuner_type == "lora"
    assert ns.dataset == ["train.jsonl"] and ns.dataloader_num_workers == 4


def test_multi_node_launch_reaches_torchrun_and_adds_zero2(tmp_path, swift_parser, monkeypatch):
    env = {"DATASET": "a.jsonl b.jsonl", "NPROC_PER_NODE": "8", "NNODES": "2", "NODE_RANK": "1",
           "MASTER_ADDR": "10.1.2.3", "MASTER_PORT": "29511"}
    rc, launch, argv, sub, err = dry_run("sft_lora.sh", env, tmp_path)
    assert rc == 0, err
    assert launch == {k: env[k] for k in ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT")}
    ns = swift_parser("SftArguments", argv)
    assert ns.deepspeed == "zero2" and ns.dataset == ["a.jsonl", "b.jsonl"]
    assert deepspeed_config(ns.deepspeed)["zero_optimization"]["stage"] == 2
    # ms-swift's launcher turns the variables into torchrun arguments; torch's parser accepts them
    from torch.distributed.run import get_args_parser

    from swift.cli.main import get_torchrun_args
    for key, value in launch.items():
        monkeypatch.setenv(key, value)
    torchrun = get_torchrun_args()
    parsed = get_args_parser().parse_args(torchrun + ["swift/cli/sft.py", *argv])
    assert (parsed.nproc_per_node, parsed.nnodes, parsed.node_rank) == ("8", "2", 1)
    assert (parsed.master_addr, parsed.master_port) == ("10.1.2.3", 29511)
    assert parsed.training_script_args == argv


def test_one_process_per_node_on_several_nodes_still_gets_deepspeed(tmp_path, swift_parser):
    rc, launch, argv, _, err = dry_run("sft_lora.sh", {"DATASET": "a.jsonl", "NNODES": "4", "NODE_RANK": "3",
                                                       "MASTER_ADDR": "head"}, tmp_path)
    assert rc == 0, err
    assert swift_parser("SftArguments", argv).deepspeed == "zero2" and launch["NNODES"] == "4"


@pytest.mark.parametrize("name,stage,offload", [("zero3", 3, "none"), ("zero3_offload", 3, "cpu"),
                                                ("zero2_offload", 2, "cpu"), ("zero1", 1, None)])
def test_builtin_deepspeed_configs(tmp_path, swift_parser, name, stage, offload):
    rc, _, argv, _, err = dry_run("sft_lora.sh", {"DATASET": "a.jsonl", "NPROC_PER_NODE": "4",
                                                  "DEEPSPEED": name}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    config = deepspeed_config(ns.deepspeed)["zero_optimization"]
    assert config["stage"] == stage
    if offload is not None:
        assert config["offload_optimizer"]["device"] == offload


def test_deepspeed_json_file_and_bad_names(tmp_path, swift_parser):
    custom = tmp_path / "ds.json"
    custom.write_text(json.dumps({"zero_optimization": {"stage": 3}, "train_micro_batch_size_per_gpu": "auto"}))
    rc, _, argv, _, err = dry_run("sft_lora.sh", {"DATASET": "a.jsonl", "NPROC_PER_NODE": "2",
                                                  "DEEPSPEED": "ds.json"}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert ns.deepspeed == str(custom) and deepspeed_config(ns.deepspeed)["zero_optimization"]["stage"] == 3
    rc, _, _, _, err = dry_run("sft_lora.sh", {"DATASET": "a.jsonl", "DEEPSPEED": "zero4"}, tmp_path)
    assert rc == 2 and "DEEPSPEED=zero4" in err
    rc, _, argv, _, err = dry_run("sft_lora.sh", {"DATASET": "a.jsonl", "NPROC_PER_NODE": "2",
                                                  "DEEPSPEED": "none"}, tmp_path)
    assert rc == 0 and "--deepspeed" not in argv


def test_streaming_needs_max_steps_and_no_lazy_tokenize(tmp_path, swift_parser):
    env = {"DATASET": "swift-ocr/icdar:/data/big?family=got", "STREAMING": "true", "MAX_STEPS": "5000",
           "SHUFFLE_BUFFER_SIZE": "4096", "DATASET_NUM_PROC": "8", "NPROC_PER_NODE": "8"}
    rc, _, argv, _, err = dry_run("sft_lora.sh", env, tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert ns.streaming is True and ns.max_steps == 5000 and ns.shuffle_buffer_size == 4096
    assert ns.dataset_num_proc == 8 and ns.lazy_tokenize is None  # ms-swift turns it off for streaming
    assert ns.split_dataset_ratio == 0
    rc, _, _, _, err = dry_run("sft_lora.sh", {"DATASET": "a.jsonl", "STREAMING": "true"}, tmp_path)
    assert rc == 2 and "MAX_STEPS" in err
    rc, _, _, _, err = dry_run("sft_lora.sh", {"DATASET": "a.jsonl", "STREAMING": "true", "MAX_STEPS": "10",
                                               "LAZY_TOKENIZE": "true"}, tmp_path)
    assert rc == 2 and "incompatible" in err


def test_lazy_tokenize_and_num_proc_are_passed(tmp_path, swift_parser):
    rc, _, argv, _, err = dry_run("sft_lora.sh", {"DATASET": "a.jsonl", "LAZY_TOKENIZE": "false",
                                                  "DATASET_NUM_PROC": "4"}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert ns.lazy_tokenize is False and ns.dataset_num_proc == 4


@pytest.mark.parametrize("env,message", [({"NNODES": "2", "NODE_RANK": "0"}, "MASTER_ADDR"),
                                         ({"NNODES": "2", "MASTER_ADDR": "h"}, "NODE_RANK"),
                                         ({"NNODES": "2", "MASTER_ADDR": "h", "NODE_RANK": "2"}, "NODE_RANK"),
                                         ({"NPROC_PER_NODE": "eight"}, "NPROC_PER_NODE")])
def test_bad_launch_settings_are_refused(tmp_path, env, message):
    rc, _, _, _, err = dry_run("sft_lora.sh", {"DATASET": "a.jsonl", **env}, tmp_path)
    assert rc == 2 and message in err


def test_infer_and_merge_arguments_parse(tmp_path, swift_parser):
    rc, launch, argv, sub, err = dry_run("infer.sh", {"VAL_DATASET": "val.jsonl", "NPROC_PER_NODE": "4",
                                                      "RESULT_PATH": "r.jsonl"}, tmp_path)
    assert rc == 0, err
    assert sub == "infer" and launch == {"NPROC_PER_NODE": "4"}
    ns = swift_parser("InferArguments", argv)
    assert ns.val_dataset == ["val.jsonl"] and ns.result_path == str(tmp_path / "r.jsonl")
    adapters = tmp_path / "checkpoint-10"
    adapters.mkdir()
    (adapters / "adapter_config.json").write_text("{}")
    rc, _, argv, sub, err = dry_run("merge.sh", {"ADAPTERS": str(adapters)}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("ExportArguments", argv)
    assert sub == "export" and ns.merge_lora is True and ns.adapters == [str(adapters)]


# ---------------------------------------------------------------- issue 19, case 17: one launch logic for all recipes

def global_batch(ns, launch) -> int:
    world = int(launch.get("NNODES", 1)) * int(launch.get("NPROC_PER_NODE", 1))
    return ns.per_device_train_batch_size * world * ns.gradient_accumulation_steps


@pytest.mark.parametrize("script", SFT_RECIPES)
@pytest.mark.parametrize("env,grad_acc,deepspeed", [
    ({}, 16, None),
    # 2 machines x 1 process: the InternVL recipe used to keep GRAD_ACC=16 (global batch 32) and no DeepSpeed
    ({"NNODES": "2", "NODE_RANK": "0", "MASTER_ADDR": "10.0.0.1"}, 8, "zero2"),
    ({"NNODES": "2", "NODE_RANK": "1", "MASTER_ADDR": "10.0.0.1", "NPROC_PER_NODE": "4"}, 2, "zero2"),
    ({"NPROC_PER_NODE": "8", "BATCH_SIZE": "2"}, 1, "zero2"),
])
def test_world_size_sets_grad_acc_and_deepspeed_in_every_recipe(tmp_path, swift_parser, script, env, grad_acc,
                                                                 deepspeed):
    rc, launch, argv, _, err = dry_run(script, {"DATASET": "a.jsonl", **env}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert ns.gradient_accumulation_steps == grad_acc and ns.deepspeed == deepspeed
    assert global_batch(ns, launch) == 16  # the target global batch, whatever the world size
    expected = {k: env[k] for k in ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR") if k in env}
    if script.startswith("internvl2_8b/"):
        expected["MAX_NUM"] = "6"
    assert launch == expected


@pytest.mark.parametrize("script", SFT_RECIPES)
def test_explicit_grad_acc_and_total_batch_size(tmp_path, swift_parser, script):
    rc, launch, argv, _, err = dry_run(script, {"DATASET": "a.jsonl", "NPROC_PER_NODE": "4", "GRAD_ACC": "3"},
                                       tmp_path)
    assert rc == 0, err
    assert swift_parser("SftArguments", argv).gradient_accumulation_steps == 3
    assert "global batch 12 differs from TOTAL_BATCH_SIZE=16" in err  # said, not silent
    rc, launch, argv, _, err = dry_run(script, {"DATASET": "a.jsonl", "NPROC_PER_NODE": "4",
                                                "TOTAL_BATCH_SIZE": "64"}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert ns.gradient_accumulation_steps == 16 and global_batch(ns, launch) == 64


@pytest.mark.parametrize("script", SFT_RECIPES)
@pytest.mark.parametrize("env,message", [
    ({"NPROC_PER_NODE": "abc"}, "NPROC_PER_NODE must be a positive integer, got 'abc'"),
    ({"NPROC_PER_NODE": "0"}, "NPROC_PER_NODE must be a positive integer, got '0'"),
    ({"NPROC_PER_NODE": "-2"}, "NPROC_PER_NODE must be a positive integer"),
    ({"NNODES": "two"}, "NNODES must be a positive integer"),
    ({"NNODES": "2", "NODE_RANK": "0"}, "MASTER_ADDR"),
    ({"NNODES": "2", "MASTER_ADDR": "h", "NODE_RANK": "x"}, "NODE_RANK"),
    ({"MASTER_PORT": "99999"}, "MASTER_PORT"),
    ({"BATCH_SIZE": "0"}, "BATCH_SIZE must be a positive integer"),
    ({"GRAD_ACC": "1.5"}, "GRAD_ACC must be a positive integer"),
    ({"TOTAL_BATCH_SIZE": "lots"}, "TOTAL_BATCH_SIZE must be a positive integer"),
    ({"DEEPSPEED": "bogus"}, "DEEPSPEED=bogus"),
    ({"DEEPSPEED": "zero4", "NPROC_PER_NODE": "2"}, "DEEPSPEED=zero4"),
])
def test_bad_launch_values_are_refused_by_every_recipe(tmp_path, script, env, message):
    rc, _, _, _, err = dry_run(script, {"DATASET": "a.jsonl", **env}, tmp_path)
    assert rc == 2 and message in err, err
    assert "syntax error" not in err and "unbound variable" not in err  # a message, not a bash error


# ---------------------------------------------------------------- issue 19, case 18: what is printed is what runs

@pytest.mark.parametrize("script", SFT_RECIPES)
@pytest.mark.parametrize("value", ["ZERO3", "Zero2_Offload", "zero1"])
def test_deepspeed_names_are_normalised_to_ms_swift_names(tmp_path, swift_parser, script, value):
    rc, _, argv, _, err = dry_run(script, {"DATASET": "a.jsonl", "NPROC_PER_NODE": "2", "DEEPSPEED": value},
                                  tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert ns.deepspeed == value.lower()
    # the name ms-swift maps to its built-in config (SftArguments._init_deepspeed compares case-sensitively)
    assert (Path(__import__("swift").__file__).parent / "config" / f"{ns.deepspeed}.json").is_file()
    rc, _, argv, _, err = dry_run(script, {"DATASET": "a.jsonl", "NPROC_PER_NODE": "2", "DEEPSPEED": "None"},
                                  tmp_path)
    assert rc == 0 and "--deepspeed" not in argv, err


@pytest.mark.parametrize("script", SFT_RECIPES)
def test_target_modules_and_report_to_are_words_never_globs(tmp_path, swift_parser, script):
    for name in ("a.jsonl", "b.jsonl", "q_proj"):  # what `*` or `q_*` would expand to, unquoted
        (tmp_path / name).write_text("")
    rc, _, argv, _, err = dry_run(script, {"DATASET": "a.jsonl", "TARGET_MODULES": "*", "REPORT_TO": "none"},
                                  tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert ns.target_modules == ["*"] and ns.report_to == ["none"]
    rc, _, argv, _, err = dry_run(script, {"DATASET": "a.jsonl", "TARGET_MODULES": " q_* v_proj\to_proj ",
                                           "REPORT_TO": "tensorboard  wandb"}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert ns.target_modules == ["q_*", "v_proj", "o_proj"] and ns.report_to == ["tensorboard", "wandb"]
    rc, _, _, _, err = dry_run(script, {"DATASET": "a.jsonl", "TARGET_MODULES": "  "}, tmp_path)
    assert rc == 2 and "TARGET_MODULES" in err


@pytest.mark.parametrize("script,env", [("internvl2_8b/sft_lora_det.sh", {"DATASET": "a.jsonl"}),
                                        ("internvl2_8b/infer.sh", {"VAL_DATASET": "v.jsonl",
                                                                   "RESULT_PATH": "r.jsonl"})])
def test_internvl_prints_max_num_in_front_of_the_command(tmp_path, script, env):
    rc, launch, _, _, err = dry_run(script, env, tmp_path)
    assert rc == 0, err
    assert launch == {"MAX_NUM": "6"}  # without it a copied command trains with ms-swift's default of 12 tiles
    rc, launch, _, _, err = dry_run(script, {**env, "MAX_NUM": "12", "NPROC_PER_NODE": "2"}, tmp_path)
    assert rc == 0 and launch == {"NPROC_PER_NODE": "2", "MAX_NUM": "12"}, err
    rc, _, _, _, err = dry_run(script, {**env, "MAX_NUM": "six"}, tmp_path)
    assert rc == 2 and "MAX_NUM must be a positive integer" in err


def test_printed_command_pasted_into_bash_runs_the_same_command(tmp_path):
    """The line after ``+ `` is pasted into bash with a stand-in ``swift`` on PATH that records what it got: the
    same argv (spaces, ``*`` and quotes intact) and the environment the recipe depends on."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "record.json"
    fake = bin_dir / "swift"
    fake.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                    f"json.dump({{'argv': sys.argv[1:], 'env': {{k: os.environ.get(k) for k in "
                    f"('MAX_NUM', 'NPROC_PER_NODE', 'NNODES', 'NODE_RANK', 'MASTER_ADDR')}}}}, "
                    f"open({str(record)!r}, 'w'))\n")
    fake.chmod(0o755)
    data = tmp_path / "my receipts" / "train 'a'.jsonl"
    data.parent.mkdir()
    data.write_text("")
    env = {"DATASET": str(data), "TARGET_MODULES": "* q_proj", "NNODES": "2", "NODE_RANK": "1",
           "MASTER_ADDR": "10.0.0.1", "MAX_NUM": "4", "EXTRA_ARGS": "--system 'You are an OCR engine.'"}
    proc = subprocess.run(["bash", str(recipe_path("internvl2_8b/sft_lora_det.sh"))],
                          env={**{k: v for k, v in os.environ.items() if k not in LAUNCH_VARS}, "DRY_RUN": "1",
                               "SWIFT": "swift", **env}, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("+ "))[2:]
    clean = {k: v for k, v in os.environ.items() if k not in LAUNCH_VARS}
    clean["PATH"] = f"{bin_dir}{os.pathsep}{clean.get('PATH', '')}"
    subprocess.run(["bash", "-c", line], env=clean, cwd=tmp_path, check=True, timeout=60)
    got = json.loads(record.read_text())
    assert got["env"] == {"MAX_NUM": "4", "NPROC_PER_NODE": None, "NNODES": "2", "NODE_RANK": "1",
                          "MASTER_ADDR": "10.0.0.1"}
    words = shlex.split(line)
    while "=" in words[0]:
        words.pop(0)
    argv = got["argv"]
    assert words[0] == "swift" and argv == words[1:] and argv[0] == "sft"
    assert arg(argv, "--dataset") == str(data) and argv[argv.index("--target_modules") + 1:][:2] == ["*", "q_proj"]
    assert arg(argv, "--system") == "You are an OCR engine."


@pytest.mark.parametrize("script", SFT_RECIPES)
def test_dataset_paths_with_spaces(tmp_path, swift_parser, script):
    folder = tmp_path / "my receipts"
    folder.mkdir()
    for name in ("train 1.jsonl", "val 1.jsonl"):
        (folder / name).write_text("")
    # a single path with spaces, relative or absolute
    rc, _, argv, _, err = dry_run(script, {"DATASET": "my receipts/train 1.jsonl",
                                           "VAL_DATASET": str(folder / "val 1.jsonl")}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert ns.dataset == ["my receipts/train 1.jsonl"] and ns.val_dataset == [str(folder / "val 1.jsonl")]
    # one per line (blank lines and surrounding blanks ignored)
    spec = "swift-ocr/icdar:/d?family=got"
    rc, _, argv, _, err = dry_run(script, {"DATASET": f"\n  {folder / 'train 1.jsonl'}\n\n{spec}\n"}, tmp_path)
    assert rc == 0, err
    assert swift_parser("SftArguments", argv).dataset == [str(folder / "train 1.jsonl"), spec]
    # space separated, as before
    rc, _, argv, _, err = dry_run(script, {"DATASET": "a.jsonl  b.jsonl"}, tmp_path)
    assert rc == 0 and swift_parser("SftArguments", argv).dataset == ["a.jsonl", "b.jsonl"], err
    rc, _, _, _, err = dry_run(script, {"DATASET": " \n "}, tmp_path)
    assert rc == 2 and "set DATASET" in err


@pytest.mark.parametrize("script", ["got_ocr2/infer.sh", "internvl2_8b/infer.sh"])
def test_infer_val_dataset_with_spaces(tmp_path, swift_parser, script):
    val = tmp_path / "my val" / "v 1.jsonl"
    val.parent.mkdir()
    val.write_text("")
    rc, _, argv, _, err = dry_run(script, {"VAL_DATASET": str(val), "RESULT_PATH": "out dir/r 1.jsonl"}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("InferArguments", argv)
    assert ns.val_dataset == [str(val)] and ns.result_path == str(tmp_path / "out dir" / "r 1.jsonl")
    rc, _, argv, _, err = dry_run(script, {"VAL_DATASET": f"{val}\nother.jsonl", "RESULT_PATH": "r.jsonl"}, tmp_path)
    assert rc == 0 and swift_parser("InferArguments", argv).val_dataset == [str(val), "other.jsonl"], err
