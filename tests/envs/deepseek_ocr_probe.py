"""Checks run INSIDE the DeepSeek-OCR environment (``.venv-deepseek-ocr``, ``make venv-deepseek-ocr``) by
tests/envs/test_deepseek_ocr_env.py; not a test module itself (no ``test_`` prefix).

``python deepseek_ocr_probe.py OUT.json`` reads a JSON request ``{"argvs": [[...], ...]}`` on stdin (``swift sft``
argument lists after the subcommand, e.g. the DeepSeek-OCR recipes' DRY_RUN commands) and writes one JSON object to
OUT.json (ms-swift logs to stdout, so the answer goes to a file):

* ``stack``: versions of the pinned packages (constraints/deepseek_ocr.txt);
* ``requires``: ms-swift 4.6.0's ``deepseek_ocr`` model meta (``requires``, its template) and, for each requirement,
  whether transformers' ``require_version`` (what ``ModelMeta.check_requires`` calls) accepts this environment;
* ``remote_code``: the imports DeepSeek-OCR's remote code needs that break on newer transformers (``LlamaFlashAttention2``
  in ``modeling_deepseekv2.py``) and its extra packages;
* ``plugin``: the swift-ocr plugin file imported the way ``--custom_register_path`` does (``import_external_file``) and
  where its names landed in ms-swift's registries;
* ``parsed``: each argv through ms-swift's own parser over ``SftArguments`` (``HfArgumentParser``, no
  ``__post_init__``: nothing is loaded) - unknown arguments, a few values, and the image-token counts that ms-swift's
  ``DeepseekOCR`` template computes for some image sizes after ms-swift has set the argv's ``--model_kwargs`` into
  the environment (``BaseArguments._init_model_kwargs``), as ``swift sft`` does before it builds the template;
* ``answers``: :func:`answers`, swift-ocr's DeepSeek-OCR prompts, codec and token arithmetic (the test computes the
  same in the main environment and compares).
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List

#: Image sizes (width, height) whose image tokens are compared: square, landscape, portrait, below the 640 px crop
#: threshold, very wide and very tall.
SIZES = [(640, 640), (1280, 720), (720, 1280), (600, 800), (463, 1013), (2000, 300), (300, 2000), (100, 100),
         (3000, 2000)]
#: ms-swift's DeepseekOCR template settings read from the environment (DeepseekOCR.init_env_args).
MODE_VARS = ("CROP_MODE", "BASE_SIZE", "IMAGE_SIZE")


def answers() -> Dict[str, Any]:
    """swift-ocr's DeepSeek-OCR answers that must not depend on the environment (transformers 5.19 or 4.46.3)."""
    from swift_ocr.codecs import get_codec
    from swift_ocr.families import family_for_template
    from swift_ocr.families.prompts import build_query, det_prompt, det_system, rec_prompt
    from swift_ocr.sample import Region
    from swift_ocr.validate.token_budget import ImageTokenParams, estimate_row, image_tokens

    size = (1280, 720)
    regions = [Region([(10.0, 10.0), (200.0, 10.0), (200.0, 40.0), (10.0, 40.0)], "TOTAL 9.00"),
               Region([(640.5, 360.0), (1279.0, 360.0), (1279.0, 719.0), (640.5, 719.0)], "税额 6%")]
    codec = get_codec("deepseek_ocr")
    target = codec.encode(regions, size)
    parsed = codec.parse(target + "\n<|ref|>x<|/ref|><|det|>[[1, 2, 3]]<|/det|>", size)
    modes = {"default": {}, "tiny": {"CROP_MODE": "false", "BASE_SIZE": "512", "IMAGE_SIZE": "512"},
             "small": {"CROP_MODE": "false", "BASE_SIZE": "640", "IMAGE_SIZE": "640"},
             "base": {"CROP_MODE": "false", "BASE_SIZE": "1024", "IMAGE_SIZE": "1024"},
             "large": {"CROP_MODE": "false", "BASE_SIZE": "1280", "IMAGE_SIZE": "1280"},
             "gundam": {"CROP_MODE": "true", "BASE_SIZE": "1024", "IMAGE_SIZE": "640"}}
    tokens = {name: {f"{w}x{h}": image_tokens("deepseek_ocr", w, h, ImageTokenParams.from_env(env))
                     for w, h in SIZES} for name, env in modes.items()}
    rec_row = [{"role": "user", "content": build_query(rec_prompt("deepseek_ocr"))},
               {"role": "assistant", "content": "TOTAL 9.00\n税额 6%"}]
    det_row = [{"role": "user", "content": build_query(det_prompt("deepseek_ocr"))},
               {"role": "assistant", "content": target}]
    rows = {}
    for name, row in (("rec", rec_row), ("det", det_row)):
        count = estimate_row("deepseek_ocr", row, [size])
        rows[name] = {"total": count.total, "image": count.image, "exact": count.exact}
    return {
        "family_for_template": family_for_template("deepseek_ocr"),
        "rec_prompt": rec_prompt("deepseek_ocr"),
        "det_prompts": {lang: det_prompt("deepseek_ocr", lang) for lang in ("en", "zh")},
        "det_system": det_system("deepseek_ocr"),
        "query": build_query(rec_prompt("deepseek_ocr"), 2),
        "target": target,
        "parsed": [[r.text, [round(v, 6) for v in r.bbox()]] for r in parsed.regions],
        "report": parsed.report.to_dict(),
        "image_tokens": tokens,
        "rows": rows,
    }


