"""Tests for swift_ocr/validate/: purpose-made rows, one per problem kind, between good rows built from real
receipts (SROIE) and street photos (ICDAR 2015); each kind must be found on its line and nothing on good rows."""
from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path
from typing import Dict, List, Set

import pytest
from PIL import Image

from swift_ocr.codecs import get_codec
from swift_ocr.sample import Region
from swift_ocr.validate import (ERROR, PROBLEM_KINDS, WARNING, ValidateOptions, resolve_image, validate_files)

SROIE_STEMS = ("000", "001", "002", "003")


def _sroie_lines(shared_data: Path, stem: str):
    """(quad, text) per row of a SROIE box file (the text is everything after the 8th comma)."""
    out = []
    for line in (shared_data / "sroie" / "box" / f"{stem}.csv").read_text(encoding="utf-8").splitlines():
        if line.strip():
            parts = line.split(",", 8)
            xs = [float(v) for v in parts[:8]]
            out.append(([(xs[i], xs[i + 1]) for i in range(0, 8, 2)], parts[8]))
    return out


def rec_row(shared_data: Path, stem: str, repeat: int = 1) -> dict:
    text = "\n".join(t for _, t in _sroie_lines(shared_data, stem))
    return {"messages": [{"role": "user", "content": "<image>OCR: "},
                         {"role": "assistant", "content": "\n".join([text] * repeat)}],
            "images": [str(shared_data / "sroie" / "img" / f"{stem}.jpg")]}


def det_row(shared_data: Path, stem: str, family: str = "got", extra: str = "") -> dict:
    image = shared_data / "sroie" / "img" / f"{stem}.jpg"
    with Image.open(image) as im:
        size = im.size
    regions = [Region(polygon=q, text=t) for q, t in _sroie_lines(shared_data, stem)]
    target = get_codec(family).encode(regions, size) + extra
    return {"messages": [{"role": "user", "content": "<image>Detect the text."},
                         {"role": "assistant", "content": target}],
            "images": [str(image)]}


def icdar_row(shared_data: Path, n: int) -> dict:
    return {"messages": [{"role": "user", "content": "<image>OCR: "}, {"role": "assistant", "content": f"scene {n}"}],
            "images": [{"path": str(shared_data / "icdar2015" / "imgs" / f"img_{n}.jpg"), "bytes": None}]}


