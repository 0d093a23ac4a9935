"""PaddleOCR / PPOCRLabel detection labels (``paddle_det``) on the real ``icdar2015/paddleocr_det_gt.txt`` (written by
PaddleOCR's own ``gen_label.py`` from the ICDAR files beside it) and on small label files with one defect each."""
import json
import os

import pytest

from swift_ocr.errors import KINDS, OcrFormatError
from swift_ocr.formats.checks import ReadOptions
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.formats.paddle_det import PaddleDetFormat, parse_det_label

FMT = PaddleDetFormat()


def read_all(path, image_root=None, **options):
    """``[(key, Sample or OcrFormatError)]`` of a paddle_det file, through the format's own listing and reading."""
    params = FMT.params({"image_root": image_root})
    opts = ReadOptions(**options)
    out = []
    for i, item in enumerate(FMT.load_items(str(path), params, opts)):
        try:
            value = FMT.item_sample(item, str(path), i, params, opts)
        except OcrFormatError as e:
            value = e
        out.append((FMT.item_key(item, str(path), i, params), value))
    return out


def test_real_file_gives_the_icdar_samples(shared_data):
    root = shared_data / "icdar2015"
    got = read_all(root / "paddleocr_det_gt.txt")
    assert len(got) == 10
    for line_no, (key, sample) in enumerate(got, 1):
        stem = os.path.splitext(os.path.basename(key))[0]
        icdar = read_icdar_file(root / "gts" / f"gt_{stem}.txt", root / "imgs" / f"{stem}.jpg", read_size=False)
        assert key == str(root / "imgs" / f"{stem}.jpg") and sample.images == icdar.images
        assert sample.text == icdar.text and sample.line == line_no
        assert [(r.polygon, r.text, r.dont_care) for r in sample.regions] == \
               [(r.polygon, r.text, r.dont_care) for r in icdar.regions]
        assert all(r.line == line_no for r in sample.regions)


def _write(folder, name, lines, encoding="utf-8", newline="\n"):
    path = folder / name
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    return path


def _region(text, points, **extra):
    return {"transcription": text, "points": points, **extra}


QUAD = [[10, 10], [60, 10], [60, 30], [10, 30]]


