"""Tests for ``swift-ocr validate`` (swift_ocr/cli/validate.py): exit codes, --json/--report/--lengths output, and
token counts with the tiny random GOT model equal to what ms-swift's got_ocr2_hf template encoding produces."""
from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Dict, List

import pytest

from swift_ocr.validate import token_budget as tb
from swift_ocr.cli.main import main
from swift_ocr.tiny.models import build_tiny_model

SROIE_STEMS = ("000", "001", "002", "003", "004", "005")
#: Relative difference allowed between the estimate (no --model) and the exact count of the tiny GOT model: the
#: measured bounds that swift-ocr states (token_budget.ESTIMATE_ERROR, measured in tests/test_token_estimate.py);
#: image tokens must match exactly.
ESTIMATE_BOUNDS = tb.ESTIMATE_ERROR["tiny_models"]["row"]


def _texts(shared_data: Path, stem: str) -> str:
    lines = (shared_data / "sroie" / "box" / f"{stem}.csv").read_text(encoding="utf-8").splitlines()
    return "\n".join(line.split(",", 8)[8] for line in lines if line.strip())


def _rows(shared_data: Path) -> List[dict]:
    img = shared_data / "sroie" / "img"
    rows = [{"messages": [{"role": "user", "content": "<image>OCR: "},
                          {"role": "assistant", "content": _texts(shared_data, s)}],
             "images": [str(img / f"{s}.jpg")]} for s in SROIE_STEMS]
    # a street photo, a system message, two images in one row, a Chinese target
    rows.append({"messages": [{"role": "system", "content": "You read receipts."},
                              {"role": "user", "content": "<image>OCR with format: "},
                              {"role": "assistant", "content": "GENAXIS\nTHEATRE"}],
                 "images": [{"path": str(shared_data / "icdar2015" / "imgs" / "img_1.jpg"), "bytes": None}]})
    rows.append({"messages": [{"role": "user", "content": "<image><image>OCR: "},
                              {"role": "assistant", "content": "中国网络空间安全 " + _texts(shared_data, "000")}],
                 "images": [str(img / "000.jpg"), str(img / "001.jpg")]})
    return rows


def _write(path: Path, rows) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


