"""Issue 15, part 3: ``swift-ocr eval det`` (and ``draw``, ``report``) score other detectors' predictions -- ICDAR 2015
result files, PaddleOCR results, MMOCR predictions -- with the same ICDAR 2015 protocol as swift infer rows, against
the real ICDAR 2015 ground truth in ../shared/data/icdar2015; several systems print one comparison table.

The same boxes are written in every format: the ground-truth quads of each image with every 3rd care region dropped
and, on every 2nd image, the first kept one moved to an empty corner, encoded as InternVL detection text (the swift
rows) and parsed back with the same codec, so that every format carries exactly the same pixel polygons. Expected
counts come from that construction."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from swift_ocr.cli.main import main
from swift_ocr.codecs import get_codec
from swift_ocr.sample import Region


def run_cli(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def icdar(shared_data, result_rows):
    return [s for s, _ in result_rows.icdar2015_samples(shared_data)]


def _corner(size):
    w, h = size
    return [(w - 12.0, h - 12.0), (w - 2.0, h - 12.0), (w - 2.0, h - 2.0), (w - 12.0, h - 2.0)]


@pytest.fixture(scope="module")
def systems(icdar, tmp_path_factory, result_rows):
    """The same detections as swift rows, ICDAR result files, a PaddleOCR result file and MMOCR per-image files;
    returns (paths, expected counts, per-image parsed detections)."""
    root = tmp_path_factory.mktemp("systems")
    codec = get_codec("internvl")
    rows, res_dir, mm_dir = [], root / "icdar_res", root / "mmocr_preds"
    res_dir.mkdir(), mm_dir.mkdir()
    paddle_lines = []
    exp = dict(n_gt=0, n_det=0, garbled=0, matched_by_image={})
    for k, s in enumerate(icdar):
        care = s.care_regions()
        kept = [r for i, r in enumerate(care) if i % 3 != 1]
        garbled = bool(kept) and k % 2 == 1
        if garbled:
            assert all(r.bbox()[2] < s.image_size[0] - 12 or r.bbox()[3] < s.image_size[1] - 12 for r in s.regions)
            kept[0] = Region(_corner(s.image_size), kept[0].text)
        response = codec.encode(kept, s.image_size)
        rows.append((s.images[0], codec.encode(care, s.image_size), response))
        det = codec.parse(response, s.image_size).regions
        assert [r.text for r in det] == [r.text for r in kept]
        scores = [0.2 if (garbled and i == 0) else 0.9 for i in range(len(det))]
        stem = Path(s.images[0]).stem
        (res_dir / f"res_{stem}.txt").write_text(
            "".join(",".join(repr(v) for p in r.polygon for v in p) + f",{r.text}\n" for r in det), encoding="utf-8")
        paddle_lines.append(str(s.images[0]) + "\t" + json.dumps(
            [{"transcription": r.text, "points": [list(p) for p in r.polygon], "score": sc}
             for r, sc in zip(det, scores)], ensure_ascii=False))
        (mm_dir / f"{stem}.json").write_text(json.dumps(
            {"det_polygons": [[v for p in r.polygon for v in p] for r in det], "det_scores": scores,
             "rec_texts": [r.text for r in det]}), encoding="utf-8")
        exp["n_gt"] += len(care)
        exp["n_det"] += len(kept)
        exp["garbled"] += garbled
        exp["matched_by_image"][stem] = len(kept) - garbled
    exp["matched"] = sum(exp["matched_by_image"].values())
    assert exp["garbled"] and exp["n_det"] < exp["n_gt"]  # the construction drops and moves boxes
    paddle = root / "paddle_det_results.txt"
    paddle.write_text("\n".join(paddle_lines) + "\n", encoding="utf-8")
    swift = result_rows.write_swift_results(root / "vlm.jsonl", rows)
    return dict(swift=swift, icdar=res_dir, paddle=paddle, mmocr=mm_dir), exp


def _prh(p):
    return p["precision"], p["recall"], p["hmean"]


@pytest.mark.parametrize("spotting", [[], ["--spotting"]])
def test_same_boxes_in_every_format_score_alike(systems, shared_data, tmp_path, capsys, spotting):
    paths, exp = systems
    per_image = tmp_path / "per_image.jsonl"
    code, out, err = run_cli(["eval", "det", "--gt", shared_data / "icdar2015", "--results", paths["swift"],
                              "--model-family", "internvl", "--pred", f"res={paths['icdar']}",
                              "--pred", f"paddle={paths['paddle']}", "--pred", f"mm={paths['mmocr']}", "--json",
                              "--per-image", per_image, *spotting], capsys)
    assert code == 0, err
    payload = json.loads(out)
    summ = payload["systems"]
    assert [s["system"] for s in summ] == ["vlm.jsonl", "res", "paddle", "mm"]
    assert [s["format"] for s in summ] == ["swift", "icdar", "paddle", "mmocr"]
    for s in summ:
        assert (s["n_images"], s["n_gt"], s["n_det"], s["n_matched"]) == (10, exp["n_gt"], exp["n_det"],
                                                                          exp["matched"]), s["system"]
        assert _prh(s) == _prh(summ[0])
    r, p = exp["matched"] / exp["n_gt"], exp["matched"] / exp["n_det"]
    assert summ[0]["precision"] == pytest.approx(p) and summ[0]["recall"] == pytest.approx(r)
    assert summ[0]["hmean"] == pytest.approx(2 * p * r / (p + r))
    records = [json.loads(line) for line in per_image.read_text(encoding="utf-8").splitlines()]
    assert [sum(1 for x in records if x["system"] == s["system"]) for s in summ] == [10] * 4
    # one image, four systems: the same misses and false positives
    by_system = {}
    for x in records:
        by_system.setdefault(x["system"], {})[Path(x["image"]).name] = (sorted(x["missed"]),
                                                                       sorted(x["false_positives"]))
    assert all(v == by_system["vlm.jsonl"] for v in by_system.values())


def test_comparison_table(systems, shared_data, capsys):
    paths, exp = systems
    code, out, err = run_cli(["eval", "det", "--gt", shared_data / "icdar2015", "--pred", f"dbnet={paths['icdar']}",
                              "--pred", f"ppocr={paths['paddle']}"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("system"))
    assert lines[header].split() == ["system", "format", "images", "precision", "recall", "hmean", "n_det", "n_gt",
                                     "unparsed"]
    p = f"{exp['matched'] / exp['n_det']:.4f}"
    assert lines[header + 1].split()[:4] == ["dbnet", "icdar", "10", p]
    assert lines[header + 2].split()[:4] == ["ppocr", "paddle", "10", p]
    assert "different images" not in out


def test_score_threshold_keeps_confident_detections(systems, shared_data, capsys):
    paths, exp = systems
    for fmt in ("paddle", "mmocr"):
        code, out, err = run_cli(["eval", "det", "--gt", shared_data / "icdar2015", "--pred", paths[fmt],
                                  "--score-threshold", "0.5", "--json"], capsys)
        assert code == 0, err
        p = json.loads(out)
        assert (p["n_det"], p["n_matched"]) == (exp["n_det"] - exp["garbled"], exp["matched"]) and p["precision"] == 1
        assert p["score_threshold"] == 0.5
    # ICDAR result files have no scores: asking for a threshold is an error, not a silent no-op
    code, _, err = run_cli(["eval", "det", "--gt", shared_data / "icdar2015", "--pred", paths["icdar"],
                            "--score-threshold", "0.5"], capsys)
    assert code == 2 and "needs a score" in err


def test_paddleocr_ground_truth_file_as_predictions(shared_data, capsys):
    """The same ground truth written by PaddleOCR's converter scores 1 against the ICDAR files; its ### regions are
    ordinary detections, discarded by the protocol because they lie on the ### ground truth."""
    gt_file = shared_data / "icdar2015" / "paddleocr_det_gt.txt"
    code, out, err = run_cli(["eval", "det", "--gt", shared_data / "icdar2015", "--pred", gt_file, "--json"], capsys)
    assert code == 0, err
    p = json.loads(out)
    care = sum(1 for f in (shared_data / "icdar2015" / "gts").glob("*.txt")
               for line in f.read_text(encoding="utf-8-sig").splitlines()
               if line.strip() and line.split(",", 8)[8] != "###")
    assert p["format"] == "paddle" and p["n_images"] == 10
    assert _prh(p) == (1.0, 1.0, 1.0) and p["n_gt"] == p["n_det"] == p["n_matched"] == care