def _stack() -> Dict[str, str]:
    from importlib.metadata import version

    names = ("torch", "ms-swift", "transformers", "tokenizers", "peft", "trl", "accelerate", "datasets",
             "huggingface-hub", "easydict")
    return {name: version(name) for name in names}


def _requires() -> Dict[str, Any]:
    from swift.model.model_meta import MODEL_MAPPING
    from transformers.utils.versions import require_version

    meta = MODEL_MAPPING["deepseek_ocr"]
    met = {}
    for req in meta.requires:
        try:
            require_version(req)
            met[req] = True
        except ImportError:
            met[req] = False
    return {"requires": list(meta.requires), "met": met, "template": meta.template}


def _remote_code() -> Dict[str, str]:
    """``"ok"`` or the error of each import DeepSeek-OCR's remote code makes that depends on the environment."""
    import importlib

    out = {}
    checks = {
        # modeling_deepseekv2.py: `from transformers.models.llama.modeling_llama import (LlamaAttention,
        # LlamaFlashAttention2)` (deepseek-ai/DeepSeek-OCR issues #7, #182; modelscope/ms-swift #6332)
        "LlamaFlashAttention2": ("transformers.models.llama.modeling_llama", ("LlamaAttention", "LlamaFlashAttention2")),
        # ms-swift's requires and DeepSeek-OCR's requirements.txt
        "easydict": ("easydict", ("EasyDict",)),
        "addict": ("addict", ("Dict",)),
        "einops": ("einops", ("rearrange",)),
    }
    for key, (module, names) in checks.items():
        try:
            mod = importlib.import_module(module)
            for name in names:
                getattr(mod, name)
            out[key] = "ok"
        except (ImportError, AttributeError) as e:
            out[key] = f"{type(e).__name__}: {e}"
    return out


def _plugin() -> Dict[str, Any]:
    from swift.callbacks import callbacks_map
    from swift.dataset import DATASET_MAPPING
    from swift.metrics import eval_metrics_map
    from swift.template.register import TEMPLATE_MAPPING
    from swift.utils import import_external_file

    from swift_ocr.msswift.plugin import plugin_path, register_all

    import_external_file(plugin_path())  # what `--custom_register_path <plugin file>` does
    names = register_all()  # already done by the file: returns the same names
    registries = {"datasets": DATASET_MAPPING, "templates": TEMPLATE_MAPPING, "metrics": eval_metrics_map,
                  "callbacks": callbacks_map}
    missing = {kind: [n for n in names.get(kind, []) if n not in reg] for kind, reg in registries.items()}
    return {"path": plugin_path(), "names": names, "missing": missing}


