"""File names that broke conversions (issue 19): non-UTF-8 (GBK) names, stems too long for line-crop names, names
differing only in Unicode normalisation (NFC/NFD), DBNet's own list layout and Windows paths in list files, and a
plugin dataset that ends up empty.

Every case is built in tmp_path from the real ICDAR 2015 files in ../shared/data, copied under the problematic
names, and run through ``swift-ocr convert`` (the CLI, in-process) and, where the plugin route can meet it, through
ms-swift's real ``load_dataset``. Nothing may change the data of other items, lose an item without a rejects entry,
or end in a traceback.
"""
import contextlib
import io
import json
import os
import shutil
import unicodedata
from pathlib import Path
from typing import List

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from swift_ocr.cli.main import main as cli_main  # noqa: E402
from swift_ocr.convert.staging import NAME_MAX, image_file_name  # noqa: E402
from swift_ocr.errors import KINDS  # noqa: E402
from swift_ocr.formats.layout import pairs_from_folders  # noqa: E402

GBK_STEM = "发票".encode("gbk")  # b'\xb7\xa2\xc6\xb1': not UTF-8; Python sees it surrogate-escaped
GBK_LONE = "收据".encode("gbk")


def cli(args) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli_main(["convert", *args, "--json"])
    assert rc == 0, out.getvalue()
    return json.loads(out.getvalue().strip().splitlines()[-1])