def test_paddleocr_label_file_as_ground_truth(systems, shared_data, capsys):
    """--gt may be PaddleOCR's detection label file: the same scores as the ICDAR label files it was made from."""
    paths, exp = systems
    counts = []
    for gt in (shared_data / "icdar2015", shared_data / "icdar2015" / "paddleocr_det_gt.txt"):
        code, out, err = run_cli(["eval", "det", "--gt", gt, "--results", paths["swift"], "--model-family",
                                  "internvl", "--pred", f"res={paths['icdar']}", "--json"], capsys)
        assert code == 0, err
        counts.append([(s["n_images"], s["n_gt"], s["n_det"], s["n_matched"]) for s in json.loads(out)["systems"]])
    assert counts[0] == counts[1] == [(10, exp["n_gt"], exp["n_det"], exp["matched"])] * 2


def test_icdar_images_without_result_file_have_no_detection(systems, shared_data, tmp_path, capsys):
    paths, exp = systems
    res = tmp_path / "res"
    res.mkdir()
    for f in Path(paths["icdar"]).iterdir():
        if f.name != "res_img_1.txt":
            (res / f.name).write_bytes(f.read_bytes())
    code, out, err = run_cli(["eval", "det", "--gt", shared_data / "icdar2015", "--pred", res, "--json"], capsys)
    assert code == 0, err
    p = json.loads(out)
    assert p["n_images"] == 10 and p["n_gt"] == exp["n_gt"]  # scored over every ground-truth image
    assert p["n_matched"] == exp["matched"] - exp["matched_by_image"]["img_1"]