def _template_tokens() -> Dict[str, int]:
    """Image tokens of ms-swift's ``DeepseekOCR._preprocess_image`` under the current environment, for :data:`SIZES`.

    The template reads CROP_MODE / BASE_SIZE / IMAGE_SIZE in ``init_env_args`` (called here on a template made
    without a model). Only the model's own image code is replaced: ``BasicImageTransform`` by a stub (its pixels do
    not change the token count) and ``dynamic_preprocess`` by DeepSeek-OCR's algorithm (modeling_deepseekocr.py,
    min 2, max 9 crops of 640 px: the InternVL one with the chosen ratio returned) on ms-swift's own
    ``_find_closest_aspect_ratio``: the crop grid is not swift-ocr's code.
    """
    import torch
    from PIL import Image
    from swift.model.model_meta import MODEL_MAPPING
    from swift.template.templates.deepseek import DeepseekOCR
    from swift.template.vision_utils import _find_closest_aspect_ratio

    class Transform:
        mean = (0.5, 0.5, 0.5)

        def __init__(self, **kwargs):
            pass

        def __call__(self, image):
            return torch.zeros(3, 1, 1)

    def dynamic_preprocess(image, min_num=2, max_num=9, image_size=640):
        w, h = image.size
        ratios = sorted({(i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1) for j in range(1, n + 1)
                         if min_num <= i * j <= max_num}, key=lambda r: r[0] * r[1])
        ratio = _find_closest_aspect_ratio(w / h, ratios, w, h, image_size)
        return [Image.new("RGB", (image_size, image_size))] * (ratio[0] * ratio[1]), ratio

    template = DeepseekOCR.__new__(DeepseekOCR)
    template.model_meta = MODEL_MAPPING["deepseek_ocr"]
    template.init_env_args()
    template._BasicImageTransform, template._dynamic_preprocess = Transform, dynamic_preprocess
    out = {}
    for w, h in SIZES:
        tokenized, *_ = template._preprocess_image([Image.new("RGB", (w, h))], image_token_id=7)
        out[f"{w}x{h}"] = len(tokenized[0])
    out["settings"] = {"crop_mode": template.crop_mode, "base_size": template.base_size,
                       "image_size": template.image_size}
    return out


def _parse(argv: List[str]) -> Dict[str, Any]:
    from transformers import HfArgumentParser

    import swift.arguments as swift_args
    from swift.utils import utils as swift_utils

    with swift_utils._patch_get_type_hints():
        parser = HfArgumentParser([swift_args.SftArguments])
    namespace, remaining = parser.parse_known_args(argv)
    for var in MODE_VARS:
        os.environ.pop(var, None)
    swift_args.SftArguments._init_model_kwargs(namespace)  # --model_kwargs -> os.environ, as swift sft does
    keys = ("model", "model_type", "template", "tuner_type", "target_modules", "freeze_vit", "freeze_aligner",
            "torch_dtype", "max_length", "custom_register_path", "eval_metric", "max_new_tokens")
    return {"remaining": remaining, "values": {k: getattr(namespace, k, None) for k in keys},
            "mode_env": {var: os.environ.get(var) for var in MODE_VARS}, "template_tokens": _template_tokens()}


def main(out_path: str) -> None:
    request = json.load(sys.stdin)
    result = {"python": sys.executable, "stack": _stack(), "requires": _requires(), "remote_code": _remote_code(),
              "plugin": _plugin(), "parsed": [_parse(argv) for argv in request.get("argvs", [])],
              "answers": answers()}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, default=str)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: deepseek_ocr_probe.py OUT.json < request.json")
    main(sys.argv[1])
