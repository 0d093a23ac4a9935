"""GOT conversation JSON: read, write, and round trip through the converter."""
import json

import pytest

from swift_ocr.errors import OcrFormatError
from swift_ocr.formats.got_json import iter_got_samples, sample_from_entry, write_got_json
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