def test_auto_detection(systems):
    from swift_ocr.eval.predictions import detect_format

    paths, _ = systems
    assert {k: detect_format(str(v)) for k, v in paths.items()} == {k: k for k in paths}


def _err(argv, capsys):
    code, _, err = run_cli(["eval", "det", *argv], capsys)
    assert code == 2
    return err


def test_bad_input_is_an_error_naming_file_and_line(systems, shared_data, tmp_path, capsys):
    paths, _ = systems
    gt = ["--gt", shared_data / "icdar2015"]
    res = tmp_path / "res"
    res.mkdir()
    (res / "res_img_1.txt").write_text("1,2,3,4,5,6,7,8,ok\n1,2,3,x,5,6,7,8,bad\n", encoding="utf-8")
    assert f"{res / 'res_img_1.txt'}:2:" in _err([*gt, "--pred", res], capsys)
    (res / "res_img_1.txt").write_text("1,2,3,4,5,6,7,8\n", encoding="utf-8")
    (res / "notes.txt").write_text("x", encoding="utf-8")
    assert "notes.txt" in _err([*gt, "--pred", res, "--pred-format", "icdar"], capsys)
    (res / "notes.txt").unlink()
    (res / "res_img_99.txt").write_text("1,2,3,4,5,6,7,8\n", encoding="utf-8")
    assert "no ground-truth label for image 'img_99'" in _err([*gt, "--pred", res], capsys)

    first = Path(paths["paddle"]).read_text(encoding="utf-8").splitlines()[0]
    twice = tmp_path / "twice.txt"
    twice.write_text(first + "\n" + first + "\n", encoding="utf-8")
    err = _err([*gt, "--pred", twice], capsys)
    assert f"{twice}:2:" in err and "twice" in err and f"{twice}:1" in err
    broken = tmp_path / "broken.txt"
    broken.write_text(first + "\n" + first.split("\t")[0].replace("img_1", "img_2") + '\t[{"points": [[1, 2]]}]\n',
                      encoding="utf-8")
    assert f"{broken}:2:" in _err([*gt, "--pred", broken], capsys)

    single = tmp_path / "mm.json"
    single.write_text(json.dumps({"predictions": [{"det_polygons": [], "det_scores": []}]}), encoding="utf-8")
    assert "img_path" in _err([*gt, "--pred", single], capsys)
    single.write_text(json.dumps([{"img_path": str(shared_data / "icdar2015/imgs/img_1.jpg"),
                                   "pred_instances": {"polygons": [[1, 2, 30, 2, 30, 20, 1, 20]], "scores": [1, 2]}}]),
                      encoding="utf-8")
    assert "one per polygon" in _err([*gt, "--pred", single], capsys)


def test_usage_errors(systems, shared_data, capsys):
    paths, _ = systems
    assert "pass --gt" in _err(["--pred", paths["paddle"]], capsys)
    assert "--model-family" in _err(["--gt", shared_data / "icdar2015", "--pred", paths["swift"]], capsys)
    assert "pass --gt" in _err(["--pred", paths["icdar"], "--pred", f"x={paths['icdar']}"], capsys)
    assert "named alike" in _err(["--gt", shared_data / "icdar2015", "--pred", paths["icdar"], "--pred",
                                  paths["icdar"]], capsys)
    assert "--pred-format" in _err(["--gt", shared_data / "icdar2015", "--pred",
                                    shared_data / "icdar2015" / "gts" / "gt_img_1.txt"], capsys)


def test_draw_and_report_take_other_detectors(systems, shared_data, tmp_path, capsys):
    paths, exp = systems
    out = tmp_path / "drawn"
    code, _, err = run_cli(["draw", "--results", paths["icdar"], "--gt", shared_data / "icdar2015", "--output", out],
                           capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == sorted(f"img_{n}.png" for n in range(1, 11))
    html = tmp_path / "r.html"
    code, stdout, err = run_cli(["report", "--results", paths["swift"], paths["paddle"], "--name", "vlm", "ppocr",
                                 "--model-family", "internvl", "--gt", shared_data / "icdar2015", "--output", html],
                                capsys)
    assert code == 0, err
    assert "(2 runs, 10 rows" in stdout  # the two systems' images matched one to one
    assert html.stat().st_size > 0