def read_jsonl(path) -> List[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def care_texts(label: Path) -> List[str]:
    lines = label.read_bytes().decode("utf-8-sig").splitlines()
    return [ln.split(",", 8)[8] for ln in lines if ln.strip() and ln.split(",", 8)[8] != "###"]


def copy_pair(shared: Path, n: int, imgs: Path, gts: Path, image_name, label_name) -> None:
    """Copy ICDAR 2015 img_<n> and its label under the given names (str, or bytes for raw file names)."""
    shutil.copy(shared / f"icdar2015/imgs/img_{n}.jpg", os.path.join(os.fsencode(imgs), os.fsencode(image_name)))
    shutil.copy(shared / f"icdar2015/gts/gt_img_{n}.txt", os.path.join(os.fsencode(gts), os.fsencode(label_name)))


def load_plugin():
    from swift.dataset import load_dataset
    from swift.utils import import_external_file

    from swift_ocr.msswift.plugin import plugin_path
    import_external_file(plugin_path())
    return load_dataset


# --- 14: file names that are not UTF-8 ------------------------------------------------------------------------------

def gbk_tree(root: Path, shared: Path) -> Path:
    """``root/imgs`` + ``root/gts``: img_1 under a GBK name (image and label), img_6 as a GBK-named image without
    a label, and img_2, img_3 (img_3 with a clipped region: the careful path) under their own names."""
    imgs, gts = root / "imgs", root / "gts"
    imgs.mkdir(parents=True), gts.mkdir()
    copy_pair(shared, 1, imgs, gts, GBK_STEM + b".jpg", GBK_STEM + b".txt")
    shutil.copy(shared / "icdar2015/imgs/img_6.jpg", os.path.join(os.fsencode(imgs), GBK_LONE + b".jpg"))
    for n in (2, 3):
        copy_pair(shared, n, imgs, gts, f"img_{n}.jpg", f"gt_img_{n}.txt")
    label = gts / "gt_img_3.txt"
    label.write_bytes(label.read_bytes() + b"-5,10,60,-3,60,40,-5,40,edge\n")
    return root


def drop_gbk_files(root: Path) -> None:
    for folder in (root / "imgs", root / "gts"):
        for name in os.listdir(os.fsencode(folder)):
            if GBK_STEM in name or GBK_LONE in name:
                os.unlink(os.path.join(os.fsencode(folder), name))


@pytest.mark.parametrize("task, workers, batch", [("rec", 1, True), ("rec", 1, False), ("rec", 2, True),
                                                  ("line", 1, True), ("line", 2, True), ("det", 2, True)])
def test_non_utf8_file_names_are_rejected_and_the_rest_kept(tmp_path, shared_data, monkeypatch, task, workers, batch):
    root = gbk_tree(tmp_path / "data", shared_data)
    out = tmp_path / "out" / "o.jsonl"
    args = ["--format", "icdar", "--input", str(root), "--task", task, "--workers", str(workers)]
    if not batch:
        args.append("--no-fast-path")  # the careful path only, instead of the fast path first
    if task == "det":
        args += ["--model-family", "internvl"]
    report = cli([*args, "--output", str(out)])
    assert report["sources"] == 4 and report["rejected"] == 2 and report["converted_sources"] == 2
    rejects = read_jsonl(tmp_path / "out" / "o.rejects.jsonl")
    bad = [r for r in rejects if r["kind"] == "bad_filename"]
    assert len(bad) == 2 and "bad_filename" in KINDS
    by_name = {os.path.basename(r["source"]): r for r in bad}
    # the file is named, its undecodable bytes shown escaped (the rejects file is valid UTF-8 JSON)
    pair = by_name[GBK_STEM.decode("utf-8", "backslashreplace") + ".jpg"]
    assert repr(GBK_STEM + b".jpg") in pair["reason"] and repr(GBK_STEM + b".txt") in pair["reason"]
    assert "发票.jpg" in pair["reason"]  # what the bytes read as in GB18030
    lone = by_name[GBK_LONE.decode("utf-8", "backslashreplace") + ".jpg"]
    assert repr(GBK_LONE + b".jpg") in lone["reason"] and "no label" in lone["reason"]
    rows = read_jsonl(out)
    assert rows and all(os.path.isfile(i) for r in rows for i in r["images"])
    # the other items give exactly what they give without the GBK files
    drop_gbk_files(root)
    clean = tmp_path / "clean" / "o.jsonl"
    cli([*args, "--output", str(clean)])
    assert out.read_bytes() == clean.read_bytes().replace(str(clean.parent).encode(), str(out.parent).encode())
    assert [r for r in rejects if r["kind"] != "bad_filename"] == read_jsonl(tmp_path / "clean" / "o.rejects.jsonl")


def test_non_utf8_file_names_through_the_plugin(tmp_path, shared_data):
    load_dataset = load_plugin()
    root = gbk_tree(tmp_path / "data", shared_data)
    for task in ("rec", "line"):
        cli(["--format", "icdar", "--input", str(root), "--task", task, "--output", str(tmp_path / f"{task}.jsonl")])
        rejects = tmp_path / f"{task}.swift-rejects.jsonl"
        ds, _ = load_dataset([f"swift-ocr/icdar:{root}?family=got&task={task}&rejects={rejects}"],
                             load_from_cache_file=False)
        rows = read_jsonl(tmp_path / f"{task}.jsonl")
        assert len(ds) == len(rows) > 0
        assert [r["messages"] for r in ds] == [r["messages"] for r in rows]
        key = lambda r: (r["source"], r["line"] or 0, r["kind"], r["reason"])  # noqa: E731
        got = sorted(read_jsonl(rejects), key=key)
        assert got == sorted(read_jsonl(tmp_path / f"{task}.rejects.jsonl"), key=key)
        assert [r["kind"] for r in got].count("bad_filename") == 2


def test_non_utf8_dataset_folder_is_a_clear_error(tmp_path, shared_data, capsys):
    root = os.path.join(os.fsencode(tmp_path), GBK_STEM)
    os.makedirs(os.path.join(root, b"imgs")), os.makedirs(os.path.join(root, b"gts"))
    copy_pair(shared_data, 2, os.fsdecode(os.path.join(root, b"imgs")), os.fsdecode(os.path.join(root, b"gts")),
              "img_2.jpg", "gt_img_2.txt")
    rc = cli_main(["convert", "--format", "icdar", "--input", os.fsdecode(root),
                   "--output", str(tmp_path / "o.jsonl")])
    err = capsys.readouterr().err
    assert rc == 2 and "not valid UTF-8" in err and "\\xb7\\xa2" in err and "Traceback" not in err
    assert not (tmp_path / "o.jsonl").exists()


# --- 12: a plugin dataset that ends up empty -------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["all_rejected", "all_bad_names"])
def test_empty_plugin_dataset_fails_early_naming_it(tmp_path, shared_data, case):
    load_dataset = load_plugin()
    root = tmp_path / "data"
    (root / "imgs").mkdir(parents=True), (root / "gts").mkdir()
    if case == "all_rejected":  # every region of img_4 is ###: empty target text
        copy_pair(shared_data, 4, root / "imgs", root / "gts", "img_4.jpg", "gt_img_4.txt")
        kind = "empty_text"
    else:  # the only pair has a GBK name: rejected while listing
        copy_pair(shared_data, 1, root / "imgs", root / "gts", GBK_STEM + b".jpg", GBK_STEM + b".txt")
        kind = "bad_filename"
    rejects = tmp_path / "rejects.jsonl"
    spec = f"swift-ocr/icdar:{root}?family=got&rejects={rejects}"
    for suffix in ("#3", ""):  # '#N' made ms-swift divide by the empty length
        if rejects.exists():
            rejects.unlink()
        with pytest.raises(ValueError) as info:
            load_dataset([spec + suffix], load_from_cache_file=False)
        message = str(info.value)
        assert f"swift-ocr/icdar:{root}" in message and "empty" in message
        assert str(rejects) in message and f"{kind} 1" in message
        assert [r["kind"] for r in read_jsonl(rejects)] == [kind]
    # without a rejects file the message says how to get one
    with pytest.raises(ValueError, match=r"rejects=FILE"):
        load_dataset([f"swift-ocr/icdar:{root}?family=got#3"], load_from_cache_file=False)


# --- 15: long image stems in line-crop names -------------------------------------------------------------------------

def test_image_file_names_fit_and_normal_ones_are_unchanged():
    assert image_file_name(12, "img_1_l3", ".png") == "0000012_img_1_l3.png"  # the documented pattern
    fits = "a" * (NAME_MAX - len("0000001_") - len("_l1.png"))
    assert image_file_name(1, fits + "_l1", ".png") == f"0000001_{fits}_l1.png"  # exactly NAME_MAX bytes: kept
    for stem in ("a" * (len(fits) + 1), "文" * 200, "é" * 300, "x" * 5000):
        name = image_file_name(1, stem + "_l17", ".png")
        assert len(name.encode("utf-8")) <= NAME_MAX
        assert name.startswith("0000001_") and name.endswith("_l17.png")
        assert name == image_file_name(1, stem + "_l17", ".png")  # deterministic
        assert name != image_file_name(1, stem[:-1] + "b_l17", ".png")  # the hash sees the whole stem


@pytest.mark.parametrize("stem", ["x" * 246, "文" * 82, "ab" + "é" * 122])  # 246 bytes each in UTF-8
def test_line_task_with_long_image_stems(tmp_path, shared_data, stem):
    assert len(stem.encode("utf-8")) == 246
    long_root, short_root = tmp_path / "long", tmp_path / "short"
    short = stem[0]  # sorts where the long stem sorts, next to img_2
    for root, name in ((long_root, stem), (short_root, short)):
        (root / "imgs").mkdir(parents=True), (root / "gts").mkdir()
        copy_pair(shared_data, 1, root / "imgs", root / "gts", f"{name}.jpg", f"{name}.txt")
        copy_pair(shared_data, 2, root / "imgs", root / "gts", "img_2.jpg", "img_2.txt")
    reports, rows = [], []
    for root in (long_root, short_root):
        reports.append(cli(["--format", "icdar", "--input", str(root), "--task", "line",
                            "--output", str(root / "out" / "o.jsonl")]))
        rows.append(read_jsonl(root / "out" / "o.jsonl"))
    assert reports[0]["rejected"] == reports[1]["rejected"] == 0
    assert len(rows[0]) == len(rows[1]) == len(care_texts(shared_data / "icdar2015/gts/gt_img_1.txt")) + \
        len(care_texts(shared_data / "icdar2015/gts/gt_img_2.txt"))
    assert [r["messages"] for r in rows[0]] == [r["messages"] for r in rows[1]]
    names_long = [os.path.basename(r["images"][0]) for r in rows[0]]
    names_short = [os.path.basename(r["images"][0]) for r in rows[1]]
    assert len(set(names_long)) == len(names_long)
    for long_name, short_name, a, b in zip(names_long, names_short, rows[0], rows[1]):
        assert len(long_name.encode("utf-8")) <= NAME_MAX
        if short_name.startswith(short_name[:8] + short + "_l"):  # the long stem's crops: shortened, index and
            assert long_name != short_name.replace(short, stem, 1)  # region tag kept
            assert long_name[:8] == short_name[:8] and long_name.rsplit("_", 1)[1] == short_name.rsplit("_", 1)[1]
            assert long_name.startswith(short_name[:8] + stem[:20])
        else:  # other names are what they always were
            assert long_name == short_name
        assert Path(a["images"][0]).read_bytes() == Path(b["images"][0]).read_bytes()  # the same crop


# --- smaller: DBNet list layout, Windows paths, NFC/NFD ---------------------------------------------------------------

def dbnet_tree(root: Path, shared: Path) -> Path:
    """DBNet's datasets/icdar2015 layout: train_images/img_N.jpg, train_gts/img_N.jpg.txt, train_list.txt naming
    the images only."""
    (root / "train_images").mkdir(parents=True), (root / "train_gts").mkdir()
    for n in (1, 2, 3):
        copy_pair(shared, n, root / "train_images", root / "train_gts", f"img_{n}.jpg", f"img_{n}.jpg.txt")
    (root / "train_list.txt").write_text("img_1.jpg\nimg_2.jpg\nimg_3.jpg\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("listing", [
    "img_1.jpg\nimg_2.jpg\nimg_3.jpg\n",  # DBNet's own train_list.txt
    "train_images/img_1.jpg\ntrain_images/img_2.jpg\ntrain_images/img_3.jpg\n",
    "".join(f"train_images/img_{n}.jpg\ttrain_gts/img_{n}.jpg.txt\n" for n in (1, 2, 3)),
    "".join(f"train_images\\img_{n}.jpg\ttrain_gts\\img_{n}.jpg.txt\n" for n in (1, 2, 3)),  # Windows
    "".join(f"train_images\\img_{n}.jpg\r\n" for n in (1, 2, 3)),
])
def test_dbnet_list_layouts_give_what_the_folder_layout_gives(tmp_path, shared_data, listing):
    root = dbnet_tree(tmp_path / "db", shared_data)
    (root / "list.txt").write_text(listing, encoding="utf-8", newline="")
    via_input = cli(["--format", "icdar", "--input", str(root), "--output", str(tmp_path / "a.jsonl")])
    via_list = cli(["--format", "icdar", "--list", str(root / "list.txt"), "--output", str(tmp_path / "b.jsonl")])
    assert via_list["rejected"] == via_input["rejected"] == 0 and via_list["train"] == 3
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    rows = read_jsonl(tmp_path / "b.jsonl")
    for n, row in zip((1, 2, 3), rows):
        assert row["images"] == [str(root / f"train_images/img_{n}.jpg")]
        assert row["messages"][-1]["content"] == "\n".join(care_texts(shared_data / f"icdar2015/gts/gt_img_{n}.txt"))


