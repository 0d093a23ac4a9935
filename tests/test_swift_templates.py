"""Tests for swift_ocr/msswift/templates.py: the templates are registered into ms-swift through the plugin and encode
real receipts with the tiny random models (GOT-OCR2 and InternVL, transformers-native)."""
from __future__ import annotations

import pytest
from PIL import Image

from swift_ocr.codecs import get_codec
from swift_ocr.codecs.got import COLOURS, encode_region_prompt
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.msswift.plugin import plugin_path, register_all
from swift_ocr.msswift.templates import OCR_DET_SYSTEM, TEMPLATE_NAMES, register_templates
from swift_ocr.tiny.models import build_tiny_model


@pytest.fixture(scope="module")
def receipt(shared_data):
    sroie = shared_data / "sroie"
    return read_icdar_file(sroie / "box" / "002.csv", sroie / "img" / "002.jpg")


def _template(model_dir, model_type, template_type):
    import torch
    from swift.model import get_model_processor
    from swift.template import get_template

    _, processor = get_model_processor(str(model_dir), model_type=model_type, torch_dtype=torch.float32,
                                       load_model=False)
    template = get_template(processor, template_type=template_type)
    template.set_mode("train")
    return template, processor


@pytest.fixture(scope="module")
def got_dir(tmp_path_factory):
    return build_tiny_model("got_ocr2_hf", tmp_path_factory.mktemp("tiny") / "tiny-random-got", seed=0)


@pytest.fixture(scope="module")
def internvl_dir(tmp_path_factory):
    return build_tiny_model("internvl_hf", tmp_path_factory.mktemp("tiny") / "tiny-random-internvl", seed=0)


def test_plugin_registers_the_templates_once():
    from swift.template.register import TEMPLATE_MAPPING
    from swift.utils import import_external_file

    first = register_all()
    assert first["templates"] == list(TEMPLATE_NAMES)
    import_external_file(plugin_path())
    assert register_templates() == list(TEMPLATE_NAMES)
    for name in TEMPLATE_NAMES:
        assert TEMPLATE_MAPPING[name].template_type == name


def test_a_name_taken_by_someone_else_is_not_replaced():
    from swift.template.register import TEMPLATE_MAPPING

    register_all()
    ours = TEMPLATE_MAPPING["internvl2_ocr_det"]
    TEMPLATE_MAPPING["internvl2_ocr_det"] = TEMPLATE_MAPPING["internvl2"]
    try:
        with pytest.raises(ValueError, match="internvl2_ocr_det"):
            register_templates()
    finally:
        TEMPLATE_MAPPING["internvl2_ocr_det"] = ours


def test_internvl2_ocr_det_is_internvl2_with_the_ocr_system_prompt():
    """InternVL2 itself (remote code, torchvision) cannot run here: compare the template metas."""
    from swift.template.register import TEMPLATE_MAPPING
    from swift.template.templates.internvl import Internvl2Template

    register_all()
    ours, upstream = TEMPLATE_MAPPING["internvl2_ocr_det"], TEMPLATE_MAPPING["internvl2"]
    assert issubclass(ours.template_cls, Internvl2Template)
    assert ours.default_system == OCR_DET_SYSTEM != upstream.default_system
    for field in ("prefix", "prompt", "chat_sep", "suffix", "system_prefix", "auto_add_bos"):
        assert getattr(ours, field) == getattr(upstream, field), field


