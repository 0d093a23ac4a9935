"""The tiny random PaddleOCR-VL (``swift-ocr tiny-model --arch paddleocr_vl``, swift_ocr/tiny/paddleocr_vl.py) and the
plugin's ``paddle_ocr_1_5_compat`` template: the model loads with transformers and ms-swift on a CPU without
torchvision, its token ids are the ones ms-swift's PaddleOCR template relies on, the family's image-token arithmetic
matches the real processor, and the compat template trains where ms-swift 4.6.0's own template fails."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from swift_ocr.codecs import get_codec
from swift_ocr.families import get_family, tiny_archs
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.tiny.models import TINY_MARKER_KEY, build_tiny_model

RECEIPTS = ("000", "001", "002")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return build_tiny_model("paddleocr_vl", tmp_path_factory.mktemp("tiny") / "tiny-random-paddleocr_vl", seed=0)


@pytest.fixture(scope="module")
def processor(model_dir):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def model(model_dir):
    from transformers import AutoModelForImageTextToText

    return AutoModelForImageTextToText.from_pretrained(model_dir).eval()


def _receipt(shared_data: Path, stem: str):
    sroie = shared_data / "sroie"
    return read_icdar_file(sroie / "box" / f"{stem}.csv", sroie / "img" / f"{stem}.jpg")


def test_the_family_declares_the_arch(model_dir):
    family, arch = tiny_archs()["paddleocr_vl"]
    assert family == "paddleocr_vl" and (arch.model_type, arch.template) == ("paddleocr_vl", "paddle_ocr_1_5_compat")
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config[TINY_MARKER_KEY] is True and config["swift_ocr_tiny_model_info"]["trained"] is False
    assert "TINY RANDOM UNTRAINED" in (model_dir / "README.md").read_text(encoding="utf-8")


def test_same_seed_same_bytes(model_dir, tmp_path):
    again = build_tiny_model("paddleocr_vl", tmp_path / "again", seed=0)
    names = sorted(p.name for p in model_dir.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (model_dir / name).read_bytes() == (again / name).read_bytes(), name


def test_loads_as_transformers_paddleocr_vl_with_the_pil_image_processor(model, processor):
    from transformers import (PaddleOCRVLConfig, PaddleOCRVLForConditionalGeneration, PaddleOCRVLImageProcessorPil,
                              PaddleOCRVLProcessor)
    from swift.template.templates.baidu import PaddleOCRTemplate

    assert isinstance(model, PaddleOCRVLForConditionalGeneration)
    assert isinstance(processor, PaddleOCRVLProcessor)
    assert isinstance(processor.image_processor, PaddleOCRVLImageProcessorPil)  # no torchvision needed
    tok = processor.tokenizer
    # ms-swift's PaddleOCR templates find the image placeholder by this constant id
    assert tok.convert_tokens_to_ids("<|IMAGE_PLACEHOLDER|>") == PaddleOCRTemplate.image_token_id
    assert processor.image_token_id == model.config.image_token_id == PaddleOCRTemplate.image_token_id
    defaults = PaddleOCRVLConfig()
    assert tok.convert_tokens_to_ids("<|IMAGE_START|>") == defaults.vision_start_token_id
    assert tok.convert_tokens_to_ids("<|IMAGE_END|>") == defaults.vision_end_token_id
    assert model.get_input_embeddings().num_embeddings > max(tok.get_vocab().values())


def test_spotting_targets_use_one_token_per_location(shared_data, processor):
    s = _receipt(shared_data, "000")
    target = get_codec("paddleocr_vl").encode(s.care_regions()[:3], s.image_size)
    ids = processor.tokenizer(target, add_special_tokens=False).input_ids
    tokens = processor.tokenizer.convert_ids_to_tokens(ids)
    assert sum(t.startswith("<|LOC_") for t in tokens) == 3 * 8
    assert processor.tokenizer.decode(ids) == target


def test_family_image_tokens_are_the_processors(shared_data, processor):
    """validate's arithmetic (swift_ocr/families/paddleocr_vl.py) against the real processor on real pages."""
    from PIL import Image

    spec = get_family("paddleocr_vl")
    for stem in RECEIPTS:
        path = shared_data / "sroie" / "img" / f"{stem}.jpg"
        with Image.open(path) as im:
            image = im.convert("RGB")
        thw = processor.image_processor(images=[image], return_tensors="np")["image_grid_thw"][0]
        merge = processor.image_processor.merge_size
        assert spec.image_tokens(*image.size, None) == int(thw.prod()) // merge ** 2


