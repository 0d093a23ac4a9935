"""Tests for swift_ocr/tiny/models.py: the tiny random GOT-OCR2 really loads and runs on real OCR samples."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from swift_ocr.tiny.models import GOT_SPECIAL_TOKENS, TINY_MARKER_KEY, build_tiny_model, tiny_archs

SROIE_IMAGES = ("000.jpg", "001.jpg")


@pytest.fixture(scope="module")
def got_dir(tmp_path_factory) -> Path:
    return build_tiny_model("got_ocr2_hf", tmp_path_factory.mktemp("tiny") / "tiny-random-got", seed=0)


@pytest.fixture(scope="module")
def processor(got_dir):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(got_dir)


@pytest.fixture(scope="module")
def model(got_dir):
    from transformers import AutoModelForImageTextToText

    return AutoModelForImageTextToText.from_pretrained(got_dir).eval()


def _sroie_texts(shared_data: Path) -> list:
    """All transcriptions of two SROIE receipts (everything after the 8th comma of each box row)."""
    texts = []
    for name in SROIE_IMAGES:
        csv = shared_data / "sroie" / "box" / name.replace(".jpg", ".csv")
        for line in csv.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(line.split(",", 8)[8])
    return texts


def _zh_texts(shared_data: Path) -> list:
    rows = (shared_data / "zh" / "gt.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [row.split("\t")[1].replace("\\n", "\n") for row in rows if row.strip()]


def test_loads_as_transformers_got_ocr2(got_dir, model, processor):
    from transformers import GotOcr2ForConditionalGeneration, GotOcr2ImageProcessorPil, GotOcr2Processor

    config = json.loads((got_dir / "config.json").read_text(encoding="utf-8"))
    assert config["architectures"] == ["GotOcr2ForConditionalGeneration"]
    assert isinstance(model, GotOcr2ForConditionalGeneration)
    assert isinstance(processor, GotOcr2Processor)
    assert isinstance(processor.image_processor, GotOcr2ImageProcessorPil)
    # tiny: well under a million parameters (the real GOT-OCR 2.0 has about 560 million)
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


def test_processor_gives_1024_pixels_and_256_image_tokens(shared_data, processor, model):
    from PIL import Image

    image = Image.open(shared_data / "sroie" / "img" / SROIE_IMAGES[0])
    assert image.size != (1024, 1024)  # the processor must resize
    inputs = processor(images=image, return_tensors="pt")
    assert tuple(inputs["pixel_values"].shape) == (1, 3, 1024, 1024)
    image_token_id = processor.tokenizer.convert_tokens_to_ids("<imgpad>")
    assert image_token_id == model.config.image_token_id
    assert int((inputs["input_ids"] == image_token_id).sum()) == 256


def test_tokenizer_round_trips_real_text(shared_data, processor):
    tokenizer = processor.tokenizer
    texts = _sroie_texts(shared_data) + _zh_texts(shared_data)
    assert len(texts) > 50 and any("中国" in t for t in texts)
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == text


def test_special_tokens_are_single_ids(processor):
    tokenizer = processor.tokenizer
    for token in GOT_SPECIAL_TOKENS:
        ids = tokenizer(token, add_special_tokens=False)["input_ids"]
        assert ids == [tokenizer.convert_tokens_to_ids(token)], token
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token == "<|endoftext|>"


def test_forward_on_receipts_gives_full_vocab_logits_that_depend_on_the_image(shared_data, processor, model):
    import torch
    from PIL import Image

    logits = []
    for name in SROIE_IMAGES:
        inputs = processor(images=Image.open(shared_data / "sroie" / "img" / name), return_tensors="pt")
        with torch.no_grad():
            out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                        pixel_values=inputs["pixel_values"])
        assert out.logits.shape == (1, inputs["input_ids"].shape[1], len(processor.tokenizer))
        assert torch.isfinite(out.logits).all()
        logits.append(out.logits[0, -1])
    assert model.config.text_config.vocab_size == len(processor.tokenizer)
    # the vision tower is wired in: two receipts give different next-token scores
    assert not torch.allclose(logits[0], logits[1])


def test_saved_files_say_tiny_random_untrained(got_dir):
    config = json.loads((got_dir / "config.json").read_text(encoding="utf-8"))
    assert config[TINY_MARKER_KEY] is True
    assert config["swift_ocr_tiny_model_info"]["trained"] is False
    readme = (got_dir / "README.md").read_text(encoding="utf-8").lower()
    for word in ("tiny", "random", "untrained"):
        assert word in readme


def test_same_seed_same_files_other_seed_other_weights(got_dir, tmp_path):
    again = build_tiny_model("got_ocr2_hf", tmp_path / "again", seed=0)
    other = build_tiny_model("got_ocr2_hf", tmp_path / "other", seed=1)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (again / name).read_bytes() == (got_dir / name).read_bytes(), name
    assert (other / "model.safetensors").read_bytes() != (got_dir / "model.safetensors").read_bytes()
    assert (other / "tokenizer.json").read_bytes() == (got_dir / "tokenizer.json").read_bytes()


def test_unknown_arch_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="no_such_arch"):
        build_tiny_model("no_such_arch", tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert tiny_archs()["got_ocr2_hf"][0] == "got"


def test_ms_swift_loads_it_and_its_template_encodes_a_receipt(got_dir, shared_data):
    """What `swift sft --model DIR --model_type got_ocr2_hf --template got_ocr2_hf` does before training."""
    import torch
    from swift.model import get_model_processor
    from swift.template import get_template

    model, processor = get_model_processor(str(got_dir), model_type="got_ocr2_hf", torch_dtype=torch.float32)
    assert model.model_meta.model_type == "got_ocr2_hf"
    template = get_template(processor, template_type="got_ocr2_hf")
    template.set_mode("train")
    row = {"messages": [{"role": "user", "content": "<image>OCR: "},
                        {"role": "assistant", "content": "TAN WOON YANN"}],
           "images": [str(shared_data / "sroie" / "img" / SROIE_IMAGES[0])]}
    encoded = template.encode(row)
    image_token_id = processor.tokenizer.convert_tokens_to_ids("<imgpad>")
    assert encoded["input_ids"].count(image_token_id) == 256
    labelled = [t for t, label in zip(encoded["input_ids"], encoded["labels"]) if label != -100]
    # ms-swift 4.6's ChatML suffix is "<|im_end|>\n"; the trailing newline is a trained token too
    assert processor.tokenizer.decode(labelled).rstrip("\n") == "TAN WOON YANN<|im_end|>"
    batch = template.data_collator([encoded])
    with torch.no_grad():
        loss = model(**batch).loss
    assert torch.isfinite(loss) and loss > 0