def test_internvl_hf_ocr_det_encodes_a_detection_row(internvl_dir, receipt):
    register_all()
    target = get_codec("internvl").encode(receipt.care_regions(), receipt.image_size)
    row = {"messages": [{"role": "user", "content": "<image>Detect every line of text."},
                        {"role": "assistant", "content": target}], "images": [receipt.images[0]]}
    ours, processor = _template(internvl_dir, "internvl", "internvl_hf_ocr_det")
    upstream, _ = _template(internvl_dir, "internvl", "internvl_hf")
    a, b = ours.encode(dict(row)), upstream.encode(dict(row))
    tok = processor.tokenizer
    text = tok.decode(a["input_ids"])
    assert text.startswith(f"<|im_start|>system\n{OCR_DET_SYSTEM}<|im_end|>\n<|im_start|>user\n<img>")
    assert "<|im_start|>system" not in tok.decode(b["input_ids"])  # ms-swift's internvl_hf has no system prompt
    image_id = tok.convert_tokens_to_ids("<IMG_CONTEXT>")
    assert a["input_ids"].count(image_id) == 256 * a["pixel_values"].shape[0] == b["input_ids"].count(image_id)
    labelled = [t for t, label in zip(a["input_ids"], a["labels"]) if label != -100]
    assert tok.decode(labelled) == target + "<|im_end|>\n"


def test_got_box_prompt_is_gots_truncated_list(got_dir, receipt):
    register_all()
    region = receipt.care_regions()[5]
    x1, y1, x2, y2 = region.bbox()
    row = {"messages": [{"role": "user", "content": "<image><bbox> OCR: "},
                        {"role": "assistant", "content": region.text}],
           "images": [receipt.images[0]], "objects": {"bbox": [[x1, y1, x2, y2]], "bbox_type": "real"}}
    ours, processor = _template(got_dir, "got_ocr2_hf", "got_ocr2_hf_finegrained")
    upstream, _ = _template(got_dir, "got_ocr2_hf", "got_ocr2_hf")
    expected = encode_region_prompt(region, receipt.image_size)  # GOT's demo formula (tests/codecs/test_got.py)
    encoded = ours.encode({**row, "objects": {"bbox": [[x1, y1, x2, y2]], "bbox_type": "real"}})
    assert f"</img>\n{expected}<|im_end|>" in processor.tokenizer.decode(encoded["input_ids"])
    plain = processor.tokenizer.decode(upstream.encode(row)["input_ids"])
    assert expected not in plain and "[(" in plain  # ms-swift's own rendering: rounded points
    w, h = receipt.image_size
    fractions = [x1 / w, y1 / h, x2 / w, y2 / h]
    norm1 = ours.encode({**row, "objects": {"bbox": [list(fractions)], "bbox_type": "norm1"}})
    grid = [int(f * size / size * 1000) for f, size in zip(fractions, (w, h, w, h))]  # GOT: int(x / W * 1000)
    assert f"</img>\n[{grid[0]}, {grid[1]}, {grid[2]}, {grid[3]}] OCR: " in processor.tokenizer.decode(
        norm1["input_ids"])


def test_got_colour_prompt_draws_the_box_on_the_image(got_dir, receipt):
    register_all()
    region = receipt.care_regions()[2]
    x1, y1, x2, y2 = region.bbox()
    ours, processor = _template(got_dir, "got_ocr2_hf", "got_ocr2_hf_finegrained")
    for colour, rgb in COLOURS.items():
        row = {"messages": [{"role": "user", "content": "<image>[<ref-object>] OCR: "},
                            {"role": "assistant", "content": region.text}],
               "images": [receipt.images[0]], "objects": {"ref": [colour], "bbox": [[x1, y1, x2, y2]]}}
        encoded = ours.encode(row)
        assert f"</img>\n[{colour}] OCR: <|im_end|>" in processor.tokenizer.decode(encoded["input_ids"])
        (image,) = encoded["images"]
        original = Image.open(receipt.images[0]).convert("RGB")
        assert image.size == original.size
        assert image.getpixel((int((x1 + x2) / 2), int(y1))) == rgb  # top edge of the box
        assert image.getpixel((int(x1), int((y1 + y2) / 2))) == rgb  # left edge
        centre = (int((x1 + x2) / 2), int((y1 + y2) / 2))
        assert image.getpixel(centre) == original.getpixel(centre)  # the text inside is untouched
