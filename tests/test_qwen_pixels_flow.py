"""Qwen2.5-VL's ``MAX_PIXELS`` / ``MIN_PIXELS`` as one setting (issue 14): ``convert --task det`` writes the boxes for
the bounds ms-swift will use (the environment, or ``--max-pixels``/``--min-pixels``), records them in each row,
``validate`` reports rows whose image the recorded bounds resize differently than the environment's, and ``eval det``
parses rows with the bounds they record.

Real data: the ICDAR 2015 images of ``../shared/data/icdar2015`` (1280x720: ms-swift's default bound 12845056 and the
processor's 1003520 both resize them to 1288x728; 200704 = 256 * 28 * 28 resizes them to 588x336).
"""
from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from swift_ocr.cli.main import main
from swift_ocr.formats.icdar import read_icdar_file

FAMILY_ENV = ("MAX_PIXELS", "MIN_PIXELS", "IMAGE_MAX_TOKEN_NUM", "IMAGE_MIN_TOKEN_NUM")
SMALL = 200704  # 256 image tokens
SMALL_GRID = (588, 336)  # 1280x720 under [3136, 200704], computed by hand in test_hand_worked_grid


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in FAMILY_ENV:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def icdar(shared_data) -> Path:
    return shared_data / "icdar2015"


def convert(args, capsys):
    code = main(["convert", "--format", "icdar", "--quiet", "--json", *map(str, args)])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def rows(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def hf_resized(width: int, height: int, min_pixels: int, max_pixels: int):
    """``(W', H')`` by transformers' own smart_resize (the processor's; note its (height, width) order)."""
    try:
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize
    except ImportError:  # older transformers
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    h, w = smart_resize(height, width, factor=28, min_pixels=min_pixels, max_pixels=max_pixels)
    return w, h


def expected_objects(icdar: Path, image: str, min_pixels: int, max_pixels: int) -> Counter:
    """``(text, bbox_2d)`` of every care region of ``image``'s label, encoded by hand: the quad's bounding box in
    pixels of the original image scaled to the resized grid and rounded (the Qwen2.5-VL codec's rule)."""
    stem = Path(image).stem
    sample = read_icdar_file(icdar / "gts" / f"gt_{stem}.txt", icdar / "imgs" / f"{stem}.jpg")
    w, h = 1280, 720
    rw, rh = hf_resized(w, h, min_pixels, max_pixels)
    out = Counter()
    for r in sample.care_regions():
        xs, ys = [p[0] for p in r.polygon], [p[1] for p in r.polygon]
        box = (min(xs), min(ys), max(xs), max(ys))
        box = [min(max(v, 0), lim) for v, lim in zip(box, (w, h, w, h))]
        out[(r.text, (round(box[0] * rw / w), round(box[1] * rh / h), round(box[2] * rw / w),
                      round(box[3] * rh / h)))] += 1
    return out


def written_objects(row) -> Counter:
    text = row["messages"][-1]["content"]
    assert text.startswith("```json\n") and text.endswith("\n```")
    return Counter((o["text_content"], tuple(o["bbox_2d"])) for o in json.loads(text[len("```json\n"):-4]))


def test_hand_worked_grid():
    # 1280x720 = 921600 px > 200704: beta = sqrt(921600 / 200704) = 2.1429; floor(720 / 2.1429 / 28) * 28 = 336,
    # floor(1280 / 2.1429 / 28) * 28 = 588 (588 * 336 = 197568 <= 200704)
    assert hf_resized(1280, 720, 3136, SMALL) == SMALL_GRID
    assert hf_resized(1280, 720, 3136, 12845056) == hf_resized(1280, 720, 3136, 1003520) == (1288, 728)


# ------------------------------------------------------------------------------------------------- convert


def test_convert_writes_and_records_the_environment_bounds(icdar, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MAX_PIXELS", str(SMALL))
    code, summary, err = convert(["--input", icdar, "--task", "det", "--model-family", "qwen2_5_vl", "--output",
                                  tmp_path / "env.jsonl"], capsys)
    assert code == 0, err
    assert summary["codec"] == {"min_pixels": 3136, "max_pixels": SMALL} and summary["train"] == 8
    written = rows(tmp_path / "env.jsonl")
    assert len(written) == 8
    for row in written:
        meta = row["swift_ocr"]
        assert meta["codec"] == {"min_pixels": 3136, "max_pixels": SMALL}
        assert written_objects(row) == expected_objects(icdar, row["images"][0], 3136, SMALL)
        assert all(o[1][2] <= SMALL_GRID[0] and o[1][3] <= SMALL_GRID[1] for o in written_objects(row))
    # the flag gives the same rows, and wins over the environment; the careful path writes the same bytes
    monkeypatch.setenv("MAX_PIXELS", "1003520")
    for extra in ([], ["--no-fast-path", "--workers", "1"]):
        code, summary, err = convert(["--input", icdar, "--task", "det", "--model-family", "qwen2_5_vl",
                                      "--max-pixels", SMALL, "--output", tmp_path / "flag.jsonl", *extra], capsys)
        assert code == 0, err
        assert (tmp_path / "flag.jsonl").read_bytes() == (tmp_path / "env.jsonl").read_bytes()
    # without MAX_PIXELS: ms-swift's own default bound, which leaves these images at 1288x728 -- other boxes
    monkeypatch.delenv("MAX_PIXELS")
    code, summary, err = convert(["--input", icdar, "--task", "det", "--model-family", "qwen2_5_vl", "--output",
                                  tmp_path / "default.jsonl"], capsys)
    assert code == 0 and summary["codec"] == {"min_pixels": 3136, "max_pixels": 16384 * 28 * 28}, err
    for big, small in zip(rows(tmp_path / "default.jsonl"), written):
        assert written_objects(big) == expected_objects(icdar, big["images"][0], 3136, 16384 * 28 * 28)
        assert written_objects(big) != written_objects(small)
    # MIN_PIXELS too, through the environment
    monkeypatch.setenv("MIN_PIXELS", str(2 * 1003520))
    code, summary, err = convert(["--input", icdar, "--task", "det", "--model-family", "qwen2_5_vl", "--output",
                                  tmp_path / "min.jsonl"], capsys)
    assert code == 0 and summary["codec"]["min_pixels"] == 2 * 1003520, err
    row = rows(tmp_path / "min.jsonl")[0]
    assert written_objects(row) == expected_objects(icdar, row["images"][0], 2 * 1003520, 16384 * 28 * 28)


def test_tiles_record_the_bounds_too(icdar, tmp_path, capsys):
    code, _, err = convert(["--input", icdar, "--task", "det", "--model-family", "qwen2_5_vl", "--max-boxes", "2",
                            "--max-pixels", SMALL, "--output", tmp_path / "tiles.jsonl"], capsys)
    assert code == 0, err
    tiles = [r for r in rows(tmp_path / "tiles.jsonl") if r["swift_ocr"]["offset"] != [0, 0]]
    assert tiles and all(r["swift_ocr"]["codec"] == {"min_pixels": 3136, "max_pixels": SMALL} for r in tiles)


def test_other_families_rows_have_no_codec_record_and_ignore_the_environment(icdar, tmp_path, capsys, monkeypatch):
    for family in ("internvl", "qwen2_vl", "got"):
        code, summary, err = convert(["--input", icdar, "--task", "det", "--model-family", family, "--output",
                                      tmp_path / f"{family}.jsonl"], capsys)
        assert code == 0 and "codec" not in summary, err
        assert all(set(r["swift_ocr"]) == {"image_size", "offset", "source_image"}
                   for r in rows(tmp_path / f"{family}.jsonl"))
        before = (tmp_path / f"{family}.jsonl").read_bytes()
        monkeypatch.setenv("MAX_PIXELS", str(SMALL))  # qwen2_vl reads it for image tokens, not for its 0-1000 boxes
        code, _, err = convert(["--input", icdar, "--task", "det", "--model-family", family, "--output",
                                tmp_path / f"{family}.env.jsonl"], capsys)
        monkeypatch.delenv("MAX_PIXELS")
        assert code == 0 and (tmp_path / f"{family}.env.jsonl").read_bytes() == before, err
    # qwen2_5_vl rec rows carry no metadata at all
    code, summary, err = convert(["--input", icdar, "--task", "rec", "--model-family", "qwen2_5_vl", "--output",
                                  tmp_path / "rec.jsonl"], capsys)
    assert code == 0 and "codec" not in summary and all("swift_ocr" not in r for r in rows(tmp_path / "rec.jsonl"))


def test_bad_codec_options_are_errors(icdar, tmp_path, capsys, monkeypatch):
    base = ["--input", icdar, "--output", tmp_path / "x.jsonl"]
    cases = [
        (["--task", "det", "--model-family", "internvl", "--max-pixels", SMALL],
         "max_pixels do not apply to model family 'internvl' (it takes none)"),
        (["--task", "rec", "--model-family", "qwen2_5_vl", "--max-pixels", SMALL], "apply to the det task only"),
        (["--task", "det", "--model-family", "qwen2_5_vl", "--min-pixels", 2 * SMALL, "--max-pixels", SMALL],
         "min_pixels <= max_pixels"),
    ]
    for args, message in cases:
        code, _, err = convert([*base, *args], capsys)
        assert code == 2 and message in err, err
    monkeypatch.setenv("MAX_PIXELS", "1e6")
    code, _, err = convert([*base, "--task", "det", "--model-family", "qwen2_5_vl"], capsys)
    assert code == 2 and "from the environment (MAX_PIXELS" in err, err
    assert not (tmp_path / "x.jsonl").exists()


def test_plugin_dataset_spec_takes_the_same_options(icdar, monkeypatch):
    from swift_ocr.msswift.datasets import parse_spec, task_config, task_rows

    _, options = parse_spec(f"{icdar}?family=qwen2_5_vl&task=det&max_pixels={SMALL}")
    assert task_config(options).codec_options == {"min_pixels": 3136, "max_pixels": SMALL}
    monkeypatch.setenv("MAX_PIXELS", str(SMALL))  # as swift sft --model_kwargs sets it in the training process
    _, from_env = parse_spec(f"{icdar}?family=qwen2_5_vl&task=det")
    sample = read_icdar_file(icdar / "gts" / "gt_img_1.txt", icdar / "imgs" / "img_1.jpg")
    (_, (row,)), (_, (same,)) = task_rows(sample, options), task_rows(sample, from_env)
    assert row == same and row["swift_ocr"]["codec"] == {"min_pixels": 3136, "max_pixels": SMALL}
    assert written_objects(row) == expected_objects(icdar, "img_1.jpg", 3136, SMALL)
    with pytest.raises(ValueError, match="do not apply to model family 'internvl'"):
        parse_spec(f"{icdar}?family=internvl&task=det&max_pixels={SMALL}")
    with pytest.raises(ValueError, match="max_pixels='big' is not a valid int"):
        parse_spec(f"{icdar}?family=qwen2_5_vl&task=det&max_pixels=big")


# ------------------------------------------------------------------------------------------------ validate


@pytest.fixture
def small_rows(icdar, tmp_path, capsys) -> Path:
    code, _, err = convert(["--input", icdar, "--task", "det", "--model-family", "qwen2_5_vl", "--max-pixels", SMALL,
                            "--output", tmp_path / "small.jsonl"], capsys)
    assert code == 0, err
    return tmp_path / "small.jsonl"


def test_validate_reports_rows_written_for_other_bounds(small_rows, tmp_path):
    from swift_ocr.validate import ValidateOptions, validate_files
    from swift_ocr.validate.token_budget import ImageTokenParams

    def check(environ, family="qwen2_5_vl", path=small_rows):
        opts = ValidateOptions(family=family, task="det", token_params=ImageTokenParams.from_env(environ))
        return validate_files([path], opts)

    report = check({})  # ms-swift's default 12845056: the model would see 1288x728 images
    assert [p.line for p in report.by_kind("resize_mismatch")] == list(range(1, 9)) and not report.ok
    msg = report.by_kind("resize_mismatch")[0].message
    for part in ("max_pixels=200704", "max_pixels=12845056", "588x336", "1288x728"):
        assert part in msg, msg
    assert check({"MAX_PIXELS": "1003520"}).by_kind("resize_mismatch")  # the recipes' default: still 1288x728
    assert check({"MAX_PIXELS": str(SMALL)}).ok  # the same bounds
    assert check({"IMAGE_MAX_TOKEN_NUM": "256"}).ok  # the same bounds, said in tokens
    # bounds that differ without changing this image's resize are no problem for it
    relaxed = tmp_path / "relaxed.jsonl"
    relaxed.write_text("".join(json.dumps({**r, "swift_ocr": {**r["swift_ocr"], "codec": {
        "min_pixels": 3136, "max_pixels": SMALL + 2000}}}) + "\n" for r in rows(small_rows)))
    assert check({"MAX_PIXELS": str(SMALL)}, path=relaxed).ok
    # rows of qwen2_5_vl validated as another family's: their record does not fit
    other = check({}, family="qwen2_vl")
    assert len(other.by_kind("resize_mismatch")) == 8
    assert "another --model-family" in other.by_kind("resize_mismatch")[0].message
    # the command line reads the environment
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "swift_ocr", "validate", str(small_rows), "--model-family", "qwen2_5_vl",
           "--task", "det", "--quiet"]
    bad = subprocess.run(cmd, capture_output=True, text=True, env=env)
    good = subprocess.run(cmd, capture_output=True, text=True, env={**env, "MAX_PIXELS": str(SMALL)})
    assert bad.returncode == 1 and "resize_mismatch" in bad.stdout, bad.stderr
    assert good.returncode == 0 and "resize_mismatch" not in good.stdout, good.stdout + good.stderr


# ------------------------------------------------------------------------------------------------- eval det


def _results(small_rows: Path, tmp_path: Path, write_swift_results, keep_record: bool = True) -> Path:
    """Result rows as ``swift infer --remove_unused_columns false`` writes them, whose responses are the targets."""
    items = []
    for row in rows(small_rows):
        meta = dict(row["swift_ocr"])
        if not keep_record:
            meta.pop("codec")
        target = row["messages"][-1]["content"]
        items.append((row["images"][0], target, target, {"swift_ocr": meta}))
    return write_swift_results(tmp_path / ("results.jsonl" if keep_record else "results_bare.jsonl"), items)


def eval_det(args, capsys):
    code = main(["eval", "det", "--model-family", "qwen2_5_vl", "--json", *map(str, args)])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_eval_det_parses_with_the_recorded_bounds(small_rows, icdar, tmp_path, capsys, write_swift_results):
    results = _results(small_rows, tmp_path, write_swift_results)
    code, summ, err = eval_det(["--results", results, "--gt", icdar], capsys)
    assert code == 0, err
    assert summ["hmean"] == 1.0 and summ["n_det"] == summ["n_gt"] == 21
    code, same, err = eval_det(["--results", results, "--gt", icdar, "--max-pixels", SMALL], capsys)
    assert code == 0 and same["hmean"] == 1.0, err
    # an explicit other bound is an error naming the row and both values
    code, _, err = eval_det(["--results", results, "--gt", icdar, "--max-pixels", "1003520"], capsys)
    assert code == 2 and "results.jsonl:1: --max-pixels 1003520 differs from max_pixels=200704" in err, err
    # the flow matters: the same answers without the record are read on the default 1288x728 grid -- every box
    # lands at about twice its place
    bare = _results(small_rows, tmp_path, write_swift_results, keep_record=False)
    code, wrong, err = eval_det(["--results", bare, "--gt", icdar], capsys)
    assert code == 0 and wrong["hmean"] == 0.0 and wrong["n_det"] == 21, err
    code, fixed, err = eval_det(["--results", bare, "--gt", icdar, "--max-pixels", SMALL], capsys)
    assert code == 0 and fixed["hmean"] == 1.0, err


def test_eval_det_refuses_records_of_another_family(small_rows, tmp_path, capsys, write_swift_results):
    results = _results(small_rows, tmp_path, write_swift_results)
    code = main(["eval", "det", "--results", str(results), "--model-family", "qwen2_vl"])
    err = capsys.readouterr().err
    assert code == 2 and "do not apply to model family 'qwen2_vl'" in err, err


def test_draw_reads_the_record_too(small_rows, icdar, tmp_path, capsys, write_swift_results):
    from PIL import Image

    results = _results(small_rows, tmp_path, write_swift_results)
    code = main(["draw", "--results", str(results), "--model-family", "qwen2_5_vl", "--gt", str(icdar),
                 "--output", str(tmp_path / "pics"), "--limit", "1"])
    assert code == 0, capsys.readouterr().err
    assert len(list((tmp_path / "pics").glob("*.png"))) == 1
    assert Image.open(next((tmp_path / "pics").glob("*.png"))).size[0] >= 1280
    code = main(["draw", "--results", str(results), "--model-family", "qwen2_5_vl", "--max-pixels", "1003520",
                 "--output", str(tmp_path / "pics2")])
    assert code == 2 and "differs from max_pixels=200704" in capsys.readouterr().err


def test_load_det_images_api_matches_the_cli(small_rows, icdar, tmp_path, write_swift_results):
    from swift_ocr.codecs import get_codec
    from swift_ocr.eval.det_results import load_det_images

    results = _results(small_rows, tmp_path, write_swift_results)
    items = load_det_images(results, get_codec("qwen2_5_vl"), gt=icdar)
    # detections in pixels of the 1280x720 original: within half a 588x336 grid unit of a label's bounding box
    tol = (0.5 * 1280 / SMALL_GRID[0] + 1e-6, 0.5 * 720 / SMALL_GRID[1] + 1e-6) * 2
    n = 0
    for item in items:
        for det in item.det:
            boxes = [r.bbox() for r in item.gt if not r.dont_care and r.text == det.text]
            assert any(all(math.isclose(a, b, abs_tol=t) for a, b, t in zip(det.bbox(), box, tol)) for box in boxes)
            n += 1
    assert n == 21
