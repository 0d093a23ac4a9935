"""Issue 20.1: the system prompt of detection rows describes exactly the targets they are trained on.

The ``*_ocr_det`` templates' default system prompt asks for ``<box>`` in top-to-bottom, left-to-right order; rows
converted with ``--det-shape quad`` or ``--order tb-rl|source`` carry their own system message (which ms-swift uses
instead of the template's default), derived from the same options as the targets. Real ICDAR 2015 and SROIE labels
from ``../shared/data``, real ms-swift template encode with the tiny random (untrained) InternVL.
"""
from __future__ import annotations

import json
import os
import re

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from swift_ocr.cli.main import main  # noqa: E402
from swift_ocr.families.prompts import det_system  # noqa: E402
from swift_ocr.msswift.templates import OCR_DET_SYSTEM  # noqa: E402


def _convert(tmp_path, data, *args):
    out = tmp_path / f"det{len(list(tmp_path.iterdir()))}.jsonl"
    assert main(["convert", "--format", "icdar", "--input", str(data), "--task", "det", "--model-family", "internvl",
                 "--output", str(out), *args]) == 0
    return [json.loads(line) for line in open(out, encoding="utf-8")]


def _system(row):
    first = row["messages"][0]
    return first["content"] if first["role"] == "system" else None


def test_default_det_rows_use_the_template_default_which_describes_boxes(tmp_path, shared_data, capsys):
    rows = _convert(tmp_path, shared_data / "icdar2015")
    capsys.readouterr()
    assert rows and all(_system(r) is None for r in rows)
    assert all("<box>" in r["messages"][-1]["content"] and "<quad>" not in r["messages"][-1]["content"]
               for r in rows)
    assert "<box>" in OCR_DET_SYSTEM and "<quad>" not in OCR_DET_SYSTEM and "left to right" in OCR_DET_SYSTEM


@pytest.mark.parametrize("shape,order", [("quad", "tb-lr"), ("box", "tb-rl"), ("quad", "source")])
def test_other_options_carry_a_system_prompt_that_matches_the_targets(tmp_path, shared_data, capsys, shape, order):
    rows = _convert(tmp_path, shared_data / "sroie", "--det-shape", shape, "--order", order)
    capsys.readouterr()
    expected = det_system("internvl", shape, order)
    assert expected != OCR_DET_SYSTEM
    for r in rows:
        system, target = _system(r), r["messages"][-1]["content"]
        assert system == expected
        tag = "<quad>" if shape == "quad" else "<box>"
        assert target.count(tag) == target.count("<ref>") > 0
        assert tag in system and ({"<quad>", "<box>"} - {tag}).pop() not in system
        # each number list in the target has as many values as the system prompt's example
        example = re.search(r"\[\[([^\]]*)\]\]", system).group(1)
        assert {len(m.split(",")) for m in re.findall(r"\[\[([^\]]*)\]\]", target)} == {len(example.split(","))}
        if order == "tb-rl":
            assert "right to left" in system and "left to right" not in system
        if order == "source":
            assert "reading order" not in system


def test_plugin_route_rows_carry_the_same_system_prompt(shared_data):
    from swift_ocr.formats.icdar import read_icdar_file
    from swift_ocr.formats.checks import ReadOptions, finish_sample
    from swift_ocr.msswift.datasets import task_rows

    sroie = shared_data / "sroie"
    sample = finish_sample(read_icdar_file(sroie / "box" / "002.csv", sroie / "img" / "002.jpg"), ReadOptions())
    _, rows = task_rows(sample, {"family": "internvl", "task": "det", "det_shape": "quad", "order": "tb-rl"})
    assert rows and all(_system(r) == det_system("internvl", "quad", "tb-rl") for r in rows)
    _, rows = task_rows(sample, {"family": "internvl", "task": "det"})
    assert rows and all(_system(r) is None for r in rows)


def test_the_ocr_det_template_encodes_the_rows_own_system_prompt(tmp_path, shared_data, capsys):
    """Through ms-swift's real template: the row's system message replaces the template's default."""
    import torch
    from swift.model import get_model_processor
    from swift.template import get_template

    from swift_ocr.msswift.plugin import register_all
    from swift_ocr.tiny.models import build_tiny_model

    register_all()
    model_dir = build_tiny_model("internvl_hf", tmp_path / "tiny-random-untrained-internvl", seed=0)
    _, processor = get_model_processor(str(model_dir), model_type="internvl", torch_dtype=torch.float32,
                                       load_model=False)
    template = get_template(processor, template_type="internvl_hf_ocr_det")
    template.set_mode("train")
    out_dir = tmp_path / "conv"
    out_dir.mkdir()
    row = _convert(out_dir, shared_data / "sroie", "--det-shape", "quad")[0]
    capsys.readouterr()
    text = processor.tokenizer.decode(template.encode({"messages": row["messages"], "images": row["images"]})["input_ids"])
    assert text.startswith(f"<|im_start|>system\n{det_system('internvl', 'quad')}<|im_end|>\n")
    assert OCR_DET_SYSTEM not in text
