"""Tests for swift_ocr.eval.results: reading ``swift infer --result_path`` jsonl rows (ms-swift 4.6.0)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from swift_ocr.errors import OcrFormatError
from swift_ocr.eval.results import iter_raw_rows, iter_results, read_results


def _write(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_rows_written_by_ms_swift_code(tmp_path, shared_data):
    """Build rows exactly as ms-swift 4.6.0 SwiftInfer._batch_infer does, with ms-swift's own helpers.

    infer.py: ``labels = InferRequest.remove_response(data['messages'])`` (pops the dataset's assistant answer),
    then ``data['messages'].append({'role': 'assistant', 'content': response})`` and
    ``data = {'response': response, 'labels': labels, 'logprobs': ..., **data}``, written by ``JsonlWriter``.
    Image paths are cast to ``{'bytes': None, 'path': ...}`` by ``RowPreprocessor._cast_mm_data``.
    """
    from swift.dataset.preprocessor import RowPreprocessor
    from swift.utils import JsonlWriter, remove_response

    images = [str(shared_data / "sroie" / "img" / "000.jpg"), str(shared_data / "zh" / "short.png")]
    refs = ["TAN WOON YANN", "中国网络空间安全"]
    responses = ["TAN WO0N YANN", "中国网路空间安"]
    dataset_rows = []
    for image, ref in zip(images, refs):
        row = {
            "messages": [{"role": "user", "content": "<image>Read all text in the image."},
                         {"role": "assistant", "content": ref}],
            "images": [image],
            "dataset": "val.jsonl",
        }
        RowPreprocessor._cast_mm_data(row)
        dataset_rows.append(row)
    assert dataset_rows[0]["images"] == [{"bytes": None, "path": images[0]}]

    out = []
    for data, response in zip(dataset_rows, responses):
        labels = remove_response(data["messages"])
        data["messages"].append({"role": "assistant", "content": response})
        out.append({"response": response, "labels": labels, "logprobs": None, **data})
    result_path = tmp_path / "infer_result" / "result.jsonl"
    JsonlWriter(str(result_path)).append(out, gather_obj=True)

    rows = read_results(result_path)
    assert [(r.pred, r.ref, r.images, r.line, r.ref_key) for r in rows] == [
        (responses[0], refs[0], [images[0]], 1, "labels"),
        (responses[1], refs[1], [images[1]], 2, "labels"),
    ]
    assert rows[0].source == str(result_path)


def test_messages_fallback_and_content_parts(tmp_path):
    path = _write(tmp_path / "r.jsonl", [
        # no 'labels' key: the reference is the last assistant message (not the model's response)
        {"response": "pred one", "messages": [{"role": "user", "content": "<image>read"},
                                              {"role": "assistant", "content": "first"},
                                              {"role": "user", "content": "again"},
                                              {"role": "assistant", "content": "ref one"}],
         "images": "a.jpg"},
        # OpenAI-style content parts in labels: the text parts are joined
        {"response": "x", "labels": [{"type": "text", "text": "ab"}, {"type": "text", "text": "c"}],
         "images": [{"bytes": "<<<bytes>>>", "path": None}]},
        "",  # blank line: no row
        {"response": "", "labels": "", "images": None},
    ])
    rows = read_results(path)
    assert [(r.pred, r.ref, r.images, r.line, r.ref_key) for r in rows] == [
        ("pred one", "ref one", ["a.jpg"], 1, "messages"),
        ("x", "abc", ["<bytes>"], 2, "labels"),
        ("", "", [], 4, "labels"),
    ]


@pytest.mark.parametrize(
    "bad_line, reason",
    [
        ('{"response": "a", "labels": "b"', "invalid JSON"),
        ('["response", "labels"]', "expected a JSON object"),
        ('{"labels": "b"}', "missing 'response'"),
        ('{"response": null, "labels": "b"}', "'response' must be a string"),
        ('{"response": "a", "labels": null}', "'labels' is null"),
        ('{"response": "a", "labels": 3}', "'labels' must be a string"),
        ('{"response": "a"}', "no 'labels' and no 'messages'"),
        ('{"response": "a", "messages": [{"role": "user", "content": "q"}]}', "no assistant message"),
        ('{"response": "a", "labels": "b", "images": 5}', "'images' must be a list"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, bad_line, reason):
    path = tmp_path / "results.jsonl"
    path.write_text('{"response": "ok", "labels": "ok"}\n\n' + bad_line + "\n", encoding="utf-8")
    rows = iter_results(path)
    assert next(rows).line == 1  # rows before the bad line are yielded (streaming)
    with pytest.raises(OcrFormatError) as info:
        next(rows)
    err = info.value
    assert (err.source, err.line) == (str(path), 3)
    assert reason in err.reason
    assert str(err).startswith(f"{path}:3: ")


def test_invalid_utf8_and_bom(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"response": "a", "labels": "a"}\n{"response": "\xff", "labels": "a"}\n')
    rows = iter_results(path)
    assert next(rows).ref == "a"  # BOM on line 1 tolerated
    with pytest.raises(OcrFormatError, match=r":2: not valid UTF-8"):
        next(rows)


def test_raw_rows_keep_every_column_and_are_not_validated(tmp_path):
    """iter_raw_rows (what swift_ocr.eval.det_results reads extra columns with) reads like iter_results but yields the
    decoded rows as they are."""
    path = tmp_path / "r.jsonl"
    tile = {"image_size": [5, 5], "offset": [0, 2], "source_image": "a.jpg"}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"response": "a", "labels": "a", "swift_ocr": tile}).encode()
                     + b'\n\n["not", "a", "row"]\n{"response": \n')
    rows = iter_raw_rows(path)
    assert next(rows) == (1, {"response": "a", "labels": "a", "swift_ocr": tile})
    assert next(rows) == (3, ["not", "a", "row"])  # parse_row, not iter_raw_rows, refuses it
    with pytest.raises(OcrFormatError, match=r":4: invalid JSON"):
        next(rows)


def test_missing_file(tmp_path):
    with pytest.raises(OSError):
        read_results(tmp_path / "nope.jsonl")
