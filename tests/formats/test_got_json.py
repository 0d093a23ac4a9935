"""GOT conversation JSON: read, write, and round trip through the converter."""
import json

import pytest

from swift_ocr.errors import OcrFormatError
from swift_ocr.formats.got_json import iter_got_samples, sample_from_entry
from swift_ocr.writers.got_json import write_got_json
from swift_ocr.formats.icdar import read_icdar_file


def test_write_then_read_real_receipts(tmp_path, shared_data):
    samples = [read_icdar_file(shared_data / f"sroie/box/00{i}.csv", shared_data / f"sroie/img/00{i}.jpg")
               for i in range(3)]
    out = tmp_path / "got.json"
    assert write_got_json(samples, out, image_root=str(shared_data / "sroie")) == 3
    entries = json.loads(out.read_text(encoding="utf-8"))
    assert entries[0]["image"] == "img/000.jpg"
    assert entries[0]["conversations"][0] == {"from": "human", "value": "<image>\nOCR: "}
    back = [s for _, s in iter_got_samples(out, image_root=str(shared_data / "sroie"))]
    assert [b.text for b in back] == [s.text for s in samples]
    assert [b.images for b in back] == [s.images for s in samples]


@pytest.mark.parametrize("entry, fragment", [
    ({"image": "a.jpg"}, "needs 'image' and 'conversations'"),
    ({"image": "a.jpg", "conversations": [{"from": "human", "value": "OCR: "}, {"from": "gpt", "value": "x"}]},
     "0 <image> tag(s) for 1 image(s)"),
    ({"image": "a.jpg", "conversations": [{"from": "human", "value": "<image>"}, {"from": "gpt", "value": "x"},
                                          {"from": "human", "value": "more"}, {"from": "gpt", "value": "y"}]},
     "multi-turn"),
])
def test_bad_entries_name_file_and_entry(entry, fragment):
    with pytest.raises(OcrFormatError) as e:
        sample_from_entry(entry, "train.json", 4)
    assert str(e.value).startswith("train.json:5:") and fragment in str(e.value)


# Issue 19 (1): an entry's own prompt is kept and carried, never turned into "read the whole page".

def test_entry_keeps_its_own_prompt(tmp_path, shared_data):
    from swift_ocr.writers.got_json import to_got_entry
    image = str(shared_data / "sroie/img/000.jpg")
    human = "<image>\n[10,20,300,80] OCR: "
    s = sample_from_entry({"image": image, "conversations": [{"from": "human", "value": human},
                                                             {"from": "gpt", "value": "TAN WOON YANN"}]},
                          str(tmp_path / "t.json"), 0, allow_outside_root=True)
    assert s.prompt == "[10,20,300,80] OCR: "
    assert to_got_entry(s)["conversations"][0]["value"] == human
    with pytest.raises(OcrFormatError) as e:  # a prompt that no UTF-8 writer can write is rejected, not mangled
        sample_from_entry({"image": image, "conversations": [{"from": "human", "value": "<image>\nOCR\ud800: "},
                                                             {"from": "gpt", "value": "x"}]},
                          str(tmp_path / "t.json"), 2, allow_outside_root=True)
    assert e.value.kind == "bad_text" and e.value.line == 3


@pytest.mark.parametrize("instruction, family, expected", [
    ("OCR: ", "got", "OCR: "),
    ("OCR: ", "qwen2_5_vl", "Read all the text in the image."),
    ("OCR:", "deepseek_ocr", "Free OCR."),
    ("", "internvl", "Read all the text in the image."),
    ("OCR with format: ", "got", "OCR with format: "),
    ("OCR with format: ", "internvl", "OCR with format: "),
    ("[10,20,300,80] OCR: ", "got", "[10,20,300,80] OCR: "),
    ("[10, 20, 300, 80] OCR with format: ", "got", "[10, 20, 300, 80] OCR with format: "),
    ("[green] OCR: ", "got", "[green] OCR: "),
    ("OCR with format upon the patch reference: ", "qwen2_vl", "OCR with format upon the patch reference: "),
    ("Read the total amount.", "qwen2_5_vl", "Read the total amount."),
])
def test_carry_prompt(instruction, family, expected):
    from swift_ocr.families.prompts import carry_prompt
    assert carry_prompt(instruction, family) == expected


@pytest.mark.parametrize("instruction", ["[10,20,300,80] OCR: ", "[10, 20, 300, 80] OCR with format: ",
                                         "[red] OCR: ", " [blue] OCR with format: "])
@pytest.mark.parametrize("family", ["internvl", "qwen2_vl", "qwen2_5_vl", "deepseek_ocr"])
def test_region_prompts_are_refused_for_other_families(instruction, family):
    from swift_ocr.families.prompts import carry_prompt
    with pytest.raises(ValueError, match="one region"):
        carry_prompt(instruction, family)
    with pytest.raises(ValueError, match="one region"):  # a user --prompt does not make it a whole-page prompt
        carry_prompt(instruction, family, "Transcribe.")


def test_user_prompt_replaces_the_plain_whole_page_prompt_only():
    from swift_ocr.families.prompts import carry_prompt
    assert carry_prompt("OCR: ", "internvl", "Transcribe.") == "Transcribe."
    assert carry_prompt("OCR with format: ", "got", "Transcribe.") == "OCR with format: "
    assert carry_prompt("[1,2,3,4] OCR: ", "got", "Transcribe.") == "[1,2,3,4] OCR: "


def test_image_key_names_the_image_not_the_entry(tmp_path):
    from swift_ocr.formats.got_json import image_key
    src = str(tmp_path / "t.json")
    keys = [image_key({"image": p}, src, i) for i, p in enumerate(["img/a.jpg", "./img/../img/a.jpg",
                                                                   str(tmp_path / "img/a.jpg"), "img/b.jpg"])]
    assert keys[0] == keys[1] == keys[2] == str(tmp_path / "img/a.jpg") and keys[3] != keys[0]
    assert image_key({"image": "a.jpg"}, src, 0, image_root=str(tmp_path / "r")) == str(tmp_path / "r/a.jpg")
    assert image_key({"conversations": []}, src, 4) == f"{src}#5"  # no image: its own key (rejected when read)
