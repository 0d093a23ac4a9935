"""`swift-ocr convert --task det` on real data: ### left out of targets, tiles that map back, ms-swift route equal."""
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from swift_ocr.cli.main import main  # noqa: E402


def rows(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def raw_texts(label):
    return [ln.split(",", 8)[8] for ln in label.read_bytes().decode("utf-8-sig").splitlines() if ln.strip()]


def test_icdar2015_targets_leave_out_dont_care(tmp_path, shared_data, capsys):
    out = tmp_path / "det.jsonl"
    assert main(["convert", "--format", "icdar", "--input", str(shared_data / "icdar2015"), "--task", "det",
                 "--model-family", "deepseek_ocr", "--output", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_image = {r["swift_ocr"]["source_image"]: r for r in rows(out)}
    all_dont_care = 0
    for gt in sorted((shared_data / "icdar2015/gts").glob("gt_*.txt")):
        texts = raw_texts(gt)
        care = [t for t in texts if t != "###"]
        image = str(shared_data / "icdar2015/imgs" / (gt.stem[3:] + ".jpg"))
        if not care:
            all_dont_care += 1
            assert image not in by_image
            continue
        target = by_image[image]["messages"][1]["content"]
        assert target.count("<|ref|>") == len(care)
        assert "###" not in target
        for t in care:
            assert f"<|ref|>{t}<|/ref|>" in target
    assert report["rejected"] == all_dont_care == 2
    assert report["reasons"] == {"no_readable_region": 2}


def test_tiled_ground_truth_scores_hmean_one(tmp_path, shared_data, capsys):
    sroie = shared_data / "sroie"
    out = tmp_path / "det.jsonl"
    assert main(["convert", "--format", "icdar", "--input", str(sroie), "--task", "det", "--model-family",
                 "internvl", "--max-boxes", "15", "--output", str(out)]) == 0
    capsys.readouterr()
    converted = rows(out)
    assert len(converted) > 20  # long receipts were cut into strips
    assert all(r["messages"][1]["content"].count("<ref>") <= 15 for r in converted)
    # results as `swift infer` writes them, with the ground truth as the prediction
    results = tmp_path / "result.jsonl"
    with open(results, "w", encoding="utf-8") as f:
        for r in converted:
            f.write(json.dumps({"response": r["messages"][1]["content"], "labels": r["messages"][1]["content"],
                                "images": [{"bytes": None, "path": r["images"][0]}], "messages": r["messages"],
                                "swift_ocr": r["swift_ocr"]}) + "\n")
    assert main(["eval", "det", "--results", str(results), "--model-family", "internvl", "--gt", str(sroie),
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    n_care = sum(len([t for t in raw_texts(p) if t != "###"]) for p in (sroie / "box").glob("*.csv"))
    assert summary["n_images"] == 20 and summary["n_gt"] == n_care
    # the lines are unchanged by tiling: only boxes that straddle a strip boundary (overlapping lines) are clipped,
    # and clipping keeps IoU far above 0.5
    assert summary["hmean"] == 1.0 and summary["unparsed"] == 0


def test_ms_swift_route_gives_the_same_det_samples(tmp_path, shared_data, capsys):
    from swift.dataset import load_dataset
    from swift.utils import import_external_file

    from swift_ocr.msswift.plugin import plugin_path
    import_external_file(plugin_path())
    out = tmp_path / "det.jsonl"
    assert main(["convert", "--format", "icdar", "--input", str(shared_data / "sroie"), "--task", "det",
                 "--model-family", "qwen2_vl", "--max-boxes", "25", "--output", str(out)]) == 0
    capsys.readouterr()
    ds, _ = load_dataset([f"swift-ocr/icdar:{shared_data / 'sroie'}?family=qwen2_vl&task=det&max_boxes=25"],
                         load_from_cache_file=False)
    converted = rows(out)
    assert [r["messages"] for r in ds] == [r["messages"] for r in converted]
    for r, c in zip(ds, converted):
        image = r["images"][0]
        if c["swift_ocr"]["offset"] == [0, 0] and c["images"][0] == c["swift_ocr"]["source_image"]:
            assert image["path"] == c["images"][0]
        else:  # a tile: same PNG bytes as the file the converter wrote
            assert image["bytes"] == open(c["images"][0], "rb").read()