def _link_image(shared_data, folder, name="a.jpg"):
    """A symbolic link to a real image (no copy of the shared data)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(shared_data / "icdar2015/imgs/img_1.jpg", folder / name)
    return folder / name


def test_each_bad_line_is_rejected_with_file_line_and_kind(tmp_path, shared_data):
    _link_image(shared_data, tmp_path)
    for n in "bcdefghijklm":
        os.symlink(shared_data / "icdar2015/imgs/img_1.jpg", tmp_path / f"{n}.jpg")
    ok = json.dumps([_region("OK", QUAD)])
    lines = [
        "a.jpg " + ok,                                                      # 1: a space, not a tab
        "b.jpg\t[{\"transcription\": \"x\", \"points\": [[1, 2]",          # 2: broken JSON
        "c.jpg\t" + json.dumps([_region("x", [["1", 2], [3, 4], [5, 6]])]),  # 3: a coordinate that is a string
        "d.jpg\t" + json.dumps([_region("x", [[1, 2], [3, 4]])]),          # 4: 2 points
        "e.jpg\t" + json.dumps([_region(7, QUAD)]),                        # 5: transcription not a string
        "f.jpg\t" + json.dumps([_region("x", QUAD, difficult="yes")]),     # 6: difficult not a boolean
        "g.jpg\t[]",                                                        # 7: no region
        "../outside.jpg\t" + ok,                                            # 8: leaves the label file's folder
        "h.jpg\t" + ok, "h.jpg\t" + json.dumps([_region("OK", QUAD)], indent=1).replace("\n", " "),  # 9, 10: repeat
        "i.jpg\t" + ok, "i.jpg\t" + json.dumps([_region("KO", QUAD)]),    # 11, 12: different labels
        '["j.jpg", "k.jpg"]\t' + ok,                                        # 13: PaddleOCR's random list of images
        "l.jpg\t" + json.dumps({"transcription": "x", "points": QUAD}),    # 14: an object, not a list
        "m.jpg\t" + json.dumps([_region("x", [[1, 2], [3, float("inf")], [5, 6]])]),  # 15: Infinity
        "\t" + ok,                                                          # 16: no path
    ]
    label = _write(tmp_path, "Label.txt", lines)
    got = dict((i + 1, v) for i, (_, v) in enumerate(read_all(label)))
    expected = {1: "bad_list_line", 2: "invalid_json", 3: "bad_coordinates", 4: "bad_coordinates", 5: "bad_record",
                6: "bad_record", 7: "empty_label", 8: "outside_root", 10: "duplicate_image", 11: "duplicate_image",
                12: "duplicate_image", 13: "bad_record", 14: "bad_record", 15: "bad_coordinates", 16: "bad_list_line"}
    for no, kind in expected.items():
        err = got[no]
        assert isinstance(err, OcrFormatError), (no, err)
        assert (err.kind, err.line, err.source) == (kind, no, str(label)) and kind in KINDS
        assert str(err).startswith(f"{label}:{no}: ")
    assert got[9].text == "OK" and got[9].images == [str(tmp_path / "h.jpg")]  # the first of two equal lines is kept
    assert "line 9" in got[10].reason and "lines 11, 12" in got[11].reason
    assert len(got) == 16


def test_outside_root_is_accepted_when_allowed(tmp_path, shared_data):
    (tmp_path / "sub").mkdir()
    label = _write(tmp_path / "sub", "Label.txt", [f"../a.jpg\t{json.dumps([_region('OK', QUAD)])}"])
    _link_image(shared_data, tmp_path)
    assert read_all(label)[0][1].kind == "outside_root"
    [(key, sample)] = read_all(label, allow_outside_root=True)
    assert key == str(tmp_path / "a.jpg") and sample.images == [key]


def test_ppocrlabel_file_difficult_polygon_and_folder_prefix(tmp_path, shared_data):
    """PPOCRLabel saves Label.txt inside the image folder and names images '<folder>/<file>'; it writes "difficult"
    and, in polygon mode, more than 4 points."""
    folder = tmp_path / "zh_train"
    _link_image(shared_data, folder, "1.jpg")
    hexagon = [[100, 100], [150, 90], [200, 100], [200, 130], [150, 140], [100, 130]]
    regions = [_region("Genaxis", QUAD, difficult=False, key_cls="None"), _region("blurred", QUAD, difficult=True),
               _region("curved", hexagon, difficult=False), _region("*", QUAD, difficult=False)]
    label = _write(folder, "Label.txt", ["zh_train/1.jpg\t" + json.dumps(regions, ensure_ascii=False)])
    [(key, sample)] = read_all(label)
    assert key == str(folder / "1.jpg") and sample.images == [key]
    assert [r.dont_care for r in sample.regions] == [False, True, False, True]  # difficult, and PaddleOCR's '*'
    assert sample.text == "Genaxis\ncurved"
    assert sample.regions[2].polygon == [tuple(map(float, p)) for p in hexagon]


def test_image_root_bom_crlf_gb18030_and_backslashes(tmp_path, shared_data):
    root = shared_data / "icdar2015"
    line = "imgs\\img_1.jpg\t" + json.dumps([_region("招牌", QUAD)], ensure_ascii=False)
    utf8 = tmp_path / "bom.txt"
    utf8.write_bytes(b"\xef\xbb\xbf" + line.encode("utf-8") + b"\r\n\r\n")
    gbk = _write(tmp_path, "gbk.txt", [line], encoding="gb18030")
    a = read_all(utf8, image_root=str(root))
    b = read_all(gbk, image_root=str(root))
    assert [k for k, _ in a] == [k for k, _ in b] == [str(root / "imgs/img_1.jpg")]
    assert a[0][1].text == b[0][1].text == "招牌"
    assert dict(b[0][1].fixes) == {"gb18030_files": 1} and not a[0][1].fixes
    # without --image-root the path is relative to the label file's folder: the image is not there
    [(key, _)] = read_all(utf8)
    assert key == str(tmp_path / "imgs/img_1.jpg")


def test_parse_det_label_keeps_float_points_and_rejects_bool():
    [r] = parse_det_label(json.dumps([_region("x", [[1.5, 2], [3, 4.25], [5, 6]])]), "f.txt", 3)
    assert r.polygon == [(1.5, 2.0), (3.0, 4.25), (5.0, 6.0)] and r.line == 3
    with pytest.raises(OcrFormatError) as e:
        parse_det_label(json.dumps([_region("x", [[True, 2], [3, 4], [5, 6]])]), "f.txt", 3)
    assert e.value.kind == "bad_coordinates"
