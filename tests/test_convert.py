"""The converter on real data: every ground-truth line kept, seeded split, rejects file, determinism."""
import json

import pytest

from swift_ocr.convert import ConvertOptions, convert, split_keys
from swift_ocr.errors import OcrFormatError
from swift_ocr.formats import open_source


def read_jsonl(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def gt_lines(csv_path):
    data = csv_path.read_bytes().decode("utf-8-sig")
    return [ln.split(",", 8)[8] for ln in data.splitlines() if ln.strip()]


def test_sroie_rec_every_line_present(tmp_path, shared_data):
    reader = open_source("icdar", images=str(shared_data / "sroie/img"), labels=str(shared_data / "sroie/box"))
    report = convert(reader, ConvertOptions(task="rec", family="got"), str(tmp_path / "sroie.jsonl"))
    rows = read_jsonl(tmp_path / "sroie.jsonl")
    assert report.train == len(rows) == 20 and report.rejected == 0
    for row in rows:
        stem = row["images"][0].rsplit("/", 1)[1].split(".")[0]
        user, assistant = row["messages"]
        assert user == {"role": "user", "content": "<image>OCR: "}
        assert assistant["content"].split("\n") == [t for t in gt_lines(shared_data / f"sroie/box/{stem}.csv")
                                                    if t != "###"]
    assert read_jsonl(tmp_path / "sroie.rejects.jsonl") == []


def test_split_is_seeded_exact_and_deterministic(tmp_path, shared_data):
    def run(seed, out):
        reader = open_source("icdar", input_path=str(shared_data / "sroie"))
        convert(reader, ConvertOptions(family="deepseek_ocr", val_ratio=0.2, seed=seed), str(out))
    run(7, tmp_path / "a/x.jsonl")
    run(7, tmp_path / "b/x.jsonl")
    run(8, tmp_path / "c/x.jsonl")
    for name in ("x.jsonl", "x.val.jsonl", "x.rejects.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    train, val = read_jsonl(tmp_path / "a/x.jsonl"), read_jsonl(tmp_path / "a/x.val.jsonl")
    assert (len(train), len(val)) == (16, 4)
    images = [r["images"][0] for r in train + val]
    assert len(set(images)) == 20
    assert val[0]["messages"][0]["content"] == "<image>Free OCR."
    other_val = read_jsonl(tmp_path / "c/x.val.jsonl")
    assert {r["images"][0] for r in other_val} != {r["images"][0] for r in val}


def test_split_keys_bounds():
    keys = [f"k{i}" for i in range(10)]
    assert len(split_keys(keys, 0.25, 0)) == 2  # round(2.5) = 2 (banker's rounding)
    assert len(split_keys(keys, 0.01, 0)) == 1
    assert len(split_keys(keys[:2], 0.9, 0)) == 1
    assert split_keys(keys, 0.0, 0) == set()
    with pytest.raises(ValueError):
        split_keys(keys, 1.0, 0)


def test_icdar2015_line_task_and_rejects(tmp_path, shared_data):
    reader = open_source("icdar", input_path=str(shared_data / "icdar2015"))
    report = convert(reader, ConvertOptions(task="line", family="internvl"), str(tmp_path / "lines.jsonl"))
    expected_lines, expected_rejects = 0, 0
    for gt in sorted((shared_data / "icdar2015/gts").glob("*.txt")):
        care = [t for t in gt_lines(gt) if t != "###"]
        expected_lines += len(care)
        expected_rejects += not care
    rows = read_jsonl(tmp_path / "lines.jsonl")
    rejects = read_jsonl(tmp_path / "lines.rejects.jsonl")
    assert len(rows) == report.train == expected_lines
    assert len(rejects) == report.rejected == expected_rejects > 0
    assert all("all are ###" in r["reason"] and r["source"].endswith(".txt") for r in rejects)
    assert report.sources == 10 == report.converted_sources + report.rejected
    from PIL import Image
    for row in rows:
        with Image.open(row["images"][0]) as im:
            assert im.size[0] >= 1 and im.size[1] >= 1
        assert row["messages"][0]["content"] == "<image>Read all the text in the image."


def test_strict_stops_at_first_problem(tmp_path, shared_data):
    reader = open_source("icdar", input_path=str(shared_data / "icdar2015"))
    with pytest.raises(OcrFormatError, match=r"gt_img_4\.txt: empty target text"):
        convert(reader, ConvertOptions(task="rec", strict=True), str(tmp_path / "s.jsonl"))
    assert not (tmp_path / "s.jsonl").exists()
    assert not list(tmp_path.glob(".s.jsonl*"))  # no temporary file left behind


def test_got_output_format(tmp_path, shared_data):
    reader = open_source("icdar", input_path=str(shared_data / "sroie"))
    convert(reader, ConvertOptions(output_format="got"), str(tmp_path / "got.json"))
    entries = json.loads((tmp_path / "got.json").read_text(encoding="utf-8"))
    assert len(entries) == 20
    assert entries[0]["conversations"][0]["value"] == "<image>\nOCR: "
    assert (tmp_path / entries[0]["image"]).resolve() == (shared_data / "sroie/img/000.jpg").resolve()
