"""The DeepSeek-OCR, Qwen2.5-VL and PaddleOCR-VL recipes (recipes/{deepseek_ocr,qwen2_5_vl,paddleocr_vl}/) print ms-swift
4.6 commands with the family's model_type and template that ms-swift's own argument parser accepts (CPU only, nothing
is trained), and their resolution setting flows from training to merge and inference through the run folder.

Each recipe runs with ``DRY_RUN=1`` (the exact ``swift`` command after ``+ ``, then exit). The printed arguments are
parsed by ms-swift's ``HfArgumentParser`` over ``SftArguments`` / ``InferArguments`` / ``ExportArguments`` (as
tests/recipes/test_launch_args.py does); ``--model_kwargs`` is read with ms-swift's ``json_parse_to_dict`` and given to
the family's image settings (swift_ocr/families/), which is what ms-swift's templates read from the environment.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes"
PLUGIN = str(REPO / "swift_ocr" / "msswift" / "_plugin" / "swift_ocr_plugin.py")
# settings the recipes read: never inherited from the environment pytest runs in
RECIPE_VARS = ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "CUSTOM_REGISTER_PATH",
               "CUDA_VISIBLE_DEVICES", "DEEPSPEED", "MAX_STEPS", "BATCH_SIZE", "TOTAL_BATCH_SIZE", "GRAD_ACC", "DATASET",
               "VAL_DATASET", "RESULT_PATH", "OVERWRITE", "ADAPTERS", "CHECKPOINT", "OUTPUT_DIR", "ADD_VERSION",
               "EXTRA_ARGS", "RESUME", "INFER_BACKEND", "EVAL_METRIC", "MODEL", "MODEL_TYPE", "TEMPLATE", "MAX_PIXELS",
               "MIN_PIXELS", "RESOLUTION_MODE", "BASE_SIZE", "IMAGE_SIZE", "CROP_MODE", "MERGE_LORA", "MAX_BATCH_SIZE",
               "MAX_LENGTH", "SWIFT_OCR_FAMILY", "KEEP_COLUMNS", "SPLIT_DATASET_RATIO", "PADDING_FREE", "ATTN_IMPL")

#: folder -> (ms-swift model_type, template, default model)
FAMILIES = {
    "qwen2_5_vl": ("qwen2_5_vl", "qwen2_5_vl", "Qwen/Qwen2.5-VL-7B-Instruct"),
    "deepseek_ocr": ("deepseek_ocr", "deepseek_ocr", "deepseek-ai/DeepSeek-OCR"),
    "paddleocr_vl": ("paddleocr_vl", "paddle_ocr_1_5_compat", "PaddlePaddle/PaddleOCR-VL-1.5"),
}
SFT = [f"{family}/{script}" for family in FAMILIES for script in ("sft_lora.sh", "sft_lora_det.sh")]


def dry_run(script: str, env: dict, cwd: Path):
    """Run ``recipes/<script>`` with DRY_RUN=1; returns ``(exit code, env printed in front, swift argv after the
    subcommand, subcommand, stderr)``."""
    full = {k: v for k, v in os.environ.items() if k not in RECIPE_VARS}
    full.update({"DRY_RUN": "1", "SWIFT": "swift", **env})
    proc = subprocess.run(["bash", str(RECIPES / script)], env=full, cwd=cwd, capture_output=True, text=True,
                          timeout=60)
    if proc.returncode != 0:
        return proc.returncode, {}, [], None, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("+ ")]
    assert len(lines) == 1, proc.stdout
    words = shlex.split(lines[0][2:])
    front = {}
    while "=" in words[0] and not words[0].startswith("-"):
        key, value = words.pop(0).split("=", 1)
        front[key] = value
    assert words[0] == "swift", words
    return 0, front, words[2:], words[1], proc.stderr


def model_kwargs(ns) -> dict:
    """``--model_kwargs`` as ms-swift reads it (``BaseArguments._init_model_kwargs``: each key becomes an upper-case
    environment variable)."""
    from swift.utils import json_parse_to_dict

    return {k.upper(): str(v) for k, v in json_parse_to_dict(ns.model_kwargs).items()}


def checkpoint(tmp_path: Path, name: str, recorded: dict = None, step: int = 0) -> Path:
    """A LoRA checkpoint folder as `swift sft` leaves it: adapter_config.json and args.json (with ``model_kwargs`` as
    ms-swift saves them: the parsed dict), and trainer_state.json when ``step``."""
    ckpt = tmp_path / name
    ckpt.mkdir(parents=True)
    (ckpt / "adapter_config.json").write_text("{}")
    (ckpt / "args.json").write_text(json.dumps({"model_kwargs": recorded or {}, "swift_version": "4.6.0"}))
    if step:
        (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return ckpt


# ----------------------------------------------------------------------------- every recipe: names ms-swift accepts


@pytest.mark.parametrize("family", FAMILIES)
def test_family_names_are_ms_swifts(family):
    """The model types and templates the recipes print exist in ms-swift 4.6 (the plugin's compat template once the
    plugin registered it), and the family module names the same ones."""
    from swift.model import MODEL_MAPPING
    from swift.template import TEMPLATE_MAPPING

    from swift_ocr.families import family_for_template, get_family
    from swift_ocr.msswift.templates import register_templates

    register_templates()
    model_type, template, _ = FAMILIES[family]
    assert model_type in MODEL_MAPPING and template in TEMPLATE_MAPPING
    spec = get_family(family)
    assert spec.model_type == model_type and spec.recipe == family and (RECIPES / spec.recipe).is_dir()
    assert family_for_template(template) == family  # so --eval_metric ocr_det decodes with the family's codec


@pytest.mark.parametrize("script", SFT)
def test_sft_commands_parse_with_the_family_defaults(tmp_path, swift_parser, script):
    family = script.split("/")[0]
    model_type, template, model = FAMILIES[family]
    rc, front, argv, sub, err = dry_run(script, {"DATASET": "train.jsonl", "VAL_DATASET": "val.jsonl"}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert sub == "sft" and (ns.model, ns.model_type, ns.template) == (model, model_type, template)
    # LoRA on the language model, vision encoder and projector frozen (ms-swift's own examples for the three)
    assert ns.tuner_type == "lora" and ns.target_modules == ["all-linear"]
    assert (ns.freeze_llm, ns.freeze_vit, ns.freeze_aligner) == (False, True, True)
    assert (ns.lora_rank, ns.lora_alpha, ns.learning_rate) == (8, 32, 1e-4)
    det = script.endswith("_det.sh")
    assert ns.max_length == (8192 if det else 4096)
    assert ns.eval_metric == ("ocr_det" if det else "ocr") and ns.predict_with_generate is True
    assert ns.output_dir == str(tmp_path / "output" / f"{family}_lora{'_det' if det else ''}")
    assert ns.per_device_train_batch_size * ns.gradient_accumulation_steps == 16
    assert PLUGIN in ns.custom_register_path  # the OCR metrics (and the paddle compat template) are the plugin's
    if family == "paddleocr_vl" and det:
        assert front == {"SWIFT_OCR_FAMILY": "paddleocr_vl"}
    else:
        assert front == {}


@pytest.mark.parametrize("script", SFT)
def test_several_gpus_and_machines_as_the_other_recipes(tmp_path, swift_parser, script):
    env = {"DATASET": "a.jsonl", "NPROC_PER_NODE": "4", "NNODES": "2", "NODE_RANK": "1", "MASTER_ADDR": "10.0.0.1"}
    rc, front, argv, _, err = dry_run(script, env, tmp_path)
    assert rc == 0, err
    ns = swift_parser("SftArguments", argv)
    assert {k: front[k] for k in ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR")} == {
        k: env[k] for k in ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR")}
    assert ns.deepspeed == "zero2"
    assert ns.per_device_train_batch_size * 8 * ns.gradient_accumulation_steps >= 16
    rc, _, _, _, err = dry_run(script, {"DATASET": "a.jsonl", "NNODES": "2", "NODE_RANK": "0"}, tmp_path)
    assert rc == 2 and "MASTER_ADDR" in err


@pytest.mark.parametrize("family", FAMILIES)
def test_merge_and_infer_commands_parse(tmp_path, swift_parser, family):
    model_type, template, model = FAMILIES[family]
    ckpt = checkpoint(tmp_path, "run/checkpoint-10")
    rc, _, argv, sub, err = dry_run(f"{family}/merge.sh", {"ADAPTERS": str(ckpt)}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("ExportArguments", argv)
    assert sub == "export" and ns.merge_lora is True and ns.adapters == [str(ckpt)]
    assert ns.output_dir == f"{ckpt}-merged"
    rc, _, argv, sub, err = dry_run(f"{family}/infer.sh", {"VAL_DATASET": "val.jsonl", "RESULT_PATH": "r.jsonl"},
                                    tmp_path)
    assert rc == 0, err
    ns = swift_parser("InferArguments", argv)
    assert sub == "infer" and (ns.model, ns.model_type, ns.template) == (model, model_type, template)
    assert ns.val_dataset == ["val.jsonl"] and ns.remove_unused_columns is False  # det rows keep their tile field


# ----------------------------------------------------------------------------- inference throughput defaults


@pytest.mark.parametrize("family,backend,batch", [("qwen2_5_vl", "vllm", 8), ("paddleocr_vl", "vllm", 16),
                                                  ("deepseek_ocr", "transformers", 8)])
def test_infer_backend_defaults(tmp_path, swift_parser, family, backend, batch):
    """vLLM where ms-swift runs the family on it; DeepSeek-OCR's pinned transformers 4.46.3 cannot host vLLM's
    DeepSeek-OCR support, so it batches on the transformers backend."""
    rc, _, argv, _, err = dry_run(f"{family}/infer.sh", {"VAL_DATASET": "v.jsonl", "RESULT_PATH": "r.jsonl"}, tmp_path)
    assert rc == 0, err
    ns = swift_parser("InferArguments", argv)
    assert ns.infer_backend == backend and ns.max_batch_size == batch
    if backend == "vllm":
        assert ns.vllm_max_model_len == 8192 and ns.vllm_gpu_memory_utilization == 0.9
        assert json.loads(ns.vllm_limit_mm_per_prompt) == {"image": 1}
    else:
        assert "--vllm_max_model_len" not in argv
    # a LoRA checkpoint under vLLM is merged first unless told otherwise
    ckpt = checkpoint(tmp_path, "ckpt")
    for env, merged in (({}, backend == "vllm"), ({"MERGE_LORA": "false"}, False),
                        ({"INFER_BACKEND": "transformers"}, False)):
        rc, _, argv, _, err = dry_run(f"{family}/infer.sh", {"VAL_DATASET": "v.jsonl", "RESULT_PATH": "r.jsonl",
                                                             "ADAPTERS": str(ckpt), **env}, tmp_path)
        assert rc == 0, err
        ns = swift_parser("InferArguments", argv)
        assert ns.merge_lora is merged and ns.adapters == [str(ckpt)]


def test_paddleocr_vl_recipes_load_the_plugin_for_the_compat_template(tmp_path, swift_parser):
    for script, env, cls in (("sft_lora.sh", {"DATASET": "a.jsonl"}, "SftArguments"),
                             ("infer.sh", {"VAL_DATASET": "v.jsonl", "RESULT_PATH": "r.jsonl"}, "InferArguments"),
                             ("merge.sh", {"ADAPTERS": str(checkpoint(tmp_path, "c"))}, "ExportArguments")):
        rc, _, argv, _, err = dry_run(f"paddleocr_vl/{script}", env, tmp_path)
        assert rc == 0, err
        assert swift_parser(cls, argv).custom_register_path == [PLUGIN], script
        rc, _, argv, _, err = dry_run(f"paddleocr_vl/{script}", {**env, "CUSTOM_REGISTER_PATH": "none",
                                                                 "TEMPLATE": "paddle_ocr_1_5"}, tmp_path)
        assert rc == 0 and "--custom_register_path" not in argv, err


# ----------------------------------------------------------------------------- Qwen2.5-VL: MAX_PIXELS / MIN_PIXELS


def test_qwen_pixel_bounds_flow_from_training_to_inference_and_scoring(tmp_path, swift_parser):
    from swift_ocr.families import get_family

    rc, _, argv, _, err = dry_run("qwen2_5_vl/sft_lora_det.sh", {"DATASET": "a.jsonl", "MAX_PIXELS": "802816"},
                                  tmp_path)
    assert rc == 0, err
    recorded = model_kwargs(swift_parser("SftArguments", argv))
    assert recorded == {"MAX_PIXELS": "802816", "MIN_PIXELS": "3136"}
    # what ms-swift's processor sees is what the family's codec scores with (the ocr_det metric reads the same env)
    codec = get_family("qwen2_5_vl").codec_for_env(recorded)
    assert (codec.min_pixels, codec.max_pixels) == (3136, 802816)
    # merge and infer read the bounds back from the checkpoint; a merged model carries them in its args.json
    ckpt = checkpoint(tmp_path, "run/checkpoint-4", recorded)
    merged = checkpoint(tmp_path, "run/checkpoint-4-merged", recorded)
    for script, env, cls in (("merge.sh", {"ADAPTERS": str(ckpt)}, "ExportArguments"),
                             ("infer.sh", {"ADAPTERS": str(ckpt), "VAL_DATASET": "v.jsonl", "RESULT_PATH": "r.jsonl"},
                              "InferArguments"),
                             ("infer.sh", {"MODEL": str(merged), "VAL_DATASET": "v.jsonl", "RESULT_PATH": "r.jsonl"},
                              "InferArguments")):
        rc, _, argv, _, err = dry_run(f"qwen2_5_vl/{script}", env, tmp_path)
        assert rc == 0, err
        assert model_kwargs(swift_parser(cls, argv)) == recorded, script
        assert "MAX_PIXELS=802816, as recorded in" in err
    # an explicit other value wins, with a warning naming the recorded one
    rc, _, argv, _, err = dry_run("qwen2_5_vl/infer.sh", {"ADAPTERS": str(ckpt), "MAX_PIXELS": "1003520",
                                                          "VAL_DATASET": "v.jsonl", "RESULT_PATH": "r.jsonl"}, tmp_path)
    assert rc == 0 and model_kwargs(swift_parser("InferArguments", argv))["MAX_PIXELS"] == "1003520"
    assert "warning: MAX_PIXELS=1003520 differs from MAX_PIXELS=802816" in err
    # the base model (no recorded bounds): the codec's defaults (convert --task det uses them when MAX_PIXELS /
    # MIN_PIXELS are exported so: tests/test_qwen_pixels_flow.py)
    rc, _, argv, _, err = dry_run("qwen2_5_vl/infer.sh", {"VAL_DATASET": "v.jsonl", "RESULT_PATH": "r.jsonl"}, tmp_path)
    default = get_family("qwen2_5_vl").make_codec()
    assert model_kwargs(swift_parser("InferArguments", argv)) == {"MAX_PIXELS": str(default.max_pixels),
                                                                  "MIN_PIXELS": str(default.min_pixels)}
    rc, _, _, _, err = dry_run("qwen2_5_vl/sft_lora.sh", {"DATASET": "a.jsonl", "MAX_PIXELS": "1e6"}, tmp_path)
    assert rc == 2 and "MAX_PIXELS" in err


# ----------------------------------------------------------------------------- DeepSeek-OCR: the resolution mode


#: DeepSeek-OCR's modes (its README) and the image tokens of ms-swift's deepseek_ocr template for a page that fits in
#: one 640 px crop: (n + 1) * n + 1 with n = ceil(size / 16 / 4) queries per side (swift/template/templates/deepseek.py).
MODES = {"tiny": ("512", "512", "false", 73), "small": ("640", "640", "false", 111),
         "base": ("1024", "1024", "false", 273), "large": ("1280", "1280", "false", 421),
         "gundam": ("1024", "640", "true", 273)}


@pytest.mark.parametrize("mode", MODES)
def test_deepseek_resolution_modes(tmp_path, swift_parser, mode):
    from swift_ocr.families import get_family

    base, image, crop, tokens = MODES[mode]
    rc, _, argv, _, err = dry_run("deepseek_ocr/sft_lora.sh", {"DATASET": "a.jsonl", "RESOLUTION_MODE": mode.upper()},
                                  tmp_path)
    assert rc == 0, err
    kwargs = model_kwargs(swift_parser("SftArguments", argv))
    assert kwargs == {"CROP_MODE": crop, "BASE_SIZE": base, "IMAGE_SIZE": image}
    spec = get_family("deepseek_ocr")  # validate's arithmetic under the environment ms-swift gets
    assert spec.image_tokens(600, 400, spec.image_settings(kwargs)) == tokens
    assert f"RESOLUTION_MODE={mode} " in err


def test_deepseek_mode_is_recorded_and_reused_by_merge_infer_and_resume(tmp_path, swift_parser):
    rc, _, _, _, err = dry_run("deepseek_ocr/infer.sh", {"VAL_DATASET": "v.jsonl", "RESULT_PATH": "r.jsonl",
                                                         "RESOLUTION_MODE": "huge"}, tmp_path)
    assert rc == 2 and "RESOLUTION_MODE must be tiny, small, base, large or gundam" in err
    base = {"CROP_MODE": False, "BASE_SIZE": 1024, "IMAGE_SIZE": 1024}  # as ms-swift saves a parsed JSON: typed
    ckpt = checkpoint(tmp_path, "out/v0-1/checkpoint-6", base, step=6)
    want = {"CROP_MODE": "false", "BASE_SIZE": "1024", "IMAGE_SIZE": "1024"}
    for script, env, cls in (("merge.sh", {"ADAPTERS": str(ckpt)}, "ExportArguments"),
                             ("infer.sh", {"ADAPTERS": str(ckpt), "VAL_DATASET": "v.jsonl", "RESULT_PATH": "r.jsonl"},
                              "InferArguments"),
                             ("sft_lora.sh", {"DATASET": "a.jsonl", "RESUME": "auto",
                                              "OUTPUT_DIR": str(tmp_path / "out")}, "SftArguments")):
        rc, _, argv, _, err = dry_run(f"deepseek_ocr/{script}", env, tmp_path)
        assert rc == 0, err
        ns = swift_parser(cls, argv)
        assert model_kwargs(ns) == want and "RESOLUTION_MODE=base " in err, script
    assert ns.resume_from_checkpoint == str(ckpt)
    rc, _, argv, _, err = dry_run("deepseek_ocr/infer.sh", {"ADAPTERS": str(ckpt), "RESOLUTION_MODE": "gundam",
                                                            "VAL_DATASET": "v.jsonl", "RESULT_PATH": "r.jsonl"},
                                  tmp_path)
    assert rc == 0 and model_kwargs(swift_parser("InferArguments", argv))["CROP_MODE"] == "true"
    assert "warning: CROP_MODE=true differs from CROP_MODE=false" in err
