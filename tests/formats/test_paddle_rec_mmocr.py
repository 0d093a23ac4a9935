"""PaddleOCR recognition labels (``paddle_rec``) and MMOCR 1.x annotation JSON (``mmocr``): the real
``rec_words/paddleocr_rec_gt.txt`` and ``rec_words/labels.json`` (the same 10 crops) give the same samples; MMOCR
textspotting built from the real ICDAR 2015 ground truth gives the ICDAR samples; each defect is one rejection."""
import json
import os

import pytest

from swift_ocr.errors import KINDS, OcrFormatError
from swift_ocr.formats.checks import ReadOptions
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.formats.mmocr import MmocrFormat, load_annotation
from swift_ocr.formats.paddle_rec import PaddleRecFormat


def read_all(fmt, path, image_root=None, **options):
    """``[(key, Sample or OcrFormatError)]`` through the format's own listing and reading."""
    params = fmt.params({"image_root": image_root})
    opts = ReadOptions(**options)
    out = []
    for i, item in enumerate(fmt.load_items(str(path), params, opts)):
        try:
            value = fmt.item_sample(item, str(path), i, params, opts)
        except OcrFormatError as e:
            value = e
        out.append((fmt.item_key(item, str(path), i, params), value))
    return out


def test_rec_gt_and_labels_json_give_the_same_10_samples(shared_data):
    root = shared_data / "rec_words"
    paddle = read_all(PaddleRecFormat(), root / "paddleocr_rec_gt.txt")
    mmocr = read_all(MmocrFormat(), root / "labels.json")
    truth = json.loads((root / "labels.json").read_text(encoding="utf-8"))["data_list"]
    assert len(paddle) == len(mmocr) == len(truth) == 10
    for (k1, a), (k2, b), t in zip(paddle, mmocr, truth):
        assert k1 == k2 == str(root / t["img_path"])
        assert a.images == b.images == [k1] and a.text == b.text == t["instances"][0]["text"]
        assert a.regions == b.regions == []
    assert [s.line for _, s in paddle] == [s.line for _, s in mmocr] == list(range(1, 11))


def test_rec_lines(tmp_path, shared_data):
    for name in "abcd":
        os.symlink(shared_data / "rec_words/1223731.jpg", tmp_path / f"{name}.jpg")
    label = tmp_path / "rec_gt.txt"
    label.write_text("a.jpg\t two  words \nb.jpg\tA\tB\nc.jpg\nd.jpg\tline\u2028sep\n../x.jpg\tX\n", encoding="utf-8")
    got = [v for _, v in read_all(PaddleRecFormat(), label)]
    assert got[0].text == " two  words "  # the text after the tab, exactly
    assert got[3].text == "line\u2028sep"  # only LF, CRLF and CR end a line, as PaddleOCR reads it
    for no, kind in ((2, "bad_list_line"), (3, "bad_list_line"), (5, "outside_root")):
        err = got[no - 1]
        assert isinstance(err, OcrFormatError) and (err.kind, err.line) == (kind, no) and kind in KINDS
        assert str(err).startswith(f"{label}:{no}: ")
    assert "first tab" in got[1].reason


def _spotting_entry(root, stem):
    """An MMOCR textspotting entry for one ICDAR 2015 image, written from its ICDAR label file as MMOCR's ICDAR
    parser and textspotting packer do (polygon = the 8 coordinates, bbox = their extent, ignore = '###')."""
    instances = []
    for line in (root / "gts" / f"gt_{stem}.txt").read_text(encoding="utf-8-sig").splitlines():
        fields = line.split(",", 8)
        poly = [int(v) for v in fields[:8]]
        xs, ys = poly[0::2], poly[1::2]
        instances.append({"polygon": poly, "bbox": [min(xs), min(ys), max(xs), max(ys)], "bbox_label": 0,
                          "text": fields[8], "ignore": fields[8] == "###"})
    return {"img_path": f"imgs/{stem}.jpg", "height": 720, "width": 1280, "instances": instances}