def test_generates_varied_gibberish_that_decodes(shared_data, model, processor):
    """Random weights, but greedy output is text (not unused ids that decode to nothing) and differs per page."""
    from PIL import Image

    outs = []
    for stem in RECEIPTS[:2]:
        with Image.open(shared_data / "sroie" / "img" / f"{stem}.jpg") as im:
            image = im.convert("RGB")
        prompt = "<|begin_of_sentence|>User: <|IMAGE_START|><|IMAGE_PLACEHOLDER|><|IMAGE_END|>OCR:\nAssistant:\n"
        enc = processor(images=[image], text=[prompt], return_tensors="pt")
        out = model.generate(**enc, max_new_tokens=12, do_sample=False)
        outs.append(processor.tokenizer.decode(out[0, enc["input_ids"].shape[1]:]))
    assert all(o.strip() for o in outs) and outs[0] != outs[1]


# ------------------------------------------------------------------ the plugin's paddle_ocr_1_5_compat template


@pytest.fixture(scope="module")
def templates(model_dir):
    """``{name: ms-swift template}`` for ms-swift's ``paddle_ocr_1_5`` and the plugin's ``paddle_ocr_1_5_compat``,
    built by ms-swift over the tiny model's processor, keeping extra columns (``--remove_unused_columns false``)."""
    from swift.model import get_processor
    from swift.template import get_template

    from swift_ocr.msswift.templates import register_templates

    register_templates()
    processor = get_processor(str(model_dir), model_type="paddleocr_vl")
    return {name: get_template(processor, template_type=name, remove_unused_columns=False)
            for name in ("paddle_ocr_1_5", "paddle_ocr_1_5_compat")}


def _row(shared_data):
    return {"messages": [{"role": "user", "content": "<image>OCR:"}, {"role": "assistant", "content": "TOTAL 9.00"}],
            "images": [str(shared_data / "sroie" / "img" / "000.jpg")], "swift_ocr": {"source_image": "000.jpg"}}


def test_compat_template_trains_where_ms_swifts_fails(shared_data, templates, model):
    """transformers 5.19 returns the image features as a tuple; ms-swift 4.6.0's training forward calls .to() on it."""
    from PIL import Image

    with Image.open(shared_data / "sroie" / "img" / "000.jpg") as im:
        size = im.size
    batches = {}
    for name, template in templates.items():
        template.set_mode("train")
        encoded = template.encode(_row(shared_data))
        n_image = encoded["input_ids"].count(model.config.image_token_id)
        assert n_image == get_family("paddleocr_vl").image_tokens(*size, None)
        batches[name] = template.data_collator([encoded])
    with pytest.raises(AttributeError, match="'tuple' object has no attribute 'to'"):
        templates["paddle_ocr_1_5"]._post_encode(model, dict(batches["paddle_ocr_1_5"]))
    out = templates["paddle_ocr_1_5_compat"]._post_encode(model, dict(batches["paddle_ocr_1_5_compat"]))
    embeds = out["inputs_embeds"]
    ids = batches["paddle_ocr_1_5_compat"]["input_ids"]
    assert embeds.shape == (*ids.shape, model.config.text_config.hidden_size)
    text = ids != model.config.image_token_id  # text positions keep their token embeddings
    assert (embeds[text] == model.get_input_embeddings()(ids)[text]).all()
    assert not (embeds[~text] == model.get_input_embeddings()(ids)[~text]).all()


def test_compat_template_keeps_extra_columns_out_of_generate(shared_data, templates):
    """At inference ms-swift hands kept columns to generate, which PaddleOCR-VL refuses; the compat template does not."""
    collated = {}
    for name, template in templates.items():
        template.set_mode("transformers")
        encoded = template.encode(_row(shared_data))
        assert encoded["_extra_kwargs"]["swift_ocr"] == {"source_image": "000.jpg"}
        collated[name] = template.data_collator([encoded])
    assert "swift_ocr" in collated["paddle_ocr_1_5"]
    assert "swift_ocr" not in collated["paddle_ocr_1_5_compat"]
    assert sorted(collated["paddle_ocr_1_5_compat"]) == sorted(k for k in collated["paddle_ocr_1_5"] if k != "swift_ocr")