def test_windows_path_to_a_missing_file_says_how_it_was_read(tmp_path, shared_data):
    root = dbnet_tree(tmp_path / "db", shared_data)
    (root / "list.txt").write_text("train_images\\img_9.jpg\ttrain_gts\\img_9.jpg.txt\n"
                                   "train_images\\img_1.jpg\ttrain_gts\\img_1.jpg.txt\n", encoding="utf-8")
    report = cli(["--format", "icdar", "--list", str(root / "list.txt"), "--output", str(tmp_path / "o.jsonl")])
    assert report["train"] == 1 and report["rejected"] == 1
    (rej,) = read_jsonl(tmp_path / "o.rejects.jsonl")
    assert rej["kind"] == "file_not_found" and rej["line"] == 1 and rej["source"] == str(root / "list.txt")
    assert "train_images/img_9.jpg" in rej["reason"] and "backslashes" in rej["reason"]


NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")


@pytest.mark.parametrize("image_form, label_form", [(NFD, NFC), (NFC, NFD)])
def test_names_differing_only_in_normalisation_are_paired(tmp_path, shared_data, image_form, label_form):
    assert image_form != label_form
    root = tmp_path / "data"
    (root / "imgs").mkdir(parents=True), (root / "gts").mkdir()
    copy_pair(shared_data, 1, root / "imgs", root / "gts", f"{image_form}.jpg", f"{label_form}.txt")
    copy_pair(shared_data, 2, root / "imgs", root / "gts", "img_2.jpg", "gt_img_2.txt")
    report = cli(["--format", "icdar", "--input", str(root), "--output", str(tmp_path / "o.jsonl")])
    assert report["rejected"] == 0 and report["train"] == 2
    rows = read_jsonl(tmp_path / "o.jsonl")
    # the path is the file's own name on disk (nothing renamed), the text its label's
    assert rows[0]["images"] == [str(root / "imgs" / f"{image_form}.jpg")]
    assert os.path.isfile(rows[0]["images"][0])
    assert rows[0]["messages"][-1]["content"] == "\n".join(care_texts(shared_data / "icdar2015/gts/gt_img_1.txt"))
    # a list file naming the other form finds the file too
    (root / "list.txt").write_text(f"imgs/{label_form}.jpg\tgts/{image_form}.txt\n", encoding="utf-8")
    report = cli(["--format", "icdar", "--list", str(root / "list.txt"), "--output", str(tmp_path / "l.jsonl")])
    assert report["rejected"] == 0 and read_jsonl(tmp_path / "l.jsonl")[0] == rows[0]


