"""Regression tests for issue 19 through the real ``swift-ocr eval det`` / ``swift-ocr draw`` CLIs, on result rows
built from the real ICDAR 2015 and SROIE ground truth (../shared/data):

* case 6: a repetition loop (one object written 5 times) is scored as the official ICDAR 2015 script scores it
  (every detection counts) and the repeats are reported as ``duplicates``;
* case 7: answers in another family's format are counted (``responses_without_detections``, ``extra_text``)
  and warned about on stderr;
* case 8: ``--spotting --gt`` compares ground truth and detections after the same normalisation (NFKC) as the
  converted targets;
* case 9: a non-finite number in a Qwen2.5-VL answer makes only its object unparsed;
* case 16: lone surrogates in result texts are written (``--per-image``) and printed without a traceback.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from swift_ocr.cli.main import main
from swift_ocr.codecs import get_codec
from swift_ocr.families import family_names
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.sample import Region


def eval_det(argv, capsys):
    code = main(["eval", "det", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _records(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def icdar(shared_data, result_rows):
    """ICDAR 2015 samples that hold care (non-###) text."""
    return [s for s, _ in result_rows.icdar2015_samples(shared_data) if s.care_regions()]


# ------------------------------------------------------------------------------- case 6: repetition loops


@pytest.mark.parametrize("family", family_names())
def test_repeated_box_costs_precision_like_the_official_script(family, icdar, shared_data, tmp_path, capsys,
                                                               write_swift_results):
    codec = get_codec(family)
    once, five = [], []
    for s in icdar:
        enc = codec.object_encoder(s.image_size)
        target = codec.encode(s.care_regions(), s.image_size)
        first = enc(s.care_regions()[0])
        once.append((s.images[0], target, codec.join_objects([first])))
        five.append((s.images[0], target, codec.join_objects([first] * 5)))  # a repetition loop
    n = len(icdar)
    p_once = write_swift_results(tmp_path / "once.jsonl", once)
    p_five = write_swift_results(tmp_path / "five.jsonl", five)
    per_image = tmp_path / "per_image.jsonl"
    for extra in ([], ["--gt", shared_data / "icdar2015"]):
        code, out, err = eval_det(["--results", p_once, "--model-family", family, "--json", *extra], capsys)
        assert code == 0, err
        one = json.loads(out)
        code, out, err = eval_det(["--results", p_five, "--model-family", family, "--json", "--per-image",
                                   per_image, *extra], capsys)
        assert code == 0, err
        rep = json.loads(out)
        assert one["n_det"] == n and one["duplicates"] == 0
        # every copy counts: 5 times the detections, the same matches, 1/5 of the precision
        assert (rep["n_det"], rep["n_matched"], rep["n_gt"]) == (5 * n, one["n_matched"], one["n_gt"])
        assert rep["precision"] == pytest.approx(one["precision"] / 5, rel=1e-12)
        assert rep["recall"] == one["recall"]
        assert rep["duplicates"] == 4 * n
        records = _records(per_image)
        assert [r["duplicates"] for r in records] == [4] * n
        assert [r["n_det"] for r in records] == [5] * n
    # labels as ground truth: the object matches its own target, so per-box precision is 1 and 5 copies give 1/5
    code, out, _ = eval_det(["--results", p_five, "--model-family", family, "--json"], capsys)
    assert json.loads(out)["precision"] == pytest.approx(1 / 5)
    code, out, _ = eval_det(["--results", p_five, "--model-family", family], capsys)
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("duplicates"))
    assert row.split()[1] == str(4 * n)


# ---------------------------------------------------------------------- case 7: answers in another format


