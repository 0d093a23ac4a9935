"""The ms-swift jsonl writer: the string-built line equals json.dumps of the row dict, character for character."""
import json

import pytest
from hypothesis import given, settings, strategies as st

from swift_ocr.writers.swift_jsonl import one_image_rows, swift_row_line, to_swift_row
from swift_ocr.io_utils import dumps_line


def _reference(query, response, images, system=None, extra=None):
    row = to_swift_row(query, response, images, system)
    row.update(extra or {})
    return json.dumps(row, ensure_ascii=False) + "\n"


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.lists(st.text(), min_size=1, max_size=3), st.one_of(st.none(), st.text()),
       st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.integers(), st.text()),
                                            max_size=3)))
def test_line_equals_json_dumps_of_the_row(response, instruction, images, system, extra):
    query = "<image>" * len(images) + instruction.replace("<image>", "")
    assert swift_row_line(query, response, images, system, extra) == _reference(query, response, images, system,
                                                                                 extra)
    assert swift_row_line(query, response, images, system, extra) == dumps_line(
        {**to_swift_row(query, response, images, system), **(extra or {})})


def test_real_detection_rows(shared_data, tmp_path):
    """Rows as the converter writes them for the det task (tile metadata as the extra key), on SROIE receipts."""
    from swift_ocr.convert.api import ConvertOptions, convert
    from swift_ocr.formats import open_source

    out = tmp_path / "det.jsonl"
    convert(open_source("icdar", input_path=str(shared_data / "sroie")),
            ConvertOptions(task="det", family="internvl", system="You read receipts."), str(out))
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == 20
    for line in lines:
        row = json.loads(line)
        messages = row["messages"]
        assert [m["role"] for m in messages] == ["system", "user", "assistant"]
        assert line == _reference(messages[1]["content"], messages[2]["content"], row["images"],
                                  messages[0]["content"], {"swift_ocr": row["swift_ocr"]})


def test_image_tag_count_is_checked():
    with pytest.raises(ValueError, match="1 <image> tag"):
        swift_row_line("<image>x", "y", ["a.jpg", "b.jpg"])


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text(), st.text(), st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text()))
def test_one_image_rows_are_swift_row_lines(response, instruction, image, system, meta):
    """The batch converter's row writer (query and system encoded once) writes swift_row_line's text; extra_json is
    the extra members as JSON text."""
    query = "<image>" + instruction.replace("<image>", "")
    row = one_image_rows(query, system)
    assert row(response, image) == swift_row_line(query, response, [image], system) == _reference(
        query, response, [image], system)
    if meta is not None:
        member = json.dumps({"k": meta}, ensure_ascii=False)[1:-1]
        assert row(response, image, member) == swift_row_line(query, response, [image], system,
                                                              extra_json=member) == _reference(
            query, response, [image], system, {"k": meta})


def test_one_image_rows_need_one_image_tag():
    for query in ("no tag", "<image><image>two"):
        with pytest.raises(ValueError, match="<image> tag"):
            one_image_rows(query)
