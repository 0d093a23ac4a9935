"""TaskConfig's fields are declared once (swift_ocr/tasks/core.py, TaskFields): ``convert``'s options, its command-line
flags and the ms-swift dataset spec all come from them."""
from __future__ import annotations

import argparse
from dataclasses import fields

import pytest

from swift_ocr.cli.convert import add_task_arguments, task_values
from swift_ocr.convert.api import ConvertOptions
from swift_ocr.tasks.core import TaskConfig, TaskFields


def test_cli_flags_spec_keys_and_convert_options_follow_the_fields():
    from swift_ocr.msswift.datasets import option_keys, parse_spec, task_config

    from swift_ocr.families import codec_options

    names = [f.name for f in fields(TaskFields)]
    parser = argparse.ArgumentParser()
    add_task_arguments(parser)
    # the codec_options field has one flag per codec option of the registered families, all filling that field
    dests = [a.dest for a in parser._actions if a.dest != "help"]
    assert list(dict.fromkeys(dests)) == names
    assert dests.count("codec_options") == len(codec_options()) >= 2
    keys = set(option_keys())
    assert set(names) - {"codec_options"} <= keys and set(codec_options()) <= keys and "codec_options" not in keys
    assert set(names) <= {f.name for f in fields(ConvertOptions)}
    args = parser.parse_args(["--task", "det", "--model-family", "internvl", "--max-boxes", "3", "--det-shape",
                              "quad", "--order", "tb-rl", "--lang", "zh"])
    expected = TaskConfig(task="det", family="internvl", max_boxes=3, det_shape="quad", order="tb-rl", lang="zh")
    assert TaskConfig(**task_values(args)) == expected
    assert ConvertOptions(**task_values(args)).task_config() == expected
    spec = "d?family=internvl&task=det&max_boxes=3&det_shape=quad&order=tb-rl&lang=zh"
    assert task_config(parse_spec(spec)[1]) == expected
    with pytest.raises(ValueError, match="max_boxes='x' is not an integer"):
        parse_spec("d?family=got&max_boxes=x")
    with pytest.raises(SystemExit):
        parser.parse_args(["--tiling", "sideways"])  # choices from the field's metadata


def test_defaults_are_the_fields_defaults():
    parser = argparse.ArgumentParser()
    add_task_arguments(parser)
    assert TaskConfig(**task_values(parser.parse_args([]))) == TaskConfig()
    assert ConvertOptions().task_config() == TaskConfig()