def test_answers_in_another_family_format_are_counted_and_warned(icdar, tmp_path, capsys, write_swift_results):
    internvl, qwen = get_codec("internvl"), get_codec("qwen2_vl")
    items = [(s.images[0], internvl.encode(s.care_regions(), s.image_size),
              qwen.encode(s.care_regions(), s.image_size)) for s in icdar]
    path = write_swift_results(tmp_path / "result.jsonl", items)
    per_image = tmp_path / "per_image.jsonl"
    n = len(items)
    code, out, err = eval_det(["--results", path, "--model-family", "internvl", "--json", "--per-image", per_image],
                              capsys)
    assert code == 0
    p = json.loads(out)
    assert (p["n_det"], p["unparsed"]) == (0, 0)  # what the issue saw: nothing parsed, nothing "unparsed"
    assert p["responses_without_detections"] == n
    assert p["extra_text"] == n  # each whole response is text outside any InternVL object
    assert "warning" in err and f"{n} of {n} responses gave no detection" in err and "wrong --model-family" in err
    records = _records(per_image)
    assert [r["extra_text_fragments"] for r in records] == [[resp.strip()] for _, _, resp in items]
    assert [r["responses_without_detections"] for r in records] == [1] * n
    code, out, err = eval_det(["--results", path, "--model-family", "internvl"], capsys)
    assert code == 0 and "wrong --model-family" in err
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1].isalpha()}
    assert rows["no"][2] == str(n) and rows["extra"][2] == str(n)
    assert "extra text: " in out  # the worst images show what the answer held
    # the right family: everything parses, no warning
    path = write_swift_results(tmp_path / "ok.jsonl", [(img, resp, resp) for img, _, resp in items])
    code, out, err = eval_det(["--results", path, "--model-family", "qwen2_vl", "--json"], capsys)
    p = json.loads(out)
    assert code == 0 and err == "" and p["responses_without_detections"] == 0 and p["extra_text"] == 0
    assert p["hmean"] == 1.0


# ------------------------------------------------------------------------- case 8: normalised spotting


