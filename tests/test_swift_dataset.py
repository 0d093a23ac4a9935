"""The registered ms-swift datasets (``swift-ocr/<format>:<path>``) give the same samples as the converter."""
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from swift.dataset import load_dataset  # noqa: E402
from swift.utils import import_external_file  # noqa: E402

from swift_ocr.convert.api import ConvertOptions, convert  # noqa: E402
from swift_ocr.formats import open_source  # noqa: E402
from swift_ocr.msswift.plugin import plugin_path  # noqa: E402
from swift_ocr.msswift.datasets import parse_spec  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def plugin():
    import_external_file(plugin_path())
    import_external_file(plugin_path())  # idempotent


def converted(tmp_path, fmt, options, **src):
    convert(open_source(fmt, **src), options, str(tmp_path / "out.jsonl"))
    return [json.loads(line) for line in open(tmp_path / "out.jsonl", encoding="utf-8")]


def test_icdar_rec_matches_converter(tmp_path, shared_data):
    ds, val = load_dataset([f"swift-ocr/icdar:{shared_data}/sroie?family=qwen2_5_vl"], load_from_cache_file=False)
    assert val is None and len(ds) == 20
    rows = converted(tmp_path, "icdar", ConvertOptions(family="qwen2_5_vl"), input_path=str(shared_data / "sroie"))
    assert [r["messages"] for r in ds] == [r["messages"] for r in rows]
    assert [[i["path"] for i in r["images"]] for r in ds] == [r["images"] for r in rows]


def test_icdar_line_task_with_rejections_recorded(shared_data, tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    ds, _ = load_dataset([f"swift-ocr/icdar:{shared_data}/icdar2015?family=got&task=line&rejects={rejects}"],
                         load_from_cache_file=False)
    care = 0
    all_dc = []
    for gt in sorted((shared_data / "icdar2015/gts").glob("*.txt")):
        texts = [ln.split(",", 8)[8] for ln in gt.read_bytes().decode("utf-8-sig").splitlines() if ln.strip()]
        care += sum(t != "###" for t in texts)
        if all(t == "###" for t in texts):
            all_dc.append(str(gt))
    assert len(ds) == care
    assert all(r["images"][0]["bytes"] for r in ds)
    # the all-### images are recorded one by one with their file, not silently gone
    recorded = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["source"] for r in recorded) == all_dc and len(all_dc) == 2
    assert all(r["reason"].startswith("no readable region") for r in recorded)


def test_parquet_rows(tmp_path, shared_data):
    labels = json.loads((shared_data / "rec_words/labels.json").read_text(encoding="utf-8"))["data_list"]
    paths = [shared_data / "rec_words" / d["img_path"] for d in labels]
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    pq.write_table(pa.table({"image": pa.array([{"bytes": p.read_bytes(), "path": p.name} for p in paths],
                                               type=image_type),
                             "text": [d["instances"][0]["text"] for d in labels]}),
                   tmp_path / "w.parquet", row_group_size=4)
    ds, _ = load_dataset([f"swift-ocr/parquet:{tmp_path}/w.parquet?family=deepseek_ocr"], load_from_cache_file=False)
    assert [r["messages"][1]["content"] for r in ds] == [d["instances"][0]["text"] for d in labels]
    assert [r["images"][0]["bytes"] for r in ds] == [p.read_bytes() for p in paths]
    assert ds[0]["messages"][0]["content"] == "<image>Free OCR."


def test_spec_errors():
    assert parse_spec("a/b?family=got&task=line") == ("a/b", {"family": "got", "task": "line"})
    with pytest.raises(ValueError, match="family"):
        parse_spec("a/b")
    with pytest.raises(ValueError, match="unknown swift-ocr dataset option"):
        parse_spec("a/b?family=got&colour=red")
    with pytest.raises(ValueError, match="unknown model family"):
        parse_spec("a/b?family=gpt")


def test_spec_reading_options():
    from swift_ocr.formats.checks import ReadOptions
    from swift_ocr.msswift.datasets import read_options
    _, opts = parse_spec("a?family=got&nfkc=1&check_images=decode&max_image_pixels=100&allow_outside_root=1")
    assert read_options(opts) == ReadOptions(nfkc=True, check_images="decode", max_image_pixels=100,
                                             allow_outside_root=True)
    assert read_options(parse_spec("a?family=got")[1]) == ReadOptions()  # the converter's defaults
    assert not ReadOptions().nfkc and not read_options(parse_spec("a?family=got&nfkc=0")[1]).nfkc  # issue 15
    for bad in ("nfkc=maybe", "check_images=thorough", "max_image_pixels=lots", "max_image_pixels=-5"):
        with pytest.raises(ValueError):
            parse_spec(f"a?family=got&{bad}")


def test_strict_stops_at_the_first_rejection(shared_data, tmp_path):
    from swift_ocr.errors import OcrFormatError
    rejects = tmp_path / "r.jsonl"
    with pytest.raises(OcrFormatError, match=r"gt_img_4\.txt: empty target text"):
        load_dataset([f"swift-ocr/icdar:{shared_data}/icdar2015?family=got&rejects={rejects}"],
                     load_from_cache_file=False, strict=True)
    (row,) = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert row["kind"] == "empty_text" and row["source"].endswith("gt_img_4.txt")


def test_wordbox_and_got_routes_match_converter(tmp_path, data_templates):
    wb = converted(tmp_path / "wb", "wordbox", ConvertOptions(family="got", task="line"),
                   input_path=str(data_templates / "wordbox"))
    ds, _ = load_dataset([f"swift-ocr/wordbox:{data_templates / 'wordbox'}?family=got&task=line"],
                         load_from_cache_file=False)
    assert len(ds) == len(wb) > 6
    assert [r["messages"] for r in ds] == [r["messages"] for r in wb]
    got = converted(tmp_path / "got", "got", ConvertOptions(family="internvl"),
                    input_path=str(data_templates / "got/train.json"))
    ds, _ = load_dataset([f"swift-ocr/got:{data_templates / 'got/train.json'}?family=internvl"],
                         load_from_cache_file=False)
    assert [r["messages"] for r in ds] == [r["messages"] for r in got]
    assert [[i["path"] for i in r["images"]] for r in ds] == [r["images"] for r in got]
