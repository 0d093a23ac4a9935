"""Target: samples from our registered ms-swift preprocessors reach the model as fast as the same samples from a
plain ms-swift jsonl -- overhead at most 3 % of ``swift sft`` wall time on the tiny model -- and images are
decoded lazily, once.

Two ``swift sft`` runs on a tiny random-weight untrained GOT-OCR2 (``swift-ocr tiny-model``), LoRA, float32,
batch 1, one epoch over the same synthetic ICDAR dataset (``max_steps`` = number of images):

* **jsonl**: ``--dataset OUT.jsonl`` written beforehand by ``swift-ocr convert --check-images header``;
* **plugin**: ``--custom_register_path $(swift-ocr plugin-path) --dataset 'swift-ocr/icdar:ROOT?family=got&
  check_images=header'`` (the raw folders, read and checked by our preprocessor inside ms-swift).

Each run is ``swift/cli/sft.py`` (what ``swift sft`` launches) executed in a child process that also times
ms-swift's dataset stage (``SwiftSft._get_dataset``: loading plus row preprocessing -- where our loader and
preprocessor run; template encoding happens later, identically for both routes) and counts image decodes
(Pillow ``ImageFile.load`` calls). Reported:

* overhead = (dataset stage, plugin - dataset stage, jsonl) / sft wall time of the jsonl run. Measured inside
  the runs, so it does not drown in the run-to-run noise of whole training runs (the whole-run times are
  printed too);
* the two routes must give the same rows (messages and image paths) and the same number of image decodes
  (every image decoded only when the template encodes it for a training step).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from .common import COUNT_DECODES, REPO_ROOT, Result, at_most, child_env, run_python_child
from .synth import write_icdar_dataset

TARGET = 0.03

_CHILD = r"""
import json, os, runpy, sys, time
t0 = time.perf_counter()
""" + COUNT_DECODES + r"""from swift.pipelines.train import sft as sft_module
stage = {}
_get = sft_module.SwiftSft._get_dataset
def _timed_get(self):
    t = time.perf_counter()
    train, val = _get(self)
    stage["dataset_s"] = time.perf_counter() - t
    stage["rows"] = len(train)
    with open(os.environ["BENCH_ROWS"], "w", encoding="utf-8") as fh:
        for row in train:
            images = [i["path"] if isinstance(i, dict) else i for i in (row.get("images") or [])]
            fh.write(json.dumps({"messages": row["messages"], "images": images}, ensure_ascii=False) + "\n")
    return train, val
sft_module.SwiftSft._get_dataset = _timed_get
sys.argv = ["sft.py"] + json.loads(sys.argv[1])
import swift.cli.sft as cli_sft
runpy.run_path(cli_sft.__file__, run_name="__main__")
stage.update(wall_s=time.perf_counter() - t0, decoded=decoded[0])
print("@@BENCH@@" + json.dumps(stage))
"""


def _tiny_model(workdir: str) -> str:
    path = os.path.join(workdir, "tiny-random-untrained-got_ocr2_hf")
    if not os.path.isfile(os.path.join(path, "config.json")):
        subprocess.run([sys.executable, "-m", "swift_ocr.cli.main", "tiny-model", "--arch", "got_ocr2_hf",
                        "--output", path], check=True, env=child_env(), cwd=REPO_ROOT, capture_output=True)
    return path


def _sft(model: str, dataset: str, out: str, steps: int, rows_file: str, plugin: bool) -> dict:
    argv = ["--model", model, "--model_type", "got_ocr2_hf", "--template", "got_ocr2_hf", "--dataset", dataset,
            "--tuner_type", "lora", "--torch_dtype", "float32", "--per_device_train_batch_size", "1",
            "--gradient_accumulation_steps", "1", "--max_steps", str(steps), "--dataloader_num_workers", "0",
            "--split_dataset_ratio", "0", "--max_length", "2048", "--save_strategy", "no", "--logging_steps", "10",
            "--report_to", "none", "--output_dir", out, "--add_version", "false", "--check_model", "false"]
    if plugin:
        from swift_ocr.msswift.plugin import plugin_path
        argv += ["--custom_register_path", plugin_path()]
    os.environ["BENCH_ROWS"] = rows_file
    try:
        return run_python_child(_CHILD, [json.dumps(argv)])
    finally:
        del os.environ["BENCH_ROWS"]


def _rows(path: str) -> list:
    with open(path, encoding="utf-8") as fh:
        return sorted(fh.read().splitlines())


def run(workdir: str, n_images: int = 24, log=print):
    root = write_icdar_dataset(os.path.join(workdir, f"train_icdar_{n_images}"), n_images, 10, seed=3)
    model = _tiny_model(workdir)
    jsonl = os.path.join(workdir, f"train_icdar_{n_images}.jsonl")
    subprocess.run([sys.executable, "-m", "swift_ocr.cli.main", "convert", "--format", "icdar", "--input", root,
                    "--task", "rec", "--model-family", "got", "--check-images", "header", "--output", jsonl],
                   check=True, env=child_env(), cwd=REPO_ROOT, capture_output=True)
    out = os.path.join(workdir, "sft_bench")
    runs = {}
    for name, dataset, plugin in (("jsonl", jsonl, False),
                                  ("plugin", f"swift-ocr/icdar:{root}?family=got&check_images=header", True)):
        shutil.rmtree(out, ignore_errors=True)
        rows_file = os.path.join(workdir, f"sft_rows_{name}.jsonl")
        runs[name] = _sft(model, dataset, out, n_images, rows_file, plugin)
        runs[name]["rows_file"] = rows_file
        r = runs[name]
        log(f"  swift sft ({name}): {r['wall_s']:.1f} s, dataset stage {r['dataset_s']:.2f} s for {r['rows']} rows, "
            f"images decoded {r['decoded']}")
    shutil.rmtree(out, ignore_errors=True)
    j, p = runs["jsonl"], runs["plugin"]
    same_rows = _rows(j["rows_file"]) == _rows(p["rows_file"])
    overhead = (p["dataset_s"] - j["dataset_s"]) / j["wall_s"]
    res = at_most("train path (plugin vs jsonl)", overhead * 100, TARGET * 100,
                  f"overhead {overhead:.2%} of sft wall ({n_images} steps): dataset stage plugin "
                  f"{p['dataset_s']:.2f} s vs jsonl {j['dataset_s']:.2f} s, sft {p['wall_s']:.0f} s vs "
                  f"{j['wall_s']:.0f} s; same rows: {same_rows}; images decoded {p['decoded']} vs {j['decoded']}",
                  unit="%", plugin=p, jsonl=j, same_rows=same_rows)
    if not same_rows or p["decoded"] != j["decoded"]:
        res.passed = False
    yield res


__all__ = ["run", "Result"]