def _full_width(text: str) -> str:
    """ASCII ``!``..``~`` as their full-width forms (U+FF01..U+FF5E), the space as the ideographic space U+3000:
    what NFKC maps back to the ASCII text."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_spotting_with_gt_normalises_both_sides_like_the_targets(shared_data, tmp_path, capsys,
                                                                 write_swift_results):
    # ground truth written in full-width forms (real SROIE receipt 000: its boxes, its texts), the total line
    # holding the text of the issue; the detections are their NFKC (ASCII) forms, as a model might write them
    src = shared_data / "sroie" / "box" / "000.csv"
    image = shared_data / "sroie" / "img" / "000.jpg"
    gt_dir = tmp_path / "gt"
    gt_dir.mkdir()
    lines = []
    for k, line in enumerate(src.read_text(encoding="utf-8").splitlines()):
        coords, text = line.split(",", 8)[:8], line.split(",", 8)[8]
        lines.append(",".join(coords) + "," + ("合计：１２．５０" if k == 3 else _full_width(text)))
    (gt_dir / "000.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_icdar_file(gt_dir / "000.csv", image)
    assert raw.regions[3].text == "合计：１２．５０"
    targets = [Region(r.polygon, unicodedata.normalize("NFKC", r.text)) for r in raw.care_regions()]
    assert targets[3].text == "合计:12.50"
    codec = get_codec("qwen2_vl")
    target = codec.encode(targets, raw.image_size)
    wrong = list(targets)
    wrong[3] = Region(targets[3].polygon, "合计:99.99")  # one wrong transcription, at the right place
    n = len(targets)
    for response, matched in ((target, n), (codec.encode(wrong, raw.image_size), n - 1)):
        path = write_swift_results(tmp_path / "result.jsonl", [(image, target, response)])
        per_image = tmp_path / "per_image.jsonl"
        for extra in (["--gt", gt_dir], []):
            code, out, err = eval_det(["--results", path, "--model-family", "qwen2_vl", "--json", "--spotting",
                                       "--per-image", per_image, *extra], capsys)
            assert code == 0, err
            p = json.loads(out)
            assert (p["n_gt"], p["n_det"], p["n_matched"]) == (n, n, matched), extra
        # the report shows the texts as they are in the files: nothing normalised in the output
        rec = _records(per_image)[0]
        if matched < n:
            assert rec["wrong_text"] == [{"gt": "合计:12.50", "det": "合计:99.99"}]  # labels
    code, out, _ = eval_det(["--results", path, "--model-family", "qwen2_vl", "--json", "--spotting",
                             "--per-image", per_image, "--gt", gt_dir], capsys)
    assert _records(per_image)[0]["wrong_text"] == [{"gt": "合计：１２．５０", "det": "合计:99.99"}]


# ------------------------------------------------------------------------- case 9: non-finite numbers


def test_non_finite_number_in_a_qwen2_5_vl_answer_is_unparsed(icdar, shared_data, tmp_path, capsys,
                                                               write_swift_results):
    codec = get_codec("qwen2_5_vl")
    items, n_care, broken = [], 0, []
    for s, bad in zip(icdar, ["NaN", "Infinity", "1e999"]):
        enc = codec.object_encoder(s.image_size)
        objs = [enc(r) for r in s.care_regions()]
        objs[0] = re.sub(r"\[\d+", "[" + bad, objs[0], count=1)  # first coordinate of the first object
        assert bad in objs[0]
        broken.append(objs[0])
        n_care += len(objs)
        items.append((s.images[0], codec.encode(s.care_regions(), s.image_size), codec.join_objects(objs)))
    path = write_swift_results(tmp_path / "result.jsonl", items)
    per_image = tmp_path / "per_image.jsonl"
    code, out, err = eval_det(["--results", path, "--model-family", "qwen2_5_vl", "--json", "--per-image",
                               per_image], capsys)
    assert code == 0, err
    p = json.loads(out)
    assert p["unparsed"] == 3 and p["n_det"] == n_care - 3 and p["n_matched"] == n_care - 3
    assert [r["unparsed_fragments"] for r in _records(per_image)] == [[b] for b in broken]
    code, out, err = eval_det(["--results", path, "--model-family", "qwen2_5_vl", "--gt", shared_data / "icdar2015"],
                              capsys)
    assert code == 0, err
    out_dir = tmp_path / "pictures"
    assert main(["draw", "--results", str(path), "--model-family", "qwen2_5_vl", "--output", str(out_dir)]) == 0
    assert "wrote 3 image(s)" in capsys.readouterr().out
    assert len(list(out_dir.glob("*.png"))) == 3


# --------------------------------------------------------------------------- case 16: lone surrogates


def test_lone_surrogates_in_results_are_written_and_printed(icdar, shared_data, tmp_path, capsys):
    codec = get_codec("internvl")
    path = tmp_path / "result.jsonl"
    texts = []
    with path.open("w", encoding="utf-8") as fh:
        for s in icdar[:3]:
            care = s.care_regions()
            pred = [Region(r.polygon, r.text + "\ud800") if i == 0 else r for i, r in enumerate(care)]
            response = "Sure\udcff:\n" + codec.encode(pred, s.image_size)
            texts.append((care[0].text, care[0].text + "\ud800", "Sure\udcff:"))
            row = {"response": response, "labels": codec.encode(care, s.image_size), "logprobs": None,
                   "images": [{"bytes": None, "path": s.images[0]}]}
            fh.write(json.dumps(row) + "\n")  # ensure_ascii: the file is valid UTF-8 JSON holding "\ud800"
    per_image = tmp_path / "per_image.jsonl"
    for extra in ([], ["--gt", shared_data / "icdar2015"]):
        code, out, err = eval_det(["--results", path, "--model-family", "internvl", "--spotting", "--per-image",
                                   per_image, *extra], capsys)
        assert code == 0, err
        assert "\\ud800" in out  # the worst images show the wrong texts, escaped
        records = _records(per_image)  # valid JSON, read back to the very same strings
        for rec, (gt_text, det_text, prose) in zip(records, texts):
            assert rec["extra_text_fragments"] == [prose]
            if not extra:
                assert {"gt": gt_text, "det": det_text} in rec["wrong_text"]
        code, out, err = eval_det(["--results", path, "--model-family", "internvl", "--json", "--note", "n\udcff",
                                   *extra], capsys)
        assert code == 0 and json.loads(out)["note"] == "n\udcff"
