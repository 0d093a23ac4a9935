"""Tests for ``swift-ocr eval det`` (swift_ocr/cli/eval_det.py) on result rows written the way ms-swift 4.6.0 does,
from the real ICDAR 2015 and SROIE ground truth. Expected scores come from counts the tests control."""
from __future__ import annotations

import json

import pytest

from swift_ocr.cli.main import main
from swift_ocr.codecs import get_codec
from swift_ocr.families import family_names
from swift_ocr.sample import Region


def eval_det(argv, capsys):
    code = main(["eval", "det", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def icdar(shared_data, result_rows):
    return [s for s, _ in result_rows.icdar2015_samples(shared_data)]


@pytest.fixture(scope="module")
def sroie(shared_data, result_rows):
    return [s for s, _ in result_rows.sroie_samples(shared_data)]


def _n_care(samples):
    return sum(len(s.care_regions()) for s in samples)


@pytest.mark.parametrize("family", family_names())
def test_ground_truth_as_prediction_json(family, icdar, sroie, shared_data, tmp_path, capsys, write_swift_results):
    codec = get_codec(family)
    for samples, gt in ((icdar, shared_data / "icdar2015"), (sroie, shared_data / "sroie" / "box")):
        items = []
        for s in samples:
            target = codec.encode(s.care_regions(), s.image_size)
            items.append((s.images[0], target, target))
        path = write_swift_results(tmp_path / "result.jsonl", items)
        for extra in ([], ["--gt", gt], ["--gt", gt, "--spotting"]):
            code, out, err = eval_det(["--results", path, "--model-family", family, "--json", *extra], capsys)
            assert code == 0, err
            assert out.strip().count("\n") == 0  # exactly one JSON object
            payload = json.loads(out)
            assert {"precision", "recall", "hmean", "n_images", "n_gt", "n_det", "unparsed"} <= set(payload)
            assert (payload["precision"], payload["recall"], payload["hmean"]) == (1.0, 1.0, 1.0), extra
            assert payload["n_images"] == len(samples) and payload["unparsed"] == 0
            assert payload["n_gt"] == payload["n_det"] == _n_care(samples)


def _degraded(icdar, codec):
    """Drop every 2nd care region; move the first kept one of images 1, 4, 7, ... to an empty corner; cut the
    response of images 0, 3, 6, ... inside its last object (as max_new_tokens would). Returns (items, expected)."""
    items, dropped, garbled, cut, missed_texts = [], 0, 0, 0, {}
    for k, s in enumerate(icdar):
        w, h = s.image_size
        corner = [(w - 12.0, h - 12.0), (w - 2.0, h - 12.0), (w - 2.0, h - 2.0), (w - 12.0, h - 2.0)]
        assert all(r.bbox()[2] < w - 12 or r.bbox()[3] < h - 12 for r in s.regions)  # nothing annotated there
        care = s.care_regions()
        kept = [r for i, r in enumerate(care) if i % 2 == 0]
        missed = [r.text for i, r in enumerate(care) if i % 2 == 1]
        dropped += len(missed)
        response = codec.encode(kept, s.image_size)
        if kept and k % 3 == 1:
            missed.append(kept[0].text)
            kept[0] = Region(corner, kept[0].text)
            garbled += 1
            response = codec.encode(kept, s.image_size)
        elif kept and k % 3 == 0:
            response = response[: response.rfind("<box>[[") + 8]
            cut += 1
            missed.append(kept[-1].text)
        missed_texts[s.images[0]] = missed
        items.append((s.images[0], codec.encode(care, s.image_size), response))
    n = _n_care(icdar)
    return items, dict(n=n, dropped=dropped, garbled=garbled, cut=cut, matched=n - dropped - garbled - cut,
                       n_det=n - dropped - cut, missed=missed_texts)


def test_degraded_predictions_exact_scores(icdar, shared_data, tmp_path, capsys, write_swift_results):
    codec = get_codec("internvl")
    items, exp = _degraded(icdar, codec)
    assert exp["dropped"] and exp["garbled"] and exp["cut"]  # the test exercises all three
    path = write_swift_results(tmp_path / "result.jsonl", items)
    per_image = tmp_path / "out" / "per_image.jsonl"
    for extra in ([], ["--gt", shared_data / "icdar2015"]):
        code, out, err = eval_det(["--results", path, "--model-family", "internvl", "--json",
                                   "--per-image", per_image, *extra], capsys)
        assert code == 0, err
        p = json.loads(out)
        assert (p["n_gt"], p["n_det"], p["n_matched"]) == (exp["n"], exp["n_det"], exp["matched"])
        assert p["recall"] == pytest.approx(exp["matched"] / exp["n"])
        assert p["precision"] == pytest.approx(exp["matched"] / exp["n_det"])
        r, q = exp["matched"] / exp["n"], exp["matched"] / exp["n_det"]
        assert p["hmean"] == pytest.approx(2 * r * q / (r + q))
        assert p["unparsed"] == exp["cut"] and p["truncated"] == exp["cut"]
        records = [json.loads(line) for line in per_image.read_text(encoding="utf-8").splitlines()]
        assert [r["image"] for r in records] == [s.images[0] for s in icdar]
        assert [r["lines"] for r in records] == [[k + 1] for k in range(len(icdar))]
        for rec in records:
            assert sorted(rec["missed"]) == sorted(exp["missed"][rec["image"]])
        assert sum(r["unparsed"] for r in records) == exp["cut"]
        assert sum(len(r["false_positives"]) for r in records) == exp["garbled"]
    assert list(per_image.parent.iterdir()) == [per_image]  # written atomically, no temp file left


def test_spotting_needs_the_text_case_insensitively(sroie, tmp_path, capsys, write_swift_results):
    codec = get_codec("qwen2_vl")
    items, n, wrong = [], 0, 0
    for s in sroie[:8]:
        care = s.care_regions()
        pred = []
        for i, r in enumerate(care):
            text = r.text.lower()  # case does not matter
            if i % 4 == 0:
                text = "zzz" + text  # wrong transcription at the right place
                wrong += 1
            pred.append(Region(r.polygon, text))
        n += len(care)
        items.append((s.images[0], codec.encode(care, s.image_size), codec.encode(pred, s.image_size)))
    path = write_swift_results(tmp_path / "result.jsonl", items)
    code, out, _ = eval_det(["--results", path, "--model-family", "qwen2_vl", "--json"], capsys)
    assert code == 0 and json.loads(out)["hmean"] == 1.0  # detection ignores the text
    code, out, _ = eval_det(["--results", path, "--model-family", "qwen2_vl", "--json", "--spotting"], capsys)
    p = json.loads(out)
    assert code == 0 and (p["n_gt"], p["n_det"], p["n_matched"]) == (n, n, n - wrong)
    assert p["precision"] == pytest.approx((n - wrong) / n) and p["recall"] == pytest.approx((n - wrong) / n)


def test_table_lists_worst_images(icdar, tmp_path, capsys, write_swift_results):
    codec = get_codec("internvl")
    items, exp = _degraded(icdar, codec)
    path = write_swift_results(tmp_path / "result.jsonl", items)
    note = "tiny random untrained model - not OCR quality"
    code, out, _ = eval_det(["--results", path, "--model-family", "internvl", "--worst", "3", "--note", note], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"NOTE: {note}"
    assert f"{exp['matched'] / exp['n']:.4f}" in out and f"{exp['matched']} / {exp['n']}" in out
    worst = [line for line in lines if line.startswith("  /")]
    assert len(worst) == 3
    assert any("missed:" in line for line in lines) and any("unparsed:" in line for line in lines)


def test_errors_exit_2_naming_file_and_line(icdar, shared_data, tmp_path, capsys, write_swift_results):
    codec = get_codec("internvl")
    s = icdar[0]
    good = codec.encode(s.care_regions(), s.image_size)
    path = write_swift_results(tmp_path / "result.jsonl", [(s.images[0], good, good),
                                                          (tmp_path / "gone.jpg", good, good)])
    code, out, err = eval_det(["--results", path, "--model-family", "internvl", "--json"], capsys)
    assert code == 2 and out == "" and f"{path}:2:" in err and "gone.jpg" in err
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + '\n{"response": \n', encoding="utf-8")
    code, out, err = eval_det(["--results", path, "--model-family", "internvl"], capsys)
    assert code == 2 and f"{path}:2:" in err and "invalid JSON" in err
    path = write_swift_results(tmp_path / "result.jsonl", [(s.images[0], good, good)])
    code, _, err = eval_det(["--results", path, "--model-family", "internvl", "--gt", shared_data / "sroie"], capsys)
    assert code == 2 and f"{path}:1:" in err and "no ground-truth label" in err
    code, _, err = eval_det(["--results", path, "--model-family", "deepseek_ocr"], capsys)
    assert code == 2 and f"{path}:1:" in err and "wrong --model-family" in err
    code, _, err = eval_det(["--results", path, "--model-family", "internvl", "--max-pixels", "1000"], capsys)
    assert code == 2 and "qwen2_5_vl only" in err
    code, _, err = eval_det(["--results", tmp_path / "missing.jsonl", "--model-family", "internvl"], capsys)
    assert code == 2 and "missing.jsonl" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    code, _, err = eval_det(["--results", empty, "--model-family", "internvl"], capsys)
    assert code == 2 and "no result rows" in err
