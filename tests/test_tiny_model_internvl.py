"""Tests for the tiny random InternVL of swift_ocr/tiny/models.py (``--arch internvl_hf``): it loads with transformers
and ms-swift on a CPU without torchvision and runs on real receipts."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from swift_ocr.codecs import get_codec
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.tiny.models import (INTERNVL_PROCESSOR_CLASS, INTERNVL_PROCESSOR_FILE, INTERNVL_SPECIAL_TOKENS,
                                  TINY_MARKER_KEY, build_tiny_model, tiny_archs)

RECEIPTS = ("000", "001")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return build_tiny_model("internvl_hf", tmp_path_factory.mktemp("tiny") / "tiny-random-internvl", seed=0)


@pytest.fixture(scope="module")
def processor(model_dir):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(model_dir, trust_remote_code=True)


@pytest.fixture(scope="module")
def model(model_dir):
    from transformers import AutoModelForImageTextToText

    return AutoModelForImageTextToText.from_pretrained(model_dir).eval()


def _receipt(shared_data: Path, stem: str):
    sroie = shared_data / "sroie"
    return read_icdar_file(sroie / "box" / f"{stem}.csv", sroie / "img" / f"{stem}.jpg")


def test_transformers_internvl_processor_needs_torchvision_here():
    """Why the tiny model ships its own processor class: transformers 5.19's InternVLProcessor cannot be built
    without torchvision, even with no video processor."""
    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed: InternVLProcessor can be built")
    from transformers import GotOcr2ImageProcessorPil, InternVLProcessor

    from swift_ocr.tiny.models import INTERNVL_NAMED_TOKENS, build_byte_level_bpe

    tokenizer = build_byte_level_bpe(INTERNVL_SPECIAL_TOKENS, named_tokens=INTERNVL_NAMED_TOKENS)
    with pytest.raises(AttributeError, match="VIDEO_PROCESSOR_MAPPING.*_extra_content"):
        InternVLProcessor(image_processor=GotOcr2ImageProcessorPil(), tokenizer=tokenizer, video_processor=None)


def test_loads_as_transformers_internvl_with_the_image_only_processor(model_dir, model, processor):
    from transformers import GotOcr2ImageProcessorPil, InternVLForConditionalGeneration, InternVLProcessor

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["architectures"] == ["InternVLForConditionalGeneration"] and config["model_type"] == "internvl"
    assert isinstance(model, InternVLForConditionalGeneration)
    assert type(processor).__name__ == INTERNVL_PROCESSOR_CLASS and isinstance(processor, InternVLProcessor)
    assert isinstance(processor.image_processor, GotOcr2ImageProcessorPil)
    assert (model_dir / INTERNVL_PROCESSOR_FILE).is_file()
    assert sum(p.numel() for p in model.parameters()) < 1_000_000  # InternVL2-8B: about 8 billion
    family, tiny = tiny_archs()["internvl_hf"]
    assert (family, tiny.model_type, tiny.template) == ("internvl", "internvl", "internvl_hf")


def test_receipt_becomes_448px_tiles_with_256_tokens_each(shared_data, processor, model):
    from PIL import Image

    image = Image.open(shared_data / "sroie" / "img" / f"{RECEIPTS[0]}.jpg")
    inputs = processor(images=image, text="<IMG_CONTEXT>", return_tensors="pt")
    n_tiles, channels, height, width = inputs["pixel_values"].shape
    assert (channels, height, width) == (3, 448, 448) and 2 <= n_tiles <= 7  # 1-6 tiles + thumbnail
    assert processor.image_token_id == model.config.image_token_id
    assert int((inputs["input_ids"] == processor.image_token_id).sum()) == 256 * n_tiles
    with pytest.raises(ValueError, match="video"):
        processor(images=image, text="<video>", videos=[[image]])


def test_tokenizer_keeps_detection_targets_and_special_tokens(shared_data, processor):
    tokenizer = processor.tokenizer
    for token in INTERNVL_SPECIAL_TOKENS:
        assert tokenizer(token, add_special_tokens=False)["input_ids"] == [tokenizer.convert_tokens_to_ids(token)]
    codec = get_codec("internvl")
    for stem in RECEIPTS:
        sample = _receipt(shared_data, stem)
        target = codec.encode(sample.care_regions(), sample.image_size)
        ids = tokenizer(target, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids, skip_special_tokens=False) == target  # how ms-swift decodes responses
        assert ids.count(tokenizer.convert_tokens_to_ids("<ref>")) == len(sample.care_regions())


def test_forward_on_receipts_depends_on_the_image(shared_data, processor, model):
    import torch
    from PIL import Image

    last = []
    for stem in RECEIPTS:
        image = Image.open(shared_data / "sroie" / "img" / f"{stem}.jpg")
        inputs = processor(images=image, text="<IMG_CONTEXT>\n<ref>", return_tensors="pt")
        with torch.no_grad():
            out = model(**inputs)
        assert out.logits.shape[-1] == len(processor.tokenizer) and torch.isfinite(out.logits).all()
        last.append(out.logits[0, -1])
    assert not torch.allclose(last[0], last[1])


def test_marked_tiny_random_untrained_and_deterministic(model_dir, tmp_path):
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config[TINY_MARKER_KEY] is True and config["swift_ocr_tiny_model_info"]["trained"] is False
    readme = (model_dir / "README.md").read_text(encoding="utf-8").lower()
    assert all(word in readme for word in ("tiny", "random", "untrained"))
    again = build_tiny_model("internvl_hf", tmp_path / "again", seed=0)
    other = build_tiny_model("internvl_hf", tmp_path / "other", seed=1)
    for name in ("model.safetensors", "tokenizer.json", "processor_config.json", INTERNVL_PROCESSOR_FILE):
        assert (again / name).read_bytes() == (model_dir / name).read_bytes(), name
    assert (other / "model.safetensors").read_bytes() != (model_dir / "model.safetensors").read_bytes()


def test_ms_swift_loads_it_and_internvl_hf_encodes_a_detection_row(model_dir, shared_data):
    """What `swift sft --model DIR --model_type internvl --template internvl_hf` does before training."""
    import torch
    from swift.model import get_model_processor
    from swift.template import get_template

    model, processor = get_model_processor(str(model_dir), model_type="internvl", torch_dtype=torch.float32)
    assert model.model_meta.model_type == "internvl"
    template = get_template(processor, template_type="internvl_hf")
    template.set_mode("train")
    sample = _receipt(shared_data, RECEIPTS[1])
    target = get_codec("internvl").encode(sample.care_regions(), sample.image_size)
    query = "<image>请目标检测图像中的信息并给出边界框"
    encoded = template.encode({"messages": [{"role": "user", "content": query},
                                            {"role": "assistant", "content": target}],
                               "images": [sample.images[0]]})
    n_tiles = encoded["pixel_values"].shape[0]
    image_id = processor.tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>")
    assert encoded["input_ids"].count(image_id) == 256 * n_tiles
    labelled = [t for t, label in zip(encoded["input_ids"], encoded["labels"]) if label != -100]
    assert processor.tokenizer.decode(labelled) == target + "<|im_end|>\n"
