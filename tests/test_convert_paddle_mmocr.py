"""Issue 15: PaddleOCR and MMOCR label files through ``swift-ocr convert`` give the same samples as the ICDAR files
they were made from (``icdar2015/paddleocr_det_gt.txt``, written by PaddleOCR's own converter), the word crops'
``paddleocr_rec_gt.txt`` and ``labels.json`` give the same 10 samples, and ``--output-format paddle_det|paddle_rec``
writes files that convert back to the same samples."""
import hashlib
import json

import pytest

from swift_ocr.convert.api import ConvertOptions, convert
from swift_ocr.errors import OcrFormatError
from swift_ocr.formats import open_source


def rows_of(tmp_path, name, fmt, options, **src):
    """The rows ``swift-ocr convert`` writes, each as ``(messages, image digests, other keys)`` (images compared by
    content: crops get names of their own per conversion), and the rejects' kinds by file name."""
    out = tmp_path / name / "out.jsonl"
    report = convert(open_source(fmt, **src), options, str(out))
    rows = []
    for line in out.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        digests = tuple(hashlib.sha256(open(p, "rb").read()).hexdigest() for p in row.pop("images"))
        rows.append((json.dumps(row.pop("messages"), ensure_ascii=False), digests, json.dumps(row, sort_keys=True)))
    rejects = [json.loads(r) for r in (tmp_path / name / "out.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    return rows, sorted((r["kind"], r["reason"].split(":")[0]) for r in rejects), report


@pytest.mark.parametrize("task", ["rec", "line", "det"])
def test_paddle_det_gt_gives_the_icdar_samples(tmp_path, shared_data, task):
    root = shared_data / "icdar2015"
    options = ConvertOptions(family="qwen2_5_vl", task=task, workers=1)
    icdar, icdar_rej, _ = rows_of(tmp_path, "icdar", "icdar", options, input_path=str(root))
    paddle, paddle_rej, report = rows_of(tmp_path, "paddle", "paddle_det", options,
                                         input_path=str(root / "paddleocr_det_gt.txt"))
    assert len(icdar) >= 8 and sorted(paddle) == sorted(icdar)
    # the same items are rejected for the same reasons (the two all-### images); only the file naming them differs
    assert [k for k, _ in paddle_rej] == [k for k, _ in icdar_rej] and len(paddle_rej) == 2
    assert report.converted_sources == 8


def test_rec_gt_and_labels_json_give_the_same_10_samples(tmp_path, shared_data):
    root = shared_data / "rec_words"
    options = ConvertOptions(family="got", workers=1)
    paddle, rej1, _ = rows_of(tmp_path, "paddle", "paddle_rec", options, input_path=str(root / "paddleocr_rec_gt.txt"))
    mmocr, rej2, _ = rows_of(tmp_path, "mmocr", "mmocr", options, input_path=str(root / "labels.json"))
    truth = json.loads((root / "labels.json").read_text(encoding="utf-8"))["data_list"]
    assert paddle == mmocr and len(paddle) == 10 and rej1 == rej2 == []
    assert [json.loads(m)[-1]["content"] for m, _, _ in paddle] == [d["instances"][0]["text"] for d in truth]


def test_split_keeps_lines_of_one_image_together(tmp_path, shared_data):
    """The split key is the resolved image path: the same val items whichever route names the images."""
    root = shared_data / "icdar2015"
    options = ConvertOptions(family="got", val_ratio=0.3, workers=1)
    a = convert(open_source("icdar", input_path=str(root)), options, str(tmp_path / "a.jsonl"))
    b = convert(open_source("paddle_det", input_path=str(root / "paddleocr_det_gt.txt")), options,
                str(tmp_path / "b.jsonl"))
    assert a.val == b.val > 0
    val_a = sorted((tmp_path / "a.val.jsonl").read_text(encoding="utf-8").splitlines())
    assert val_a == sorted((tmp_path / "b.val.jsonl").read_text(encoding="utf-8").splitlines())


def test_icdar_to_paddle_det_and_back(tmp_path, shared_data):
    root = shared_data / "icdar2015"
    out = tmp_path / "paddle" / "det_gt.txt"
    convert(open_source("icdar", input_path=str(root)), ConvertOptions(output_format="paddle_det", workers=1), str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 8 and all(line.split("\t")[0].startswith(str(root)) for line in lines)  # outside: absolute
    for task in ("rec", "line", "det"):
        options = ConvertOptions(family="internvl", task=task, workers=1)
        icdar, _, _ = rows_of(tmp_path, f"i{task}", "icdar", options, input_path=str(root))
        back, _, _ = rows_of(tmp_path, f"b{task}", "paddle_det", options, input_path=str(out), allow_outside_root=True)
        assert sorted(back) == sorted(icdar)
    # images outside the label file's folder are refused when read back unless allowed
    with pytest.raises(OcrFormatError, match="escapes the dataset root") as e:
        convert(open_source("paddle_det", input_path=str(out)), ConvertOptions(strict=True, workers=1),
                str(tmp_path / "refused.jsonl"))
    assert e.value.kind == "outside_root" and e.value.source == str(out) and e.value.line == 1


def test_icdar_lines_to_paddle_rec_and_back(tmp_path, shared_data):
    root = shared_data / "icdar2015"
    out = tmp_path / "rec" / "rec_gt.txt"
    report = convert(open_source("icdar", input_path=str(root)),
                     ConvertOptions(task="line", output_format="paddle_rec", workers=1), str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == report.train and all(line.startswith("rec_gt_images/") for line in lines)  # relative
    options = ConvertOptions(family="got", workers=1)
    crops, _, _ = rows_of(tmp_path, "crops", "icdar", ConvertOptions(family="got", task="line", workers=1),
                          input_path=str(root))
    back, rejects, _ = rows_of(tmp_path, "back", "paddle_rec", options, input_path=str(out))
    assert back == crops and rejects == []


def test_paddle_rec_writer_rejects_pages(tmp_path, shared_data):
    """A page's text has line breaks: a PaddleOCR recognition label cannot hold it -- rejected, never cut."""
    report = convert(open_source("icdar", input_path=str(shared_data / "sroie")),
                     ConvertOptions(output_format="paddle_rec", workers=1), str(tmp_path / "pages.txt"))
    assert report.train == 0 and report.reasons["unwritable"] == 20
    rows = [json.loads(r) for r in (tmp_path / "pages.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(r["kind"] == "unwritable" and "line break" in r["reason"] for r in rows)
    with pytest.raises(ValueError, match="--task rec"):
        convert(open_source("icdar", input_path=str(shared_data / "sroie")),
                ConvertOptions(task="line", output_format="paddle_det"), str(tmp_path / "x.txt"))


def test_data_templates_agree(tmp_path, data_templates):
    """The committed paddle_det / mmocr / paddle_rec examples describe the icdar / parquet ones."""
    options = ConvertOptions(family="got", task="line", workers=1)
    icdar, _, _ = rows_of(tmp_path, "icdar", "icdar", options, input_path=str(data_templates / "icdar"))
    paddle, _, _ = rows_of(tmp_path, "paddle", "paddle_det", options,
                           input_path=str(data_templates / "paddle_det/det_gt.txt"))
    spotting, _, _ = rows_of(tmp_path, "spot", "mmocr", options,
                             input_path=str(data_templates / "mmocr/textspotting_train.json"))
    assert sorted(paddle) == sorted(spotting) == sorted(icdar) and len(icdar) > 20
    options = ConvertOptions(family="got", workers=1)
    parquet, _, _ = rows_of(tmp_path, "pq", "parquet", options,
                            input_path=str(data_templates / "parquet/ocr_lines.parquet"))
    rec, _, _ = rows_of(tmp_path, "rec", "paddle_rec", options,
                        input_path=str(data_templates / "paddle_rec/rec_gt.txt"))
    recog, _, _ = rows_of(tmp_path, "recog", "mmocr", options,
                          input_path=str(data_templates / "mmocr/textrecog_train.json"))
    assert rec == recog == parquet and len(rec) == 8


def test_writer_functions(tmp_path, shared_data):
    """write_paddle_det / write_paddle_rec on their own: relative paths inside the output's folder, absolute outside,
    whole numbers as JSON integers, ``###`` for do-not-care, and a sample they cannot hold named by file and line."""
    from swift_ocr.formats.icdar import read_icdar_file
    from swift_ocr.sample import Sample
    from swift_ocr.writers.paddle_det import write_paddle_det
    from swift_ocr.writers.paddle_rec import write_paddle_rec

    root = shared_data / "icdar2015"
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs/img_1.jpg").symlink_to(root / "imgs/img_1.jpg")
    inside = read_icdar_file(root / "gts/gt_img_1.txt", tmp_path / "imgs/img_1.jpg", read_size=False)
    outside = read_icdar_file(root / "gts/gt_img_2.txt", root / "imgs/img_2.jpg", read_size=False)
    assert write_paddle_det([inside, outside], tmp_path / "det.txt") == 2
    first, second = (tmp_path / "det.txt").read_text(encoding="utf-8").splitlines()
    path, label = first.split("\t")
    assert path == "imgs/img_1.jpg" and second.split("\t")[0] == str(root / "imgs/img_2.jpg")
    regions = json.loads(label)
    assert [r["transcription"] for r in regions] == [("###" if r.dont_care else r.text) for r in inside.regions]
    assert regions[0]["points"] == [[int(x), int(y)] for x, y in inside.regions[0].polygon]
    crop = Sample(images=[str(tmp_path / "imgs/img_1.jpg")], text="Genaxis Theatre", source="s.txt", line=3)
    assert write_paddle_rec([crop], tmp_path / "rec.txt") == 1
    assert (tmp_path / "rec.txt").read_text(encoding="utf-8") == "imgs/img_1.jpg\tGenaxis Theatre\n"
    with pytest.raises(ValueError, match=r"^s\.txt:3: .*line break"):
        write_paddle_rec([Sample(images=crop.images, text="a\nb", source="s.txt", line=3)], tmp_path / "x.txt")
    with pytest.raises(ValueError, match=r"^s\.txt:3: no text regions"):
        write_paddle_det([crop], tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()  # nothing written when a sample cannot be
