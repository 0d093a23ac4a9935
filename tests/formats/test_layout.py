"""Layout discovery: folder pairs, DBNet list files, dataset roots; nothing dropped silently."""
import shutil

import pytest

from swift_ocr.errors import OcrFormatError
from swift_ocr.formats.layout import discover_pairs, pairs_from_folders, pairs_from_list


def test_icdar2015_gt_prefix_matching(shared_data):
    pairs, rej = pairs_from_folders(shared_data / "icdar2015/imgs", shared_data / "icdar2015/gts")
    assert rej == [] and len(pairs) == 10
    for p in pairs:
        stem = p.image.rsplit("/", 1)[1].rsplit(".", 1)[0]
        assert p.label.endswith(f"/gt_{stem}.txt")


def test_unmatched_and_duplicate_stems_are_rejected(tmp_path, shared_data):
    imgs, gts = tmp_path / "imgs", tmp_path / "gts"
    imgs.mkdir(), gts.mkdir()
    src = shared_data / "icdar2015"
    for n in (1, 2, 3):
        shutil.copy(src / f"imgs/img_{n}.jpg", imgs / f"img_{n}.jpg")
    shutil.copy(src / "imgs/img_2.jpg", imgs / "img_2.png")      # duplicate stem
    for n in (1, 2, 4):
        shutil.copy(src / f"gts/gt_img_{n}.txt", gts / f"gt_img_{n}.txt")
    pairs, rej = pairs_from_folders(imgs, gts)
    assert [p.image.rsplit("/", 1)[1] for p in pairs] == ["img_1.jpg"]
    kinds = {(r.source.rsplit("/", 1)[1], r.kind) for r in rej}
    assert kinds == {("img_2.jpg", "duplicate_stem"), ("img_2.png", "duplicate_stem"),
                     ("gt_img_2.txt", "duplicate_stem"),   # its image stem is ambiguous
                     ("img_3.jpg", "no_label"), ("gt_img_4.txt", "no_image")}
    assert all(r.line is None and r.reason for r in rej)


def test_dbnet_list_file(tmp_path, shared_data):
    (tmp_path / "train_images").mkdir(), (tmp_path / "train_gts").mkdir()
    for n in (1, 2):
        shutil.copy(shared_data / f"icdar2015/imgs/img_{n}.jpg", tmp_path / "train_images")
        shutil.copy(shared_data / f"icdar2015/gts/gt_img_{n}.txt", tmp_path / "train_gts")
    lst = tmp_path / "train_list.txt"
    lst.write_text("train_images/img_1.jpg train_gts/gt_img_1.txt\n\n"
                   "train_images/img_2.jpg train_gts/gt_img_2.txt\n"
                   "train_images/img_9.jpg train_gts/gt_img_9.txt\n"
                   "a b c\n", encoding="utf-8")
    pairs, rej = pairs_from_list(lst)
    assert [(p.line, p.image.rsplit("/", 1)[1]) for p in pairs] == [(1, "img_1.jpg"), (3, "img_2.jpg")]
    assert [(r.line, r.reason.split(":")[0]) for r in rej] == [(4, "file not found"), (5, "expected '<image> <label>', got 'a b c'")]
    assert [r.kind for r in rej] == ["file_not_found", "bad_list_line"]


def test_root_resolution(shared_data, tmp_path):
    pairs, _ = discover_pairs(root=shared_data / "sroie")
    assert len(pairs) == 20 and pairs[0].label.endswith("box/000.csv")
    with pytest.raises(OcrFormatError, match="no image/label folders"):
        discover_pairs(root=tmp_path)
    with pytest.raises(ValueError):
        discover_pairs(root=tmp_path, list_file="x")
