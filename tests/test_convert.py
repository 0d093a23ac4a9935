"""The converter on real data: every ground-truth line kept, seeded split, rejects file, determinism."""
import json
import os

import pytest

from swift_ocr.convert.api import ConvertOptions, convert
from swift_ocr.convert.split import split_keys
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


def snapshot(folder):
    """{relative path: bytes} of every file under ``folder`` (hidden ones included)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def icdar2015(shared_data):
    return open_source("icdar", input_path=str(shared_data / "icdar2015"))


LINE = ConvertOptions(task="line", family="internvl", val_ratio=0.3, seed=3)


def test_line_outputs_are_deterministic(tmp_path, shared_data):
    for name in ("a", "b"):
        convert(icdar2015(shared_data), LINE, str(tmp_path / name / "x.jsonl"))
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert sorted(a) == sorted(b) and any(k.startswith("x_images/") for k in a)
    for key in a:  # rows name their crops by absolute path: the folder differs, nothing else
        assert a[key].replace(str(tmp_path / "a").encode(), b"") == b[key].replace(str(tmp_path / "b").encode(), b"")
    train, val = read_jsonl(tmp_path / "a/x.jsonl"), read_jsonl(tmp_path / "a/x.val.jsonl")
    assert train and val
    # split by source image: the crops of one image are all on one side
    def stems(rows):
        return {r["images"][0].rsplit("/", 1)[1].split("_", 1)[1].rsplit("_l", 1)[0] for r in rows}
    assert not stems(train) & stems(val)


def test_interrupted_run_keeps_previous_outputs_and_rerun_is_identical(tmp_path, shared_data):
    out = tmp_path / "x.jsonl"
    convert(icdar2015(shared_data), LINE, str(out))
    line_outputs = snapshot(tmp_path)
    assert "x_images/.swift-ocr-images" in line_outputs and "x.val.jsonl" in line_outputs

    # a complete run with other options replaces everything: no stale crops, no stale val split
    convert(icdar2015(shared_data), ConvertOptions(task="rec"), str(out))
    rec_outputs = snapshot(tmp_path)
    assert sorted(rec_outputs) == ["x.jsonl", "x.rejects.jsonl"]

    # a run that dies after 5 items leaves the previous complete outputs untouched and no temporary files
    reader = icdar2015(shared_data)
    read_one, calls = reader.read_one, []

    def dying(index):
        calls.append(index)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return read_one(index)
    reader.read_one = dying
    with pytest.raises(KeyboardInterrupt):
        convert(reader, LINE, str(out))
    assert snapshot(tmp_path) == rec_outputs

    # the rerun gives byte-identical outputs to the uninterrupted run
    convert(icdar2015(shared_data), LINE, str(out))
    assert snapshot(tmp_path) == line_outputs


def test_killed_run_keeps_previous_outputs(tmp_path, shared_data):
    """A hard kill (SIGKILL, no cleanup) in the middle of writing crops: the old outputs are still complete."""
    import subprocess
    import sys
    out = tmp_path / "x.jsonl"
    convert(icdar2015(shared_data), LINE, str(out))
    before = snapshot(tmp_path)
    script = f"""
import os, signal
from swift_ocr.convert.api import ConvertOptions, convert
from swift_ocr.formats import open_source
import swift_ocr.convert.workers as workers
reader = open_source("icdar", input_path={str(shared_data / "icdar2015")!r})
outcomes = workers.outcomes
def dying(*args):  # killed after the crops of 6 items have been written
    for i, outcome in enumerate(outcomes(*args)):
        if i == 6:
            os.kill(os.getpid(), signal.SIGKILL)
        yield outcome
workers.outcomes = dying
convert(reader, ConvertOptions(task="line", family="got"), {str(out)!r})
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=str(tmp_path))
    assert proc.returncode == -9
    after = snapshot(tmp_path)
    leftovers = [k for k in after if k not in before]
    assert leftovers and all(k.split("/")[0].startswith(".x") and ".tmp" in k for k in leftovers)
    assert {k: v for k, v in after.items() if k in before} == before
    convert(icdar2015(shared_data), LINE, str(out))  # the rerun ignores the leftovers
    assert {k: v for k, v in snapshot(tmp_path).items() if k not in leftovers} == before


def test_images_folder_not_ours_is_never_touched(tmp_path, shared_data):
    """DBNet keeps its images in ``train_images/``: ``--output train.jsonl`` must not replace or delete them."""
    theirs = tmp_path / "train_images"
    theirs.mkdir()
    (theirs / "img_1.jpg").write_bytes(b"their image")
    with pytest.raises(ValueError, match="was not written by swift-ocr"):
        convert(icdar2015(shared_data), ConvertOptions(task="line"), str(tmp_path / "train.jsonl"))
    convert(icdar2015(shared_data), ConvertOptions(task="rec"), str(tmp_path / "train.jsonl"))
    assert snapshot(theirs) == {"img_1.jpg": b"their image"}
    assert not list(tmp_path.glob(".train*"))