def _read_jsonl(path: Path) -> List[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def got_dir(tmp_path_factory) -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return build_tiny_model("got_ocr2_hf", tmp_path_factory.mktemp("tiny") / "tiny-random-got", seed=0)


@pytest.fixture(scope="module")
def reference(got_dir, shared_data) -> Dict[int, dict]:
    """What ``swift sft --model DIR --model_type got_ocr2_hf --template got_ocr2_hf`` encodes, per row (1-based line):
    built the way tests/test_tiny_model.py does it, straight through ms-swift."""
    import torch
    from swift.model import get_model_processor
    from swift.template import get_template

    _, processor = get_model_processor(str(got_dir), model_type="got_ocr2_hf", torch_dtype=torch.float32)
    template = get_template(processor, template_type="got_ocr2_hf")
    template.set_mode("train")
    imgpad = processor.tokenizer.convert_tokens_to_ids("<imgpad>")
    out = {}
    for line, row in enumerate(_rows(shared_data), 1):
        encoded = template.encode(row)
        out[line] = {"tokens": max(len(encoded["input_ids"]), len(encoded["labels"])),
                     "image_tokens": encoded["input_ids"].count(imgpad)}
    return out


def test_exact_counts_equal_ms_swift_template_encoding(got_dir, reference, shared_data, tmp_path, capsys):
    data = _write(tmp_path / "train.jsonl", _rows(shared_data))
    lengths = tmp_path / "lengths.jsonl"
    rc = main(["validate", str(data), "--model-family", "got", "--model", str(got_dir),
               "--lengths", str(lengths), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert rc == 0 and summary["ok"] is True and summary["problems"] == {}
    assert summary["tokens"]["mode"] == "exact"
    rows = _read_jsonl(lengths)
    assert [r["line"] for r in rows] == sorted(reference)
    for r in rows:
        ref = reference[r["line"]]
        assert r["exact"] is True
        assert r["tokens"] == ref["tokens"], r
        assert r["image_tokens"] == ref["image_tokens"], r
        assert r["tokens"] == r["image_tokens"] + r["text_tokens"]
    assert [reference[n]["image_tokens"] for n in sorted(reference)] == [256] * 7 + [512]
    assert summary["tokens"]["max"] == max(ref["tokens"] for ref in reference.values())


def test_exact_too_long_follows_the_ms_swift_count(got_dir, reference, shared_data, tmp_path, capsys):
    data = _write(tmp_path / "train.jsonl", _rows(shared_data))
    limit = sorted(ref["tokens"] for ref in reference.values())[3]
    report = tmp_path / "problems.jsonl"
    rc = main(["validate", str(data), "--model-family", "got", "--model", str(got_dir), "--max-length", str(limit),
               "--report", str(report)])
    out = capsys.readouterr().out
    assert rc == 1
    over = sorted(line for line, ref in reference.items() if ref["tokens"] > limit)
    problems = _read_jsonl(report)
    assert [p["line"] for p in problems] == over and {p["kind"] for p in problems} == {"too_long"}
    assert f"over --max-length {limit}: {len(over)}" in out
    assert "exact, ms-swift template" in problems[0]["message"]


def test_estimate_is_within_tolerance_of_the_exact_count(reference, shared_data, tmp_path, capsys):
    data = _write(tmp_path / "train.jsonl", _rows(shared_data))
    lengths = tmp_path / "lengths.jsonl"
    assert main(["validate", str(data), "--model-family", "got", "--lengths", str(lengths), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"]["mode"] == "estimate"
    for r in _read_jsonl(lengths):
        ref = reference[r["line"]]
        assert r["exact"] is False
        assert r["image_tokens"] == ref["image_tokens"]  # GOT: 256 per image, exact
        low, high = ESTIMATE_BOUNDS
        assert low * ref["tokens"] <= r["tokens"] - ref["tokens"] <= high * ref["tokens"], (r, ref)


def test_encode_error_only_with_the_real_template(got_dir, shared_data, tmp_path, capsys):
    # a tool_call turn: ms-swift accepts the role, but got_ocr2_hf has no agent template and refuses to encode
    row = _rows(shared_data)[0]
    tool = {**row, "messages": [row["messages"][0], {"role": "tool_call", "content": "{}"}, row["messages"][1]]}
    data = _write(tmp_path / "train.jsonl", [row, tool])
    rc = main(["validate", str(data), "--model-family", "got", "--model", str(got_dir), "--json"])
    assert rc == 1 and json.loads(capsys.readouterr().out)["problems"] == {"encode_error": 1}
    assert main(["validate", str(data), "--model-family", "got", "--json"]) == 0
    capsys.readouterr()


def test_table_report_and_exit_codes(shared_data, tmp_path, capsys):
    rows = _rows(shared_data)
    missing = {**rows[0], "images": [str(tmp_path / "gone.jpg")]}
    data = _write(tmp_path / "train.jsonl", [rows[0], "{not json", missing, rows[0]])
    report = tmp_path / "out" / "problems.jsonl"
    rc = main(["validate", str(data), "--model-family", "got", "--report", str(report), "--show", "1"])
    out = capsys.readouterr().out
    assert rc == 1
    for text in ("rows checked", "bad_json", "missing_image", "duplicate", f"{data}:2:", f"{data}:3:",
                 "FAILED: 2 error(s), 1 warning(s)", "tokens, estimated"):
        assert text in out, text
    problems = _read_jsonl(report)
    assert [(p["line"], p["kind"], p["severity"]) for p in problems] == [
        (2, "bad_json", "error"), (3, "missing_image", "error"), (4, "duplicate", "warning")]
    assert sorted(os.listdir(report.parent)) == ["problems.jsonl"]  # atomic write left no temp file

    ok = _write(tmp_path / "ok.jsonl", [rows[0], rows[0]])
    assert main(["validate", str(ok), "--model-family", "got", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"files", "rows", "errors", "warnings", "problems", "tokens", "ok"}
    assert summary["warnings"] == 1 and summary["ok"] is True
    assert main(["validate", str(ok), "--model-family", "got", "--strict", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["errors"] == 1


def test_cannot_run_is_exit_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "absent.jsonl"), "--model-family", "got"]) == 2
    assert "cannot read input" in capsys.readouterr().err
    data = _write(tmp_path / "d.jsonl", ["{}"])
    assert main(["validate", str(data), "--model-family", "got", "--model", str(tmp_path / "no-model")]) == 2
    assert "--model" in capsys.readouterr().err
    assert main(["validate", str(data), "--model-family", "got", "--model-type", "got_ocr2_hf"]) == 2
    assert "--model-type needs --model" in capsys.readouterr().err
    assert main(["validate", str(data), "--model-family", "got", "--template", "no_such_template"]) == 2
    assert "no_such_template" in capsys.readouterr().err
    assert main(["validate", str(data), "--model-family", "got", "--max-length", "0"]) == 2
    with pytest.raises(SystemExit):
        main(["validate", str(data), "--model-family", "llava"])


# ------------------------------------------------------------------ --system as swift sft resolves it (issue 20, 5)

#: a system prompt over several lines; the file version also holds a literal backslash-n, which ms-swift keeps as
#: two characters when it reads a .txt file (it converts them only in a --system string)
SYSTEM_LINES = ["You are an OCR engine for scanned receipts.", "Read every line exactly as written.",
                "Keep the reading order: top to bottom, left to right.", r"Write a literal \n only if it is printed."]


def _reference_with_system(got_dir, rows, system_text: str) -> Dict[int, int]:
    """Token length per row (1-based line) from ms-swift's got_ocr2_hf template with ``default_system`` set to the
    system text swift sft trains with."""
    import torch
    from swift.model import get_model_processor
    from swift.template import get_template

    _, processor = get_model_processor(str(got_dir), model_type="got_ocr2_hf", torch_dtype=torch.float32,
                                       load_model=False)
    template = get_template(processor, template_type="got_ocr2_hf", default_system=system_text)
    template.set_mode("train")
    out = {}
    for line, row in enumerate(rows, 1):
        encoded = template.encode(row)
        out[line] = max(len(encoded["input_ids"]), len(encoded["labels"]))
    return out


@pytest.mark.parametrize("how", ["txt_file", "literal_backslash_n"])
def test_system_is_resolved_like_swift_sft(got_dir, shared_data, tmp_path, capsys, how):
    rows = _rows(shared_data)[:3]
    data = _write(tmp_path / "train.jsonl", rows)
    if how == "txt_file":
        path = tmp_path / "system.txt"
        path.write_text("\n".join(SYSTEM_LINES) + "\n", encoding="utf-8")
        argument, text = str(path), "\n".join(SYSTEM_LINES) + "\n"  # the file's content, as it is
    else:
        argument = r"\n".join(SYSTEM_LINES[:3])  # as typed in a shell: backslash + n between the lines
        text = "\n".join(SYSTEM_LINES[:3])
    reference = _reference_with_system(got_dir, rows, text)
    unresolved = _reference_with_system(got_dir, rows, argument)
    assert reference != unresolved  # the test can tell a resolved system prompt from a passed-through one

    lengths = tmp_path / "lengths.jsonl"
    rc = main(["validate", str(data), "--model-family", "got", "--model", str(got_dir), "--system", argument,
               "--lengths", str(lengths), "--json"])
    assert rc == 0, capsys.readouterr()
    capsys.readouterr()
    assert {r["line"]: r["tokens"] for r in _read_jsonl(lengths)} == reference

    # --max-length between the counts: exactly the rows ms-swift would drop are too_long
    limit = sorted(reference.values())[0]
    report = tmp_path / "problems.jsonl"
    main(["validate", str(data), "--model-family", "got", "--model", str(got_dir), "--system", argument,
          "--max-length", str(limit), "--report", str(report)])
    capsys.readouterr()
    assert sorted(p["line"] for p in _read_jsonl(report) if p["kind"] == "too_long") == sorted(
        line for line, n in reference.items() if n > limit)


def test_system_txt_that_is_not_a_file_is_exit_2(tmp_path, shared_data, capsys):
    data = _write(tmp_path / "train.jsonl", _rows(shared_data)[:1])
    assert main(["validate", str(data), "--model-family", "got", "--system", str(tmp_path / "absent.txt")]) == 2
    assert "absent.txt" in capsys.readouterr().err


# ------------------------------------------- a setup error is one message and exit 2, not one per row (issue 20, 7)


@pytest.fixture(scope="module")
def internvl_dir(tmp_path_factory) -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return build_tiny_model("internvl_hf", tmp_path_factory.mktemp("tiny") / "tiny-random-internvl", seed=0)


def test_internvl_hf_folder_without_model_type_is_one_setup_error(internvl_dir, shared_data, tmp_path, capsys):
    img = shared_data / "sroie" / "img"
    rows = [{"messages": [{"role": "user", "content": "<image>Read all the text in the image."},
                          {"role": "assistant", "content": _texts(shared_data, s)}],
             "images": [str(img / f"{s}.jpg")]} for s in SROIE_STEMS[:3]]
    data = _write(tmp_path / "train.jsonl", rows)
    report = tmp_path / "problems.jsonl"
    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed: ms-swift's internvl2 template may encode this folder's rows")
    # default --model-type for the internvl family is internvl_chat (InternVL2), which this folder is not
    rc = main(["validate", str(data), "--model-family", "internvl", "--model", str(internvl_dir),
               "--report", str(report)])
    out, err = capsys.readouterr()
    assert rc == 2
    assert out == "" and not report.exists()  # nothing per row
    assert len([line for line in err.splitlines() if line.startswith("swift-ocr validate: error:")]) == 1
    for text in ("--model-type internvl", "--template internvl_hf", "docs/internvl_cpu.md", "setup problem"):
        assert text in err, text
    # the fix the message names works
    rc = main(["validate", str(data), "--model-family", "internvl", "--model", str(internvl_dir),
               "--model-type", "internvl", "--template", "internvl_hf", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert rc == 0 and summary["tokens"]["mode"] == "exact" and summary["tokens"]["counted"] == 3