def test_textspotting_gives_the_icdar_samples(tmp_path, shared_data):
    root = shared_data / "icdar2015"
    stems = [f"img_{i}" for i in range(1, 11)]
    ann = {"metainfo": {"dataset_type": "TextSpottingDataset", "task_name": "textspotting"},
           "data_list": [_spotting_entry(root, s) for s in stems]}
    path = tmp_path / "textspotting_train.json"
    path.write_text(json.dumps(ann), encoding="utf-8")
    got = read_all(MmocrFormat(), path, image_root=str(root))
    for stem, (key, sample) in zip(stems, got):
        icdar = read_icdar_file(root / "gts" / f"gt_{stem}.txt", root / "imgs" / f"{stem}.jpg", read_size=False)
        assert key == str(root / "imgs" / f"{stem}.jpg") and sample.images == icdar.images
        assert sample.text == icdar.text
        assert [(r.polygon, r.text, r.dont_care) for r in sample.regions] == \
               [(r.polygon, r.text, r.dont_care) for r in icdar.regions]


def test_mmocr_defects(tmp_path, shared_data):
    for name in "abcdefgh":
        os.symlink(shared_data / "rec_words/1223731.jpg", tmp_path / f"{name}.jpg")
    box = {"bbox": [1, 2, 30, 12], "bbox_label": 0}
    data_list = [
        {"img_path": "a.jpg", "instances": [{**box, "ignore": False}]},                      # 1: textdet, no text
        {"img_path": "b.jpg", "instances": [{**box, "text": "###", "ignore": False},
                                            {"polygon": [1, 2, 30, 2, 30, 12], "text": "UP", "ignore": False}]},  # 2
        {"img_path": "c.jpg", "instances": [{"polygon": [1, 2, 30, 2, 30], "text": "x"}]},  # 3: odd polygon
        {"img_path": "d.jpg", "instances": []},                                              # 4: no instance
        {"instances": [{"text": "x"}]},                                                      # 5: no img_path
        {"img_path": "../e.jpg", "instances": [{"text": "x"}]},                              # 6: outside the root
        {"img_path": "f.jpg", "instances": [{"text": "A"}, {"text": "B"}]},                  # 7: two texts, one crop
        {"img_path": "g.jpg", "instances": [{"text": "A"}]},                                 # 8
        {"img_path": "g.jpg", "instances": [{"text": "A"}]},                                 # 9: a repeat
        {"img_path": "h.jpg", "instances": [{**box, "text": "x", "ignore": "no"}]},         # 10: ignore not bool
        {"img_path": "a.jpg", "instances": [{**box, "ignore": True}]},                       # 11: a only ignored
    ]
    path = tmp_path / "ann.json"
    path.write_text(json.dumps({"metainfo": {}, "data_list": data_list}), encoding="utf-8")
    got = [v for _, v in read_all(MmocrFormat(), path)]
    expected = {1: "duplicate_image", 3: "bad_coordinates", 4: "empty_label", 5: "bad_record", 6: "outside_root",
                7: "bad_record", 9: "duplicate_image", 10: "bad_record", 11: "duplicate_image"}
    for no, kind in expected.items():
        err = got[no - 1]
        assert isinstance(err, OcrFormatError) and (err.kind, err.line, err.source) == (kind, no, str(path)), no
    two = got[1]
    assert two.text == "UP" and [r.dont_care for r in two.regions] == [True, False]
    assert two.regions[0].polygon == [(1.0, 2.0), (30.0, 2.0), (30.0, 12.0), (1.0, 12.0)]
    assert got[7].text == "A" and got[7].regions == []
    # entry 1 alone: a textdet instance without text cannot be a target
    path.write_text(json.dumps({"metainfo": {"task_name": "textdet"}, "data_list": data_list[:1]}), encoding="utf-8")
    [(_, err)] = read_all(MmocrFormat(), path)
    assert err.kind == "bad_record" and "textspotting" in err.reason


@pytest.mark.parametrize("content, kind", [
    ('{"data_list": [', "invalid_json"),
    ('[{"img_path": "a.jpg"}]', "bad_record"),
    ('{"metainfo": {"task_name": "kie"}, "data_list": []}', "bad_record"),
])
def test_mmocr_file_that_cannot_be_read(tmp_path, content, kind):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OcrFormatError) as e:
        load_annotation(path)
    assert e.value.kind == kind and str(path) in str(e.value)
