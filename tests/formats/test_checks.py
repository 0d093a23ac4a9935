"""The shared checks after reading: text, images, NFKC, geometry, and paths that escape the dataset root."""
import os
import shutil

import pytest

from swift_ocr.errors import OcrFormatError
from swift_ocr.formats.checks import ReadOptions, finish_sample, resolve_inside_root
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.sample import Region, Sample


def test_finish_real_icdar_sample_changes_nothing(shared_data):
    s = read_icdar_file(shared_data / "icdar2015/gts/gt_img_1.txt", shared_data / "icdar2015/imgs/img_1.jpg")
    before = [(r.polygon, r.text) for r in s.regions], s.text
    finish_sample(s)
    assert ([(r.polygon, r.text) for r in s.regions], s.text) == before
    assert s.image_size == (1280, 720) and not s.fixes and all(r.issue is None for r in s.regions)


def test_nfkc_counts_changed_transcriptions(shared_data):
    img = str(shared_data / "sroie/img/000.jpg")
    s = Sample([img], "ＴＯＴＡＬ\nok\nﬁx", source="gt.txt", regions=[
        Region([(0, 0), (9, 0), (9, 9), (0, 9)], "ＴＯＴＡＬ", line=1),
        Region([(0, 0), (9, 0), (9, 9), (0, 9)], "ok", line=2),
        Region([(0, 0), (9, 0), (9, 9), (0, 9)], "ﬁx", line=3)])
    finish_sample(s, ReadOptions(nfkc=True))  # opt-in (issue 15)
    assert s.text == "TOTAL\nok\nfix" and [r.text for r in s.regions] == ["TOTAL", "ok", "fix"]
    assert s.fixes == {"nfkc_texts": 2}
    raw = Sample([img], "ＴＯＴＡＬ", source="x.json", line=4)
    finish_sample(raw)  # default: the text as written
    assert raw.text == "ＴＯＴＡＬ" and not raw.fixes
    finish_sample(raw, ReadOptions(nfkc=True))
    assert raw.text == "TOTAL" and raw.fixes == {"nfkc_texts": 1}


def test_bad_text_and_bad_image_name_the_item(tmp_path, shared_data):
    with pytest.raises(OcrFormatError) as e:
        finish_sample(Sample([str(shared_data / "sroie/img/000.jpg")], "a\ud800b", source="train.json", line=3))
    assert e.value.kind == "bad_text" and str(e.value).startswith("train.json:3:")
    with pytest.raises(OcrFormatError) as e:
        finish_sample(Sample([str(tmp_path / "gone.jpg")], "x", source="train.json", line=5))
    assert e.value.kind == "image_missing" and str(e.value).startswith(f"train.json:5: image {tmp_path}/gone.jpg")
    # every image of a multi-image sample is checked
    good = str(shared_data / "sroie/img/000.jpg")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(OcrFormatError) as e:
        finish_sample(Sample([good, str(tmp_path / "empty.png")], "x", source="t.json", line=1))
    assert e.value.kind == "image_empty"


def test_options_are_validated():
    with pytest.raises(ValueError, match="unknown image check"):
        ReadOptions(check_images="thorough")
    with pytest.raises(ValueError):
        ReadOptions(max_image_pixels=-1)
    with pytest.raises(ValueError, match="unknown encoding 'gbx'"):
        ReadOptions(encoding="gbx")
    assert ReadOptions(encoding="GBK").encoding == "GBK"


def test_resolve_inside_root(tmp_path):
    root = str(tmp_path / "data")
    assert resolve_inside_root("imgs/a.jpg", root, False, "l.txt", 1) == os.path.join(root, "imgs/a.jpg")
    assert resolve_inside_root("imgs/../b.jpg", root, False, "l.txt", 1) == os.path.join(root, "b.jpg")
    assert resolve_inside_root(os.path.join(root, "c.jpg"), root, False, "l.txt", 1) == os.path.join(root, "c.jpg")
    for bad in ("../../etc/passwd", "../data2/x.jpg", "/etc/passwd", "imgs/../../x.jpg"):
        with pytest.raises(OcrFormatError) as e:
            resolve_inside_root(bad, root, False, "list.txt", 9)
        assert e.value.kind == "outside_root" and str(e.value).startswith("list.txt:9:")
        assert "--allow-outside-root" in str(e.value)
        assert resolve_inside_root(bad, root, True, "list.txt", 9) == os.path.normpath(os.path.join(root, bad))


def test_symlinked_image_folder_inside_root_is_accepted(tmp_path, shared_data):
    """The check is lexical: a dataset whose image folder is a symlink to another disk still works."""
    root = tmp_path / "ds"
    root.mkdir()
    os.symlink(shared_data / "sroie/img", root / "imgs")
    shutil.copy(shared_data / "sroie/box/000.csv", root / "000.csv")
    p = resolve_inside_root("imgs/000.jpg", str(root), False, "l.txt", 1)
    assert os.path.isfile(p)