@pytest.mark.parametrize("fmt, task", [("icdar", "line"), ("icdar", "det"), ("icdar", "rec"), ("got", "rec")])
def test_workers_give_identical_outputs(tmp_path, shared_data, data_templates, fmt, task):
    source = {"input_path": str(shared_data / "icdar2015")} if fmt == "icdar" else {
        "input_path": str(data_templates / "got/train.json")}
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}" / "x.jsonl"
        report = convert(open_source(fmt, **source), ConvertOptions(task=task, family="internvl", val_ratio=0.3,
                                                                    seed=5, workers=workers), str(out))
        outs.append((out, report.to_dict()))
    (one, r1), (two, r2) = outs
    for name in ("x.jsonl", "x.val.jsonl", "x.rejects.jsonl"):
        a = (one.parent / name).read_text(encoding="utf-8")
        b = (two.parent / name).read_text(encoding="utf-8").replace(str(two.parent), str(one.parent))
        assert a == b
    images = sorted(p.name for p in (one.parent / "x_images").glob("*")) if task != "rec" else []
    for name in images:
        assert (one.parent / "x_images" / name).read_bytes() == (two.parent / "x_images" / name).read_bytes()
    r2["outputs"] = r1["outputs"]
    assert r1 == r2


def test_val_positions_pick_the_keys_split_keys_picks(shared_data):
    from swift_ocr.convert.split import val_positions
    from swift_ocr.formats.layout import discover_pairs

    pairs, _ = discover_pairs(root=shared_data / "sroie")
    compact = pairs.keys  # sorted, unique, built on access
    as_list = list(compact)
    for ratio, seed in [(0.2, 42), (0.5, 1), (0.05, 3), (0.0, 0)]:
        chosen = split_keys(as_list, ratio, seed)
        assert {as_list[i] for i in val_positions(compact, ratio, seed)} == chosen
        assert val_positions(as_list, ratio, seed) == val_positions(compact, ratio, seed)
    with pytest.raises(ValueError):
        val_positions(compact, 1.0, 0)
    # a plain list with a repeated key: every occurrence of a chosen key is validation
    keys = ["b", "a", "b", "c"]
    pos = val_positions(keys, 0.5, 0)
    assert {keys[i] for i in pos} == split_keys(keys, 0.5, 0) and (0 in pos) == (2 in pos)


def test_auto_workers():
    from swift_ocr.convert.workers import ITEMS_PER_WORKER, effective_workers

    assert effective_workers(3, 10) == 3  # as asked, even for few items
    assert effective_workers(0, 10) == 1  # auto: small datasets stay in this process
    cpus = len(os.sched_getaffinity(0))
    assert effective_workers(0, 10**9) == cpus
    assert effective_workers(0, 2 * ITEMS_PER_WORKER) == min(cpus, 2)
    for bad in (-1, 1.5, None):
        with pytest.raises(ValueError):
            effective_workers(bad, 10)


def test_cli_workers_option(tmp_path, shared_data, capsys):
    from swift_ocr.cli.main import main

    outs = {}
    for workers in ("auto", "2"):
        out = tmp_path / workers / "x.jsonl"
        assert main(["convert", "--format", "icdar", "--input", str(shared_data / "sroie"), "--output", str(out),
                     "--workers", workers, "--json"]) == 0
        outs[workers] = json.loads(capsys.readouterr().out)["train"], out.read_text(encoding="utf-8")
    assert outs["auto"] == outs["2"] and outs["auto"][0] == 20
    for bad in ("0", "-2", "many"):
        with pytest.raises(SystemExit):
            main(["convert", "--format", "icdar", "--input", str(shared_data / "sroie"), "--output",
                  str(tmp_path / "y.jsonl"), "--workers", bad])
        assert "--workers" in capsys.readouterr().err


def test_auto_workers_only_for_folder_layouts(tmp_path, shared_data, data_templates, monkeypatch):
    """Parquet/GOT JSON items would travel through pipes (image bytes included): auto converts them in one process."""
    import swift_ocr.convert.workers as workers

    seen = []
    real = workers.effective_workers
    monkeypatch.setattr(workers, "effective_workers", lambda w, n: seen.append((w, n)) or real(w, n))
    convert(open_source("got", input_path=str(data_templates / "got/train.json")), ConvertOptions(),
            str(tmp_path / "g.jsonl"))
    convert(open_source("icdar", input_path=str(shared_data / "sroie")), ConvertOptions(), str(tmp_path / "i.jsonl"))
    assert seen == [(0, 0), (0, 20)]


def test_runs_keep_order_and_split():
    """A chunk's plain items (strings) of one split are joined into runs of UTF-8 bytes, their jsonl lines counted;
    other outcomes stay where they were."""
    from swift_ocr.convert.outcome import Outcome, Run, runs

    odd = Outcome(converted=False)
    outcomes = ["a\n", "b\n", odd, "收据 c\n", "d\n", "e\n", "f\nf2\n"]
    got = runs(outcomes, 10, frozenset({14, 15}))  # positions 10..16; d and e are validation items
    assert got == [Run(False, 2, 2, b"a\nb\n"), odd, Run(False, 1, 1, "收据 c\n".encode()),
                   Run(True, 2, 2, b"d\ne\n"), Run(False, 1, 2, b"f\nf2\n")]
    assert runs([], 0, frozenset()) == [] and runs([odd], 0, frozenset({0})) == [odd]
