"""Word-box reader on the project's data_templates (text known from the rendered strings)."""
import json

import pytest

from swift_ocr.errors import OcrFormatError
from swift_ocr.formats import open_source
from swift_ocr.formats.wordbox import read_wordbox_file


def expected_texts(data_templates):
    rows = (data_templates / "wordbox/expected.tsv").read_text(encoding="utf-8").splitlines()
    return {stem: text.replace("\\n", "\n") for stem, text in (r.split("\t", 1) for r in rows)}


def test_data_templates_text_and_lines(data_templates):
    expected = expected_texts(data_templates)
    reader = open_source("wordbox", input_path=str(data_templates / "wordbox"))
    assert reader.rejections == []
    seen = {}
    for key, sample in reader.iter_samples():
        stem = key.rsplit("/", 1)[1].rsplit(".", 1)[0]
        seen[stem] = sample
        assert sample.text == expected[stem]
        assert [r.text for r in sample.regions] == expected[stem].split("\n")
        w, h = sample.image_size
        for r in sample.regions:
            x1, y1, x2, y2 = r.bbox()
            assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
    assert set(seen) == set(expected)


def test_order_not_file_order(data_templates, tmp_path):
    label = next(p for p in sorted((data_templates / "wordbox/labels").glob("*.json"))
                 if [c[4] for c in json.loads(p.read_text(encoding="utf-8"))] !=
                 sorted(c[4] for c in json.loads(p.read_text(encoding="utf-8"))))
    chars = json.loads(label.read_text(encoding="utf-8"))
    file_order_text = "".join(c[5] for c in chars)
    sample = read_wordbox_file(label)
    assert sample.text != file_order_text
    assert sample.text == expected_texts(data_templates)[label.stem]


@pytest.mark.parametrize("content, fragment, kind", [
    ("[]", "empty character list", "empty_label"),
    ('{"chars": []}', "empty character list", "empty_label"),
    ("[[1, 2, 3, 4, 0]]", "expected [x1, y1, x2, y2, order, char]", "bad_record"),
    ('[[1, 2, "a", 4, 0, "x"]]', "not numeric", "bad_coordinates"),
    ("[[1, 2, 1e999, 4, 0, \"x\"]]", "non-finite", "bad_coordinates"),
    ("[[1, 2, 1" + "0" * 400 + ", 4, 0, \"x\"]]", "not numeric", "bad_coordinates"),  # too large for a float
    ("[[1, 2,", "invalid JSON", "invalid_json"),
    ("[" * 100000, "invalid JSON", "invalid_json"),  # nested too deeply for the parser
    ('{"a": 1}', "expected a JSON list", "bad_record"),
])
def test_bad_files_are_reported(tmp_path, content, fragment, kind):
    p = tmp_path / "x.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(OcrFormatError) as e:
        read_wordbox_file(p)
    assert str(p) in str(e.value) and fragment in str(e.value) and e.value.kind == kind


def test_lines_without_newline_entries():
    from swift_ocr.formats.wordbox import group_lines, parse_wordbox
    chars = parse_wordbox([[0, 0, 10, 10, 0, "A"], [10, 0, 20, 10, 1, "B"], [0, 20, 10, 30, 2, "C"]], "t.json")
    assert [r.text for r in group_lines(chars)] == ["AB", "C"]
