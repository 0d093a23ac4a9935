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


def _reference_pairs(images_dir, labels_dir, label_exts=(".txt", ".csv")):
    """The straightforward dict-and-pathlib matching (the implementation before the compact listing), kept as the
    baseline the compact one must agree with."""
    from pathlib import Path

    from swift_ocr.formats.layout import IMAGE_EXTENSIONS, _label_stems

    images_dir, labels_dir = Path(images_dir).resolve(), Path(labels_dir).resolve()
    pairs, rejections, images, duplicates, labels, unmatched = [], [], {}, {}, {}, []
    for p in sorted(images_dir.iterdir()):
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS:
            images.setdefault(p.stem, []).append(p)
    for stem, paths in list(images.items()):
        if len(paths) > 1:
            rejections += [(str(p), "duplicate_stem") for p in paths]
            duplicates[stem] = images.pop(stem)
    for p in sorted(labels_dir.iterdir()):
        stems = _label_stems(p.name, label_exts) if p.is_file() else []
        if not stems:
            continue
        for stem in stems:
            if stem in images:
                if stem in labels:
                    rejections.append((str(p), "duplicate_stem"))
                else:
                    labels[stem] = p
                break
            if stem in duplicates:
                rejections.append((str(p), "duplicate_stem"))
                break
        else:
            unmatched.append(p)
    for stem, paths in sorted(images.items()):
        if stem in labels:
            pairs.append((str(paths[0]), str(labels[stem])))
        else:
            rejections.append((str(paths[0]), "no_label"))
    rejections += [(str(p), "no_image") for p in unmatched]
    return sorted(pairs), sorted(rejections)


def test_compact_listing_agrees_with_the_reference_on_random_folders(tmp_path):
    import random

    rng = random.Random(7)
    stems = ["a", "b", "gt_a", "img_1", "img_10", "img_2", "x.y", "Ä", "收据", "c d", "gt_", "e.jpg",
             "a-b", "a b", "gt_a-b"]  # "a-b.jpg" sorts before "a.jpg", its stem after "a"
    img_exts = [".jpg", ".JPG", ".png", ".jpeg", ".gif", ".txt"]
    lbl_fmts = ["{s}.txt", "gt_{s}.txt", "{s}.csv", "{s}.jpg.txt", "{s}.json", "{s}.TXT"]
    for case in range(40):
        imgs, gts = tmp_path / f"c{case}" / "imgs", tmp_path / f"c{case}" / "gts"
        imgs.mkdir(parents=True), gts.mkdir()
        for _ in range(rng.randint(0, 14)):
            (imgs / (rng.choice(stems) + rng.choice(img_exts))).write_bytes(b"x")
        for _ in range(rng.randint(0, 14)):
            (gts / rng.choice(lbl_fmts).format(s=rng.choice(stems))).write_bytes(b"x")
        if rng.random() < 0.2:
            (imgs / "folder.jpg").mkdir()
        pairs, rej = pairs_from_folders(imgs, gts)
        got_pairs = [(p.image, p.label) for p in pairs]
        assert got_pairs == sorted(got_pairs)  # sorted by image path
        ref_pairs, ref_rej = _reference_pairs(imgs, gts)
        assert got_pairs == ref_pairs, case
        assert sorted((r.source, r.kind) for r in rej) == ref_rej, case
        assert list(pairs.keys) == [p for p, _ in got_pairs] and pairs == [p for p in pairs]
        # a slice lists its pairs at once (the converter reads chunks): the same pairs as item by item
        items = [pairs[i] for i in range(len(pairs))]
        for cut in (slice(None), slice(1, None, 2), slice(-3, None), slice(2, 5), slice(5, 2), slice(None, None, -1)):
            assert pairs[cut] == items[cut], (case, cut)


def test_compact_listing_of_empty_folders(tmp_path):
    (tmp_path / "i").mkdir(), (tmp_path / "l").mkdir()
    pairs, rej = pairs_from_folders(tmp_path / "i", tmp_path / "l")
    assert len(pairs) == 0 and pairs == [] and rej == []
    (tmp_path / "l" / "gt_a.txt").write_text("1,1,2,1,2,2,1,2,a")
    pairs, rej = pairs_from_folders(tmp_path / "i", tmp_path / "l")
    assert len(pairs) == 0 and [r.kind for r in rej] == ["no_image"]