def test_ambiguous_normalisation_is_named_in_the_rejection(tmp_path, shared_data):
    """Two images whose names are one NFC name in two other spellings, and one label in NFC: no guess is made,
    and the rejections say why."""
    nfd = unicodedata.normalize("NFD", "\u1ec7")  # e + dot below + circumflex
    other = "e\u0302\u0323"  # the same marks in the other order (not normalised at all)
    assert unicodedata.normalize("NFC", other) == "\u1ec7" != other != nfd
    imgs, gts = tmp_path / "imgs", tmp_path / "gts"
    imgs.mkdir(), gts.mkdir()
    copy_pair(shared_data, 1, imgs, gts, f"{nfd}.jpg", "\u1ec7.txt")
    shutil.copy(shared_data / "icdar2015/imgs/img_2.jpg", imgs / f"{other}.jpg")
    pairs, rej = pairs_from_folders(imgs, gts)
    assert len(pairs) == 0
    assert sorted(r.kind for r in rej) == ["no_image", "no_label", "no_label"]
    assert all("Unicode normalisation" in r.reason for r in rej)


@pytest.mark.parametrize("listing", [
    "imgs/img_1.jpg\nimgs/img_2.jpg\n",
    "img_1.jpg\nimg_2.jpg\n",
    "imgs/img_1.jpg\tgts/img_1.jpg.txt\nimgs/img_2.jpg\tgts/img_2.jpg.txt\n",
])
def test_list_file_with_labels_named_after_the_image_in_gts(tmp_path, shared_data, listing):
    """MMOCR-style folders (imgs/, gts/) with DBNet-style label names (gts/img_1.jpg.txt)."""
    root = tmp_path / "data"
    (root / "imgs").mkdir(parents=True), (root / "gts").mkdir()
    for n in (1, 2):
        copy_pair(shared_data, n, root / "imgs", root / "gts", f"img_{n}.jpg", f"img_{n}.jpg.txt")
    (root / "list.txt").write_text(listing, encoding="utf-8")
    cli(["--format", "icdar", "--input", str(root), "--output", str(tmp_path / "a.jsonl")])
    report = cli(["--format", "icdar", "--list", str(root / "list.txt"), "--output", str(tmp_path / "b.jsonl")])
    assert report["rejected"] == 0 and report["train"] == 2
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert [r["messages"][-1]["content"] for r in read_jsonl(tmp_path / "b.jsonl")] == [
        "\n".join(care_texts(shared_data / f"icdar2015/gts/gt_img_{n}.txt")) for n in (1, 2)]
