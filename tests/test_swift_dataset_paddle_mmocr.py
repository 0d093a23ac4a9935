"""Issue 15: the ms-swift datasets ``swift-ocr/paddle_det:``, ``swift-ocr/paddle_rec:`` and ``swift-ocr/mmocr:`` (the
plugin's loader and OcrPreprocessor, through the format registry) give the rows ``swift-ocr convert`` writes, and
record the same rejections."""
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402
from swift.dataset import load_dataset  # noqa: E402
from swift.utils import import_external_file  # noqa: E402

from swift_ocr.convert.api import ConvertOptions, convert  # noqa: E402
from swift_ocr.formats import open_source  # noqa: E402
from swift_ocr.msswift.plugin import plugin_path  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def plugin():
    import_external_file(plugin_path())


def converted(tmp_path, fmt, options, **src):
    convert(open_source(fmt, **src), options, str(tmp_path / "out.jsonl"))
    return [json.loads(line) for line in open(tmp_path / "out.jsonl", encoding="utf-8")]


def test_paddle_det_rows_and_rejections_match_converter(tmp_path, shared_data):
    label = shared_data / "icdar2015/paddleocr_det_gt.txt"
    rejects = tmp_path / "rejects.jsonl"
    ds, _ = load_dataset([f"swift-ocr/paddle_det:{label}?family=qwen2_5_vl&rejects={rejects}"],
                         load_from_cache_file=False)
    rows = converted(tmp_path, "paddle_det", ConvertOptions(family="qwen2_5_vl", workers=1), input_path=str(label))
    assert len(ds) == len(rows) == 8
    assert [r["messages"] for r in ds] == [r["messages"] for r in rows]
    assert [[i["path"] for i in r["images"]] for r in ds] == [r["images"] for r in rows]
    recorded = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    from_convert = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text(encoding="utf-8")
                    .splitlines()]
    assert recorded == from_convert and [r["kind"] for r in recorded] == ["empty_text", "empty_text"]
    assert all(r["source"] == str(label) and r["line"] for r in recorded)


def test_paddle_rec_and_mmocr_rows_match_converter(tmp_path, shared_data):
    root = shared_data / "rec_words"
    rows = converted(tmp_path, "paddle_rec", ConvertOptions(family="internvl", workers=1),
                     input_path=str(root / "paddleocr_rec_gt.txt"))
    for spec in (f"swift-ocr/paddle_rec:{root / 'paddleocr_rec_gt.txt'}?family=internvl",
                 f"swift-ocr/mmocr:{root / 'labels.json'}?family=internvl"):
        ds, _ = load_dataset([spec], load_from_cache_file=False)
        assert [r["messages"] for r in ds] == [r["messages"] for r in rows] and len(rows) == 10
        assert [[i["path"] for i in r["images"]] for r in ds] == [r["images"] for r in rows]


def test_bad_line_is_recorded_with_file_and_line(tmp_path, shared_data):
    label = tmp_path / "Label.txt"
    image = shared_data / "icdar2015/imgs/img_1.jpg"
    label.write_text(f"{image}\t[{{\"transcription\": \"A\", \"points\": [[1, 2], [30, 2], [30, 12], [1, 12]]}}]\n"
                     f"{image} no tab\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    ds, _ = load_dataset([f"swift-ocr/paddle_det:{label}?family=got&task=line&image_root=/&rejects={rejects}"],
                         load_from_cache_file=False)
    assert [r["messages"][-1]["content"] for r in ds] == ["A"]
    [row] = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert (row["source"], row["line"], row["kind"]) == (str(label), 2, "bad_list_line")