def png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR announces width x height (8-bit grey) with a tiny IDAT: opens, never decodes fully."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.fixture()
def bad_images(shared_data: Path, tmp_path: Path) -> Dict[str, str]:
    """Purpose-made broken / odd images, made from real ones where a real one can be."""
    real = shared_data / "sroie" / "img" / "000.jpg"
    data = real.read_bytes()
    d = tmp_path / "imgs"
    d.mkdir()
    files = {
        "truncated": ("truncated.jpg", data[: len(data) * 6 // 10]),
        "corrupt": ("corrupt.jpg", b"this is not an image at all" * 10),
        "empty": ("empty.jpg", b""),
        "bomb": ("bomb.png", png_header(20000, 10000)),      # 200 M pixels > 2 x 89478485
        "huge": ("huge.png", png_header(12000, 8000)),       # 96 M pixels > 89478485, < Pillow's hard limit
    }
    out = {}
    for key, (name, content) in files.items():
        (d / name).write_bytes(content)
        out[key] = str(d / name)
    with Image.open(real) as im:
        im.crop((0, 0, 5, 100)).save(d / "small.png")                  # 5 px wide
        im.convert("RGB").resize((1700, 8)).save(d / "thin.png")       # aspect 212.5
    out["small"], out["thin"] = str(d / "small.png"), str(d / "thin.png")
    return out


def _write(path: Path, items: List) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write((item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)) + "\n")


def _found(report) -> Dict[int, Set[str]]:
    out: Dict[int, Set[str]] = {}
    for p in report.problems:
        out.setdefault(p.line, set()).add(p.kind)
    return out


def _with_image(row: dict, image: str) -> dict:
    return {**row, "images": [image]}


def test_every_kind_found_on_its_line_and_nothing_on_good_rows(shared_data, bad_images, tmp_path):
    good = [rec_row(shared_data, s) for s in SROIE_STEMS] + [icdar_row(shared_data, 1), icdar_row(shared_data, 2),
                                                             det_row(shared_data, "000")]
    base = good[0]
    # (row, expected kinds); None = a good row
    items = [
        (good[0], set()),
        ('{"messages": [oops', {"bad_json"}),
        (good[1], set()),
        ({"messages": "OCR", "images": []}, {"bad_row"}),
        ({"messages": [{"role": "bot", "content": "x"}]}, {"bad_row"}),
        ({"messages": [{"role": "user", "content": "<image>"}, {"role": "system", "content": "s"},
                       {"role": "assistant", "content": "a"}], "images": base["images"]}, {"bad_row"}),
        ({**base, "images": [3]}, {"bad_row"}),
        ({**base, "messages": [{"role": "user", "content": "<image><image>OCR: "}, base["messages"][1]]},
         {"image_tag_mismatch"}),
        (_with_image(base, str(tmp_path / "no_such_image.jpg")), {"missing_image"}),
        (_with_image(base, "http://example.com/receipt.jpg"), {"remote_image"}),
        (_with_image(base, bad_images["truncated"]), {"undecodable_image"}),
        (_with_image(base, bad_images["corrupt"]), {"undecodable_image"}),
        (_with_image(base, bad_images["empty"]), {"undecodable_image"}),
        (_with_image(base, bad_images["bomb"]), {"decompression_bomb"}),
        (_with_image(base, bad_images["huge"]), {"image_too_large"}),
        (_with_image(base, bad_images["small"]), {"image_too_small"}),
        (_with_image(base, bad_images["thin"]), {"extreme_aspect_ratio"}),
        ({**base, "messages": [base["messages"][0], {"role": "assistant", "content": " \n "}]}, {"empty_target"}),
        ({**base, "messages": [base["messages"][0]]}, {"empty_target"}),
        (good[2], set()),
        (det_row(shared_data, "001", extra="\n[100, 200, 1200, 300] TOTAL"), {"box_outside_image"}),
        (det_row(shared_data, "002", extra="\n[12, 30, 400"), {"box_unparsed"}),
        (rec_row(shared_data, "003", repeat=8), {"too_long"}),
        (good[3], set()),
        (good[4], set()),
        (good[5], set()),
        (good[6], set()),
        (good[0], {"duplicate"}),
    ]
    data = tmp_path / "train.jsonl"
    _write(data, [row for row, _ in items])
    report = validate_files([data], ValidateOptions(family="got", max_length=2500))

    expected = {i + 1: kinds for i, (_, kinds) in enumerate(items) if kinds}
    assert _found(report) == expected
    # every kind the module claims, bar those that need an exact counter, --task det or rows recording codec settings
    # (resize_mismatch: tests/test_qwen_pixels_flow.py), is exercised above
    assert set(PROBLEM_KINDS) - {k for ks in expected.values() for k in ks} == {"no_boxes", "encode_error",
                                                                                 "resize_mismatch"}
    dup = report.by_kind("duplicate")[0]
    assert f"{data}:1" in dup.message and dup.severity == WARNING
    assert report.rows == len(items)
    assert report.errors == sum(1 for p in report.problems if PROBLEM_KINDS[p.kind][0] == ERROR)
    assert not report.ok
    for p in report.problems:
        assert p.source == str(data) and p.message
    # image problems name the image
    assert "no_such_image.jpg" in report.by_kind("missing_image")[0].message
    assert "1700x8" in report.by_kind("extreme_aspect_ratio")[0].message
    assert "1 of" in report.by_kind("box_outside_image")[0].message


def test_good_rows_only_is_ok_with_token_stats(shared_data, tmp_path):
    data = tmp_path / "good.jsonl"
    _write(data, [rec_row(shared_data, s) for s in SROIE_STEMS] + [""] + [icdar_row(shared_data, 1)])
    report = validate_files([data], ValidateOptions(family="got", max_length=4096))
    assert report.problems == [] and report.ok
    assert report.rows == 5  # the blank line is not a row
    t = report.tokens.to_dict()
    assert t["mode"] == "estimate" and t["counted"] == 5 and t["over"] == 0
    assert t["image_min"] == t["image_max"] == 256
    assert [line for _, line, _ in report.row_tokens] == [1, 2, 3, 4, 6]


def test_no_boxes_and_task_modes(shared_data, tmp_path):
    data = tmp_path / "det.jsonl"
    outside = det_row(shared_data, "001", extra="\n[100, 200, 1200, 300] TOTAL")
    _write(data, [det_row(shared_data, "000"), rec_row(shared_data, "002"), outside])
    det = validate_files([data], ValidateOptions(family="got", task="det"))
    assert _found(det) == {2: {"no_boxes"}, 3: {"box_outside_image"}}
    # auto: a target without boxes is a rec target; rec: no box checks at all
    assert _found(validate_files([data], ValidateOptions(family="got"))) == {3: {"box_outside_image"}}
    assert _found(validate_files([data], ValidateOptions(family="got", task="rec"))) == {}


# One object per family with x2 beyond the grid (0-1000 / 0-999; Qwen2.5-VL: pixels of the ~462x1008 resized image).
OUTSIDE = {
    "internvl": "<ref>TOTAL</ref><box>[[100, 100, 1100, 200]]</box>",
    "qwen2_vl": "<|object_ref_start|>TOTAL<|object_ref_end|><|box_start|>(100,100),(1100,200)<|box_end|>",
    "qwen2_5_vl": '```json\n[\n  {"bbox_2d": [10, 10, 5000, 40], "text_content": "TOTAL"}\n]\n```',
    "deepseek_ocr": "<|ref|>TOTAL<|/ref|><|det|>[[100, 100, 1100, 200]]<|/det|>",
}


@pytest.mark.parametrize("family", sorted(OUTSIDE))
def test_box_checks_use_the_family_codec(shared_data, tmp_path, family):
    good = det_row(shared_data, "000", family=family)
    bad = {**good, "messages": [good["messages"][0], {"role": "assistant", "content": OUTSIDE[family]}]}
    data = tmp_path / "det.jsonl"
    _write(data, [good, bad])
    report = validate_files([data], ValidateOptions(family=family, task="det"))
    assert _found(report) == {2: {"box_outside_image"}}


def test_qwen_resizing_limit_is_an_encode_error_once(shared_data, bad_images, tmp_path):
    data = tmp_path / "thin.jsonl"
    _write(data, [_with_image(rec_row(shared_data, "000"), bad_images["thin"])])  # 1700x8, aspect 212.5
    # default --max-aspect 200 reports the image; the failed token estimate is not reported twice
    assert _found(validate_files([data], ValidateOptions(family="qwen2_5_vl"))) == {1: {"extreme_aspect_ratio"}}
    # with the check relaxed, Qwen's smart_resize (aspect <= 200) still refuses the image
    relaxed = validate_files([data], ValidateOptions(family="qwen2_5_vl", max_aspect=300))
    assert _found(relaxed) == {1: {"encode_error"}} and "aspect ratio" in relaxed.problems[0].message
    # GOT resizes anything to 1024x1024
    assert _found(validate_files([data], ValidateOptions(family="got", max_aspect=300))) == {}


def test_strict_makes_warnings_errors(shared_data, tmp_path):
    data = tmp_path / "dup.jsonl"
    row = rec_row(shared_data, "000")
    _write(data, [row, row])
    relaxed = validate_files([data], ValidateOptions(family="got"))
    assert relaxed.ok and relaxed.warnings == 1 and relaxed.errors == 0
    strict = validate_files([data], ValidateOptions(family="got", strict=True))
    assert not strict.ok and strict.errors == 1 and strict.problems[0].severity == ERROR


def test_duplicates_are_found_across_files(shared_data, tmp_path):
    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    _write(train, [rec_row(shared_data, "000"), rec_row(shared_data, "001")])
    _write(val, [rec_row(shared_data, "002"), rec_row(shared_data, "001")])
    report = validate_files([train, val], ValidateOptions(family="got"))
    [dup] = report.problems
    assert dup.kind == "duplicate" and dup.source == str(val) and dup.line == 2
    assert f"{train}:2" in dup.message
    # same messages with another image is not a duplicate
    other = rec_row(shared_data, "000")
    other["images"] = [str(shared_data / "sroie" / "img" / "001.jpg")]
    _write(val, [other])
    assert validate_files([train, val], ValidateOptions(family="got")).problems == []


def test_no_decode_reads_headers_only(shared_data, bad_images, tmp_path):
    data = tmp_path / "t.jsonl"
    _write(data, [_with_image(rec_row(shared_data, "000"), bad_images["truncated"]),
                  _with_image(rec_row(shared_data, "001"), bad_images["corrupt"])])
    full = validate_files([data], ValidateOptions(family="got"))
    assert _found(full) == {1: {"undecodable_image"}, 2: {"undecodable_image"}}
    header = validate_files([data], ValidateOptions(family="got", decode=False))
    assert _found(header) == {2: {"undecodable_image"}}  # the truncated JPEG's header is intact


def test_max_pixels_min_side_and_aspect_options(shared_data, tmp_path):
    data = tmp_path / "t.jsonl"
    _write(data, [rec_row(shared_data, "000"), icdar_row(shared_data, 1)])  # 463x1013, 1280x720
    report = validate_files([data], ValidateOptions(family="got", max_pixels=500_000, min_side=480, max_aspect=2.0))
    # 463*1013 = 469019 <= 500000 but 463 < 480 and 1013/463 = 2.19 > 2; 1280*720 = 921600 > 500000
    assert _found(report) == {1: {"image_too_small", "extreme_aspect_ratio"}, 2: {"image_too_large"}}


def test_relative_paths_resolve_against_cwd_like_ms_swift(shared_data, tmp_path, monkeypatch):
    sub = tmp_path / "data"
    sub.mkdir()
    image = shared_data / "sroie" / "img" / "000.jpg"
    (sub / "r.jpg").write_bytes(image.read_bytes())
    data = sub / "train.jsonl"
    _write(data, [_with_image(rec_row(shared_data, "000"), "r.jpg")])

    monkeypatch.chdir(tmp_path)  # r.jpg is next to the jsonl, not in the current directory
    [p] = validate_files([data], ValidateOptions(family="got")).problems
    assert p.kind == "missing_image"
    assert "relative to the jsonl's folder" in p.message and "ROOT_IMAGE_DIR" in p.message
    # ms-swift's ROOT_IMAGE_DIR (option or environment) resolves it
    assert validate_files([data], ValidateOptions(family="got", root_image_dir=str(sub))).problems == []
    monkeypatch.setenv("ROOT_IMAGE_DIR", str(sub))
    assert validate_files([data], ValidateOptions(family="got")).problems == []
    monkeypatch.delenv("ROOT_IMAGE_DIR")
    monkeypatch.chdir(sub)  # run from the jsonl's folder, as the hint says
    assert validate_files([data], ValidateOptions(family="got")).problems == []


def test_image_entries_as_ms_swift_accepts_them(shared_data, tmp_path):
    image = shared_data / "icdar2015" / "imgs" / "img_3.jpg"
    b64 = base64.b64encode(image.read_bytes()).decode("ascii")
    assert resolve_image({"path": str(image), "bytes": None}, str(tmp_path), None).path == str(image)
    ref = resolve_image({"bytes": b64, "path": "ignored.jpg"}, str(tmp_path), None)
    assert ref.data == image.read_bytes()
    assert resolve_image("data:image/jpeg;base64," + b64, str(tmp_path), None).data == image.read_bytes()
    assert resolve_image(b64, str(tmp_path), None).data == image.read_bytes()  # > 2000 chars: base64
    assert resolve_image("https://example.com/a.jpg", str(tmp_path), None).url
    with pytest.raises(ValueError):
        resolve_image({"path": None, "bytes": None}, str(tmp_path), None)

    row = icdar_row(shared_data, 3)
    data = tmp_path / "t.jsonl"
    _write(data, [{**row, "images": [{"bytes": b64, "path": None}]}, {**row, "images": str(image)}])
    report = validate_files([data], ValidateOptions(family="got"))
    # both load; the second is the same picture from a file, which is not the same image entry -> no duplicate
    assert report.problems == [] and report.tokens.to_dict()["counted"] == 2


def test_bom_and_report_dict(shared_data, tmp_path):
    data = tmp_path / "bom.jsonl"
    data.write_bytes(b"\xef\xbb\xbf" + json.dumps(rec_row(shared_data, "000")).encode("utf-8") + b"\n{bad\n"
                     + json.dumps(rec_row(shared_data, "001")).encode("latin-1") + b"\n"
                     + '{"messages": "caf\u00e9"}'.encode("latin-1") + b"\n")
    report = validate_files([data], ValidateOptions(family="got"))
    d = report.to_dict()
    assert d["rows"] == 4 and d["problems"] == {"bad_json": 2} and d["ok"] is False
    assert d["errors"] == 2 and d["warnings"] == 0
    assert [(p.line, p.kind) for p in report.problems] == [(2, "bad_json"), (4, "bad_json")]
    assert "UTF-8" in report.problems[1].message


def test_bad_options():
    with pytest.raises(ValueError):
        ValidateOptions(family="llava")
    with pytest.raises(ValueError):
        ValidateOptions(family="got", task="spot")
    with pytest.raises(ValueError):
        ValidateOptions(family="got", max_length=0)
