"""The model-family registry (swift_ocr/families): every built-in spec is complete and consistent with ms-swift
4.6's own registries, lookups fail clearly, and a family registered at run time (in this test alone) is used by the
tasks, the token estimate, the codec lookup and the CLI choice lists."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from swift_ocr import families as fam
from swift_ocr.codecs import get_codec
from swift_ocr.codecs.base import Codec, TaggedCodec
from swift_ocr.codecs.grid import Grid, ImageSize, normalised_grid
from swift_ocr.families.base import ModelFamily, resolve
from swift_ocr.families.scaffold import chatml

REPO = Path(__file__).resolve().parents[2]
BUILT_IN = ("got", "internvl", "qwen2_vl", "qwen2_5_vl", "deepseek_ocr")


@pytest.fixture(scope="module")
def swift_registries():
    from swift.model import MODEL_MAPPING
    from swift.template import TEMPLATE_MAPPING

    from swift_ocr.msswift.plugin import register_all

    register_all()  # swift-ocr's own templates (internvl2_ocr_det, ...)
    return MODEL_MAPPING, TEMPLATE_MAPPING


def test_built_ins_are_registered_in_cli_order():
    assert fam.family_names()[:len(BUILT_IN)] == BUILT_IN
    assert fam.DEFAULT_FAMILY in fam.family_names()


@pytest.mark.parametrize("name", BUILT_IN)
def test_spec_is_consistent_with_ms_swift(name, swift_registries):
    model_mapping, template_mapping = swift_registries
    spec = fam.get_family(name)
    assert spec.model_type in model_mapping, spec.model_type
    for template in {spec.template, spec.template_for("det")}:
        assert template in template_mapping, template
        assert fam.family_for_template(template) == name
    assert spec.scaffold.template == spec.template
    assert spec.rec_prompt.strip() and "<image>" not in spec.rec_prompt
    assert all(text.strip() and "<image>" not in text for text in spec.prompt_styles.values())
    codec = spec.make_codec()
    assert isinstance(codec, Codec) and codec.family == name
    assert isinstance(spec.codec_for_env({}), type(codec))
    for option in spec.codec_options:  # every CLI codec option is a parameter the codec takes
        assert getattr(spec.make_codec(**{option.name: option.type("1003520")}), option.name) == 1003520
    settings = spec.settings_from_env({})
    tokens = spec.image_tokens(448, 448, settings)
    assert isinstance(tokens, int) and tokens > 0
    for var in spec.env_vars:  # each declared variable changes the settings ("0" differs from every default)
        assert spec.settings_from_env({var: "0"}) != settings, var
    if spec.recipe is not None:
        assert (REPO / "recipes" / spec.recipe).is_dir(), spec.recipe
    for arch, tiny in spec.tiny_archs.items():
        assert callable(resolve(tiny.builder)), arch
        assert tiny.model_type in model_mapping and tiny.template in template_mapping, arch


def test_unknown_family_errors_name_the_known_ones():
    with pytest.raises(ValueError, match="unknown model family 'llava'.*got, internvl"):
        fam.get_family("llava")
    with pytest.raises(ValueError, match="unknown model family"):
        fam.check_family(None)
    with pytest.raises(ValueError, match="unknown detection codec family 'llava'; known: got"):
        get_codec("llava")
    with pytest.raises(ValueError, match="already registered"):
        fam.register_family(ModelFamily(**{**fam.get_family("got").__dict__, "title": "another GOT"}))
    assert fam.get_family("got").title == "GOT-OCR2.0"
    with pytest.raises(ValueError, match="bad parameters for codec 'got'"):
        get_codec("got", shape="quad")


def test_template_prefix_longest_match_wins():
    assert fam.family_for_template("qwen2_5_vl") == "qwen2_5_vl"
    assert fam.family_for_template("qwen2_vl") == "qwen2_vl"
    assert fam.family_for_template("internvl_hf_ocr_det") == "internvl"
    assert fam.family_for_template("got_ocr2_finegrained") == "got"
    assert fam.family_for_template("qwen3_vl") is None and fam.family_for_template(None) is None


# ------------------------------------------------------------------------------------ a throwaway family


class ToyCodec(TaggedCodec):
    """``<t>TEXT</t><b>[[x1, y1, x2, y2]]</b>`` on a 0-100 grid: a format no built-in family writes."""

    family = "toy"
    ref_tags = ("<t>", "</t>")
    shape_tags = {"box": ("<b>", "</b>")}
    body_style = "lists"

    def __init__(self, dedupe: bool = True):
        super().__init__(shape="box", dedupe=dedupe)

    def grid(self, image_size: ImageSize) -> Grid:
        return normalised_grid(image_size, 100)


@pytest.fixture
def toy():
    spec = fam.register_family(ModelFamily(
        name="toy", title="Toy VLM", model_type="qwen2_vl", template="qwen2_vl", rec_prompt="Transcribe.",
        det_prompts={"en": "Find the text."}, codec=ToyCodec,
        scaffold=chatml("qwen2_vl", "Be brief.", "<v>", "</v>"),
        image_tokens=lambda w, h, settings: settings * ((w + 99) // 100), image_settings=lambda env: int(env.get("TOY", 3)),
        env_vars=("TOY",), template_prefixes=("toy_",)))
    yield spec
    fam.unregister_family("toy")
    assert "toy" not in fam.family_names()


def test_a_family_registered_at_run_time_is_used_everywhere(toy, shared_data):
    from swift_ocr.cli.eval_det import add_codec_arguments
    from swift_ocr.eval.det_scoring import codec_from_args
    from swift_ocr.formats import open_source
    from swift_ocr.tasks.core import TaskConfig, run_task
    from swift_ocr.validate.token_budget import ImageTokenParams, estimate_row, image_tokens

    assert fam.family_names()[-1] == "toy" and fam.family_for_template("toy_chat") == "toy"
    # convert's tasks
    assert TaskConfig(task="rec", family="toy").instruction() == "Transcribe."
    assert TaskConfig(task="det", family="toy").instruction() == "Find the text."
    _, sample = next(open_source("icdar", input_path=str(shared_data / "sroie")).iter_samples())
    out = run_task(TaskConfig(task="det", family="toy"), sample)
    (target,) = out.samples
    assert target.text.startswith("<t>") and "</t><b>[[" in target.text
    parsed = get_codec("toy").parse(target.text, sample.image_size)
    assert parsed.report.ok
    assert sorted(r.text for r in parsed.regions) == sorted(r.text for r in sample.care_regions())
    # validate's estimate: the toy arithmetic with its environment variable
    assert image_tokens("toy", 250, 40) == 9
    assert image_tokens("toy", 250, 40, ImageTokenParams.from_env({"TOY": "5"})) == 15
    count = estimate_row("toy", [{"role": "user", "content": "<image>Transcribe."},
                                 {"role": "assistant", "content": "x"}], [(250, 40)])
    assert count.image == 9 and count.text > 0
    # eval det / draw / report: the CLI's choices are read when the parser is built
    parser = argparse.ArgumentParser()
    add_codec_arguments(parser)
    args = parser.parse_args(["--model-family", "toy"])
    assert isinstance(codec_from_args(args), ToyCodec)
    with pytest.raises(ValueError, match="--max-pixels applies to --model-family qwen2_5_vl only"):
        codec_from_args(parser.parse_args(["--model-family", "toy", "--max-pixels", "1000"]))
