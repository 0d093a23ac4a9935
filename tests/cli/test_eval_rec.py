"""Tests for ``swift-ocr eval rec`` (swift_ocr/cli/eval_rec.py) on result files in the ms-swift 4.6.0 row shape."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from swift_ocr.cli import eval_rec


def _run(argv):
    parser = argparse.ArgumentParser(prog="swift-ocr eval rec")
    eval_rec.add_arguments(parser)
    return eval_rec.run(parser.parse_args(argv))


def _swift_row(image: str, ref: str, response: str) -> dict:
    """One row as ms-swift 4.6.0 ``swift infer --result_path`` writes it (see swift_ocr/eval/results.py)."""
    return {
        "response": response,
        "labels": ref,
        "logprobs": None,
        "messages": [
            {"role": "user", "content": "<image>Read all text in the image."},
            {"role": "assistant", "content": response},  # ms-swift appends the model's response
        ],
        "images": [{"bytes": None, "path": image}],
        "dataset": "val.jsonl",
    }


# (image, reference, prediction) with hand-worked scores:
#   kitten/sitting: 3 char edits / 6 ref chars, 1 word edit / 1 word, NED 3/max(7,6) = 3/7
#   'ＡＢＣ def'/'ABC def': NFKC makes them equal: 0 / 7 chars, 0 / 2 words, NED 0, exact
#   中国网络空间安全/中国网路空间安: 络->路 + deleted 全 = 2 / 8 chars, 1 / 1 word, NED 2/8
ROWS = [
    ("/data/img/kitten.jpg", "kitten", "sitting"),
    ("/data/img/abc.jpg", "ＡＢＣ def", "ABC def"),
    ("/data/img/zh.png", "中国网络空间安全", "中国网路空间安"),
]
EXPECTED = {
    "cer": (3 + 0 + 2) / (6 + 7 + 8),              # 5/21, micro average
    "wer": (1 + 0 + 1) / (1 + 2 + 1),              # 2/4
    "ned": 1 - (3 / 7 + 0 + 2 / 8) / 3,            # 1 - mean(NED) ~ 0.77381
    "accuracy": 1 / 3,
    "n": 3,
}


@pytest.fixture()
def results_file(tmp_path) -> Path:
    path = tmp_path / "result.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for image, ref, pred in ROWS:
            fh.write(json.dumps(_swift_row(image, ref, pred), ensure_ascii=False) + "\n")
    return path


def test_json_output(results_file, capsys):
    assert _run(["--results", str(results_file), "--json"]) == 0
    out = capsys.readouterr().out
    payload = json.loads(out)  # exactly one JSON document
    assert out.strip().count("\n") == 0
    assert set(payload) == set(EXPECTED)
    for key, value in EXPECTED.items():
        assert payload[key] == pytest.approx(value), key


def test_json_note_and_ignore_case(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(_swift_row("a.jpg", "Hello World", "hello world")) + "\n", encoding="utf-8")
    assert _run(["--results", str(path), "--json"]) == 0
    # H/h and W/w: 2 edits over 11 characters; both words differ
    payload = json.loads(capsys.readouterr().out)
    assert payload["cer"] == pytest.approx(2 / 11) and payload["wer"] == 1.0 and payload["accuracy"] == 0.0
    assert _run(["--results", str(path), "--json", "--ignore-case", "--note", "tiny random untrained"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["cer"], payload["wer"], payload["ned"], payload["accuracy"]) == (0.0, 0.0, 1.0, 1.0)
    assert payload["note"] == "tiny random untrained"


def test_table_output(results_file, capsys):
    note = "tiny random untrained model — not OCR quality"
    assert _run(["--results", str(results_file), "--note", note, "--worst", "2"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"NOTE: {note}"  # the note comes above the table
    assert "1-NED" in out and "CER" in out and "WER" in out and "accuracy" in out
    assert f"{EXPECTED['cer']:.4f}" in out and "5 / 21" in out
    assert f"{EXPECTED['ned']:.4f}" in out
    # worst rows: kitten (1-NED 4/7 ~ 0.571) before the Chinese line (0.75); the exact row is not listed
    worst = [line for line in lines if line.strip().startswith("line ")]
    assert len(worst) == 2
    assert "line 1" in worst[0] and "/data/img/kitten.jpg" in worst[0]
    assert "line 3" in worst[1] and "/data/img/zh.png" in worst[1]


def test_per_sample_file(results_file, tmp_path, capsys):
    out_path = tmp_path / "scores" / "per_sample.jsonl"
    out_path.parent.mkdir()
    assert _run(["--results", str(results_file), "--json", "--per-sample", str(out_path)]) == 0
    capsys.readouterr()
    records = [json.loads(line) for line in out_path.read_text(encoding="utf-8").splitlines()]
    assert [r["index"] for r in records] == [0, 1, 2]
    assert [r["line"] for r in records] == [1, 2, 3]
    assert [r["images"] for r in records] == [[image] for image, _, _ in ROWS]
    assert [(r["char_edits"], r["ref_chars"], r["word_edits"], r["ref_words"]) for r in records] == [
        (3, 6, 1, 1), (0, 7, 0, 2), (2, 8, 1, 1)]
    assert [r["exact"] for r in records] == [False, True, False]
    assert records[0]["ned"] == pytest.approx(1 - 3 / 7)
    assert records[1]["ref"] == "ABC def"  # the normalised text that was scored
    assert list(out_path.parent.iterdir()) == [out_path]  # no temp file left behind


def test_malformed_line_names_file_and_line(results_file, capsys):
    lines = results_file.read_text(encoding="utf-8").splitlines()
    lines.insert(1, '{"response": "a", "labels": ')  # truncated JSON on line 2
    results_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _run(["--results", str(results_file), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{results_file}:2:" in captured.err and "invalid JSON" in captured.err


def test_missing_and_empty_input(tmp_path, capsys):
    assert _run(["--results", str(tmp_path / "missing.jsonl"), "--json"]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert _run(["--results", str(empty)]) == 2
    assert "no result rows" in capsys.readouterr().err


def test_help_mentions_one_minus_ned(capsys):
    with pytest.raises(SystemExit):
        _run(["--help"])
    assert "1-NED" in capsys.readouterr().out
