"""The GOT-OCR2 recipes' launch settings are what ms-swift 4.6 and torchrun accept (CPU only, nothing is trained).

Each recipe runs with ``DRY_RUN=1``, which prints the exact ``swift`` command (prefixed with the launch variables
ms-swift's launcher reads) and exits. The printed arguments are then parsed by ms-swift's own argument parser
(``HfArgumentParser`` over ``SftArguments`` / ``InferArguments`` / ``ExportArguments``, as
``swift.utils.parse_args`` builds it) up to -- not including -- constructing the dataclass, whose
``__post_init__`` would load the model and require DeepSpeed to be installed. The launch variables go through
ms-swift's ``get_torchrun_args`` and torch's own ``torch.distributed.run`` parser; ``DEEPSPEED`` names must be
ms-swift's built-in config files.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes" / "got_ocr2"
LAUNCH_VARS = ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "CUSTOM_REGISTER_PATH",
               "CUDA_VISIBLE_DEVICES", "DEEPSPEED", "STREAMING", "MAX_STEPS", "LAZY_TOKENIZE")


def dry_run(script: str, env: dict, cwd: Path):
    """Run a recipe with DRY_RUN=1; returns ``(exit code, launch variables, swift argv after the subcommand,
    subcommand, stderr)``."""
    full = {k: v for k, v in os.environ.items() if k not in LAUNCH_VARS}
    full.update({"DRY_RUN": "1", "SWIFT": "swift", **env})
    proc = subprocess.run(["bash", str(RECIPES / script)], env=full, cwd=cwd, capture_output=True, text=True,
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


@pytest.fixture(scope="module")
def swift_parser():
    """``parse(args_class_name, argv) -> namespace`` with ms-swift's parser; fails on any unknown argument or a
    value its type does not accept."""
    from transformers import HfArgumentParser

    import swift.arguments as swift_args
    from swift.utils import utils as swift_utils

    parsers = {}

    def parse(name: str, argv):
        if name not in parsers:
            with swift_utils._patch_get_type_hints():
                parsers[name] = HfArgumentParser([getattr(swift_args, name)])
        namespace, remaining = parsers[name].parse_known_args(argv)
        assert remaining == [], f"ms-swift does not know {remaining}"
        return namespace

    return parse


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
