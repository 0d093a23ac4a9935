"""Tests for ``swift-ocr draw`` (swift_ocr/cli/draw.py): PNGs from result rows written the way ms-swift 4.6.0 does
(real SROIE / ICDAR 2015 ground truth encoded by a codec), and from ground truth alone."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageFont

from swift_ocr.cli.main import main
from swift_ocr.codecs import get_codec
from swift_ocr.eval.draw import FONT_PATH, font_size
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.sample import Region


@pytest.fixture(scope="module")
def receipts(shared_data):
    root = shared_data / "sroie"
    return [read_icdar_file(root / "box" / f"{n}.csv", root / "img" / f"{n}.jpg") for n in ("001", "002", "003")]


def test_draw_results_with_original_ground_truth(receipts, shared_data, tmp_path, capsys, write_swift_results,
                                                 draw_checks):
    dc = draw_checks
    codec = get_codec("internvl")
    items, expected = [], {}
    for s in receipts:
        font = ImageFont.truetype(FONT_PATH, font_size(s.image_size))
        care = s.care_regions()
        x1, y1, x2, y2 = dc.blank_box(s.regions, s.image_size, font)
        ghost = Region([(x1, y1), (x2, y1), (x2, y2), (x1, y2)], "ghost")
        kept = care[::2]  # every 2nd region predicted (matched), the others missed, plus one false positive
        items.append((s.images[0], codec.encode(care, s.image_size), codec.encode(kept + [ghost], s.image_size)))
        expected[Path(s.images[0]).stem] = (s, kept, care[1::2], ghost, font)
    results = write_swift_results(tmp_path / "result.jsonl", items)
    out_dir = tmp_path / "pictures"
    assert main(["draw", "--results", str(results), "--model-family", "internvl", "--gt", str(shared_data / "sroie"),
                 "--output", str(out_dir)]) == 0
    assert "wrote 3 image(s)" in capsys.readouterr().out
    assert sorted(p.name for p in out_dir.iterdir()) == ["001.png", "002.png", "003.png"]  # no temp files
    green = blue = 0
    for stem, (s, kept, missed, ghost, font) in expected.items():
        with Image.open(out_dir / f"{stem}.png") as im:
            assert im.format == "PNG" and im.size == s.image_size
            out = im.convert("RGB")
        gx1, gy1, gx2, gy2 = ghost.bbox()
        assert dc.is_red(out.getpixel((round((gx1 + gx2) / 2), round(gy1))))  # false positive: red
        everything = list(s.regions) + kept + [ghost]
        for r in missed:  # missed ground truth: green on the middle of its left edge when nothing covers it
            x1, y1, x2, y2 = r.bbox()
            pt = (round(x1), round((y1 + y2) / 2))
            if dc.is_clear(pt, [o for o in everything if o is not r], s.image_size, font):
                assert dc.is_green(out.getpixel(pt)), (stem, r.text, out.getpixel(pt))
                green += 1
        for r in kept:  # matched prediction (the region's box): blue
            x1, y1, x2, y2 = r.bbox()
            pt = (round(x1), round((y1 + y2) / 2))
            if dc.is_clear(pt, [o for o in everything if o is not r and o.text != r.text], s.image_size, font):
                assert dc.is_blue(out.getpixel(pt)), (stem, r.text, out.getpixel(pt))
                blue += 1
    assert green >= 3 and blue >= 3


def test_limit_and_ground_truth_alone(shared_data, tmp_path, capsys, draw_checks):
    out_dir = tmp_path / "gt"
    assert main(["draw", "--gt", str(shared_data / "icdar2015"), "--output", str(out_dir), "--limit", "3"]) == 0
    capsys.readouterr()
    names = sorted(p.name for p in out_dir.iterdir())
    # the first 3 pairs of the dataset root, sorted by image path
    assert names == sorted(["img_1.png", "img_10.png", "img_2.png"])
    root = shared_data / "icdar2015"
    s = read_icdar_file(root / "gts" / "gt_img_2.txt", root / "imgs" / "img_2.jpg")
    with Image.open(out_dir / "img_2.png") as im:
        assert im.size == s.image_size
        out = im.convert("RGB")
    font = ImageFont.truetype(FONT_PATH, font_size(s.image_size))
    checked = 0
    for r in s.care_regions():
        (ax, ay), (dx, dy) = r.polygon[0], r.polygon[3]  # left edge: top-left -> bottom-left
        pt = (round((ax + dx) / 2), round((ay + dy) / 2))
        if draw_checks.is_clear(pt, [o for o in s.regions if o is not r], s.image_size, font):
            assert draw_checks.is_green(out.getpixel(pt)), out.getpixel(pt)
            checked += 1
    assert checked >= 1


def test_usage_errors(shared_data, tmp_path, capsys):
    out = str(tmp_path / "o")
    assert main(["draw", "--output", out]) == 2
    assert "--results" in capsys.readouterr().err
    assert main(["draw", "--results", str(tmp_path / "r.jsonl"), "--output", out]) == 2
    assert "--model-family" in capsys.readouterr().err
    assert main(["draw", "--gt", str(shared_data / "sroie" / "box"), "--output", out]) == 2
    assert "needs the images" in capsys.readouterr().err
    assert main(["draw", "--results", str(tmp_path / "missing.jsonl"), "--model-family", "got", "--output", out]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
