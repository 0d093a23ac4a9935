"""The trainable tiny InternVL (`swift-ocr tiny-model --arch internvl_hf_112`) and the synthetic-reader label.

The model is TINY, RANDOM and UNTRAINED here: these tests check its geometry (one 112 px tile -> 16 image tokens,
width 64), its tokenizer (one token per digit) and its labels, never what it reads.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from swift_ocr.tiny.models import (SYNTHETIC_READER_NOTE, TINY_MARKER_KEY, build_tiny_model, label_synthetic_reader,
                                  tiny_archs)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return build_tiny_model("internvl_hf_112", tmp_path_factory.mktemp("tiny") / "tiny-random-internvl-112", seed=0)


def test_geometry_one_112px_tile_16_image_tokens_width_64(model_dir):
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config[TINY_MARKER_KEY] is True and config["swift_ocr_tiny_model_info"]["trained"] is False
    assert config["image_seq_length"] == 16
    assert config["vision_config"]["image_size"] in (112, [112, 112])
    assert config["vision_config"]["hidden_size"] == config["text_config"]["hidden_size"] == 64
    family, tiny = tiny_archs()["internvl_hf_112"]
    assert (family, tiny.model_type, tiny.template) == ("internvl", "internvl", "internvl_hf")
    processor = AutoProcessor.from_pretrained(model_dir, trust_remote_code=True)
    model = AutoModelForImageTextToText.from_pretrained(model_dir).eval()
    n_params = sum(p.numel() for p in model.parameters())
    assert 200_000 < n_params < 350_000
    assert config["swift_ocr_tiny_model_info"]["num_parameters"] == n_params
    # any aspect ratio -> exactly one 112x112 tile (no tiling, no thumbnail), as ms-swift's internvl_hf template asks
    for size in ((70, 34), (300, 40), (112, 112)):
        out = processor.image_processor(images=[Image.new("RGB", size, "white")], crop_to_patches=True,
                                        return_tensors="pt")
        assert list(out["num_patches"]) == [1] and tuple(out["pixel_values"].shape) == (1, 3, 112, 112)
        with torch.no_grad():
            features = model.get_image_features(pixel_values=out["pixel_values"])
        features = features.pooler_output if hasattr(features, "pooler_output") else features
        assert features.reshape(-1, 64).shape[0] == 16


def test_digits_are_single_tokens_and_text_round_trips(model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    for text in ("2018", "9000", "1234", "0000"):
        assert tokenizer.tokenize(text) == list(text)
    for text in ("INVOICE 2018-12-25 total 9.00", "日期 2018年"):
        assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]) == text


def test_label_synthetic_reader_relabels_config_and_readme(model_dir, tmp_path):
    import shutil

    trained = tmp_path / "reader"
    shutil.copytree(model_dir, trained)
    label_synthetic_reader(trained, "2000 synthetic 4-digit images, 3000 steps")
    config = json.loads((trained / "config.json").read_text(encoding="utf-8"))
    assert config[TINY_MARKER_KEY] is False
    info = config["swift_ocr_tiny_model_info"]
    assert info["trained"] is True and info["note"] == SYNTHETIC_READER_NOTE
    assert info["trained_on"] == "2000 synthetic 4-digit images, 3000 steps"
    readme = (trained / "README.md").read_text(encoding="utf-8")
    assert SYNTHETIC_READER_NOTE in readme and "UNTRAINED" not in readme
    assert not [p for p in trained.iterdir() if p.name.endswith(".tmp")]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"model_type": "qwen2"}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a swift-ocr tiny model"):
        label_synthetic_reader(tmp_path / "other", "x")
