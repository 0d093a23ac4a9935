"""The DeepSeek-OCR environment (``.venv-deepseek-ocr``: ``make venv-deepseek-ocr``, built by ``make test``;
docs/deepseek_ocr_env.md): what can be checked on a CPU without the model.

ms-swift 4.6.0's ``deepseek_ocr`` model needs transformers==4.46.3 (``requires`` in swift/model/models/deepseek.py),
so it cannot share the main environment (transformers 5.19). Checked here, inside that environment
(tests/envs/deepseek_ocr_probe.py, run by its Python): the pinned stack is what constraints/deepseek_ocr.txt says and
is consistent; ms-swift's requirements for the model and the remote code's version-sensitive imports are met; the
swift-ocr plugin imports and registers; the recipes' ``swift sft`` commands (recipes/deepseek_ocr, DRY_RUN) pass
ms-swift's argument parser, and their RESOLUTION_MODE reaches ms-swift's DeepseekOCR template with the image-token
counts swift-ocr computes; swift-ocr's prompts, codec and token arithmetic give the same answers in both environments;
the real ``swift sft`` launcher of that environment runs the recipe up to the model download (the hub is offline here).

Without the environment every test here is skipped, saying how to build it; under CI (``CI`` set, where ``make test``
builds it first) its absence is a failure.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DS_VENV = Path(os.environ.get("SWIFT_OCR_DEEPSEEK_VENV", REPO / ".venv-deepseek-ocr"))
DS_PY = DS_VENV / "bin" / "python"
PROBE = Path(__file__).resolve().with_name("deepseek_ocr_probe.py")
CONSTRAINTS = REPO / "constraints" / "deepseek_ocr.txt"
RECIPES = REPO / "recipes" / "deepseek_ocr"
#: Recipe settings taken from the caller's environment: cleared so that the tests see the defaults.
CLEAR = ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "DEEPSPEED", "DDP_BACKEND",
         "CUSTOM_REGISTER_PATH", "EXTRA_ARGS", "DATASET", "VAL_DATASET", "SPLIT_DATASET_RATIO", "RESULT_PATH", "MODEL",
         "ADAPTERS", "RESUME", "RESOLUTION_MODE", "CROP_MODE", "BASE_SIZE", "IMAGE_SIZE", "EVAL_METRIC", "STREAMING",
         "MAX_STEPS", "SWIFT_OCR_FAMILY", "OUTPUT_DIR", "ADD_VERSION")
#: DeepSeek-OCR's resolution modes (recipes/deepseek_ocr/resolution.sh; DeepSeek-OCR README): the environment the
#: recipe gives ms-swift, and the image tokens of an image of at most 640 px a side (one global view, no crops).
MODES = {"tiny": ({"CROP_MODE": "false", "BASE_SIZE": "512", "IMAGE_SIZE": "512"}, 73),
         "small": ({"CROP_MODE": "false", "BASE_SIZE": "640", "IMAGE_SIZE": "640"}, 111),
         "base": ({"CROP_MODE": "false", "BASE_SIZE": "1024", "IMAGE_SIZE": "1024"}, 273),
         "large": ({"CROP_MODE": "false", "BASE_SIZE": "1280", "IMAGE_SIZE": "1280"}, 421),
         "gundam": ({"CROP_MODE": "true", "BASE_SIZE": "1024", "IMAGE_SIZE": "640"}, 273)}


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CLEAR}
    env.update({"CUDA_VISIBLE_DEVICES": "", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **extra})
    return env


@pytest.fixture(scope="module")
def ds_python() -> Path:
    if DS_PY.is_file():
        return DS_PY
    msg = f"no DeepSeek-OCR environment at {DS_VENV}: build it with `make venv-deepseek-ocr` (`make test` does)"
    if os.environ.get("CI"):
        pytest.fail(msg + "; under CI `make test` must have built it")
    pytest.skip(msg)


def _dry_run(script: str, tmp: Path, **env) -> list:
    """``swift sft`` arguments (after the subcommand) that a DeepSeek-OCR recipe prints with DRY_RUN=1."""
    path = RECIPES / script
    if not path.is_file():
        pytest.skip(f"{path.relative_to(REPO)} is not in this checkout")
    proc = subprocess.run(["bash", str(path)], env=_clean_env(DRY_RUN="1", SWIFT="swift", **env), cwd=tmp,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("+ ")]
    words = shlex.split(line[2:])
    while "=" in words[0] and not words[0].startswith("-"):
        words.pop(0)
    assert words[:2] == ["swift", "sft"], words
    return words[2:]


@pytest.fixture(scope="module")
def recipe_argvs(tmp_path_factory):
    """``{case: argv}``: sft_lora.sh in each RESOLUTION_MODE (and its default) with a validation set, so that the
    OCR metric and the swift-ocr plugin are on the command line; sft_lora_det.sh with its defaults."""
    tmp = tmp_path_factory.mktemp("deepseek_recipes")
    out = {"default": _dry_run("sft_lora.sh", tmp, DATASET="train.jsonl", VAL_DATASET="val.jsonl")}
    for mode in MODES:
        out[mode] = _dry_run("sft_lora.sh", tmp, DATASET="train.jsonl", VAL_DATASET="val.jsonl",
                             RESOLUTION_MODE=mode)
    out["det"] = _dry_run("sft_lora_det.sh", tmp, DATASET="train.jsonl", VAL_DATASET="val.jsonl")
    return out


@pytest.fixture(scope="module")
def probe(ds_python, recipe_argvs, tmp_path_factory):
    """The probe's answer, run once in the DeepSeek-OCR environment over every recipe command."""
    out = tmp_path_factory.mktemp("deepseek_probe") / "probe.json"
    cases = list(recipe_argvs)
    request = json.dumps({"argvs": list(recipe_argvs.values())})
    proc = subprocess.run([str(ds_python), str(PROBE), str(out)], input=request, env=_clean_env(), cwd=out.parent,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    result["parsed"] = dict(zip(cases, result["parsed"]))
    return result


def _pins() -> dict:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*([A-Za-z0-9._-]+)==([^\s#;]+)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def _probe_module():
    spec = importlib.util.spec_from_file_location("_swift_ocr_deepseek_ocr_probe", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stack_is_the_pinned_one(probe):
    pins = _pins()
    assert {"ms-swift", "transformers", "easydict", "peft", "trl"} <= set(pins)
    stack = probe["stack"]
    for name, version in pins.items():
        assert stack[name] == version, (name, stack[name], version)
    assert stack["torch"].split("+")[0] == "2.13.0"  # the Makefile's TORCH_SPEC, installed first


def test_only_swift_ocrs_own_main_pins_are_unmet(ds_python):
    """swift-ocr goes in with --no-deps: pip check names its transformers/trl/peft pins of the main environment, and
    nothing else (every other package's requirements hold)."""
    proc = subprocess.run([str(ds_python), "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert lines and all(ln.startswith("swift-ocr ") for ln in lines), proc.stdout
    unmet = {re.match(r"swift-ocr \S+ has requirement ([A-Za-z0-9._-]+)", ln).group(1).lower() for ln in lines}
    assert "transformers" in unmet and unmet <= set(_pins()), unmet


def test_ms_swift_requirements_of_the_model_are_met(probe):
    req = probe["requires"]
    assert req["template"] == "deepseek_ocr"
    assert "transformers==4.46.3" in req["requires"] and all(req["met"].values()), req
    assert set(probe["remote_code"].values()) == {"ok"}, probe["remote_code"]


def test_the_main_environment_cannot_run_it():
    """Why a second environment: here transformers is 5.x, which ms-swift's requirement refuses and where the remote
    code's ``LlamaFlashAttention2`` import fails."""
    from transformers.utils.versions import require_version

    with pytest.raises(ImportError):
        require_version("transformers==4.46.3")
    with pytest.raises(ImportError):
        from transformers.models.llama.modeling_llama import LlamaFlashAttention2  # noqa: F401


def test_plugin_imports_and_registers(probe):
    from swift_ocr.msswift.plugin import plugin_path, register_all

    plugin = probe["plugin"]
    assert plugin["path"] == plugin_path()
    assert plugin["names"] == register_all()  # the same names as in the main environment
    assert all(plugin["names"][kind] for kind in ("datasets", "templates", "metrics", "callbacks"))
    assert plugin["missing"] == {"datasets": [], "templates": [], "metrics": [], "callbacks": []}


def test_recipe_commands_pass_ms_swift_parser(probe, recipe_argvs):
    for case, parsed in probe["parsed"].items():
        assert parsed["remaining"] == [], (case, parsed["remaining"])
        values = parsed["values"]
        assert (values["model_type"], values["template"], values["tuner_type"]) == ("deepseek_ocr",) * 2 + ("lora",)
        assert values["eval_metric"] == ("ocr_det" if case == "det" else "ocr")
        assert values["custom_register_path"], case  # the OCR metric is the plugin's
        for path in values["custom_register_path"]:
            assert Path(path).is_file(), f"{case}: --custom_register_path {path} does not exist"


def test_resolution_mode_reaches_the_template(probe):
    """RESOLUTION_MODE -> --model_kwargs -> the environment ms-swift sets -> DeepseekOCR's settings and its image
    tokens, equal to swift-ocr's arithmetic (computed here, in the main environment) for every size."""
    from swift_ocr.validate.token_budget import ImageTokenParams, image_tokens

    parsed = probe["parsed"]
    assert parsed["default"]["mode_env"] == MODES["gundam"][0]  # ms-swift's own defaults
    for case, result in parsed.items():
        env = result["mode_env"]
        if case in MODES:
            assert env == MODES[case][0], case
        params = ImageTokenParams.from_env(env)
        tokens = {k: v for k, v in result["template_tokens"].items() if k != "settings"}
        ours = {k: image_tokens("deepseek_ocr", *map(int, k.split("x")), params) for k in tokens}
        assert tokens == ours, case
        settings = result["template_tokens"]["settings"]
        assert settings == {"crop_mode": env["CROP_MODE"] == "true", "base_size": int(env["BASE_SIZE"]),
                            "image_size": int(env["IMAGE_SIZE"])}, case
    for mode, (_, small_image) in MODES.items():
        assert parsed[mode]["template_tokens"]["100x100"] == small_image, mode
    assert parsed["gundam"]["template_tokens"]["1280x720"] > parsed["large"]["template_tokens"]["1280x720"]


def test_answers_are_the_same_in_both_environments(probe):
    here = json.loads(json.dumps(_probe_module().answers(), ensure_ascii=False, default=str))
    assert probe["answers"] == here
    assert here["rec_prompt"] == "Free OCR." and here["target"].startswith("<|ref|>TOTAL 9.00<|/ref|><|det|>[[")


def test_swift_sft_of_that_environment_runs_the_recipe_to_the_model_download(ds_python, tmp_path):
    """The recipe with SWIFT=<that environment's swift>: ms-swift's launcher starts, imports the swift-ocr plugin
    (--custom_register_path), accepts every argument and stops only where the model is fetched (the hub is offline
    here: HF_HUB_OFFLINE=1, USE_HF=1 so that no ModelScope request is tried)."""
    recipe = RECIPES / "sft_lora.sh"
    if not recipe.is_file():
        pytest.skip(f"{recipe.relative_to(REPO)} is not in this checkout")
    swift = ds_python.parent / "swift"
    env = _clean_env(SWIFT=str(swift), USE_HF="1", DATASET="train.jsonl", VAL_DATASET="val.jsonl",
                     OUTPUT_DIR=str(tmp_path / "out"))
    proc = subprocess.run(["bash", str(recipe)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    log = proc.stdout + proc.stderr
    from swift_ocr.msswift.plugin import plugin_path

    assert proc.returncode != 0, log[-3000:]
    assert "Successfully imported external_plugins" in log and plugin_path() in log, log[-3000:]
    errors = [ln for ln in log.splitlines() if re.match(r"^[A-Za-z_.]+(Error|Exception): ", ln)]
    assert errors and "LocalEntryNotFoundError" in errors[-1], log[-3000:]
    assert "deepseek-ai/DeepSeek-OCR" in log
