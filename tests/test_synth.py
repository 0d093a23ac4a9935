"""`swift-ocr synth` (swift_ocr/tiny/synth.py): seeded synthetic text images with ICDAR labels.

Checks against the pixels themselves (where the ink is), against the converter (labels read back through
`swift-ocr convert --format icdar`), and byte-identical reruns. No network, no system fonts.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from swift_ocr.convert.api import ConvertOptions, convert
from swift_ocr.formats import open_source
from swift_ocr.tiny.synth import FONTS, SynthConfig, font_path, synthesize

BIN = Path(sys.executable).parent


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _labels(folder: Path) -> dict:
    """{image stem: [(quad as 8 floats, text), ...]} parsed here from the label files (not by swift_ocr)."""
    out = {}
    for gt in sorted((folder / "gts").glob("gt_*.txt")):
        rows = []
        for line in gt.read_text(encoding="utf-8").splitlines():
            fields = line.split(",", 8)
            rows.append(([float(v) for v in fields[:8]], fields[8]))
        out[gt.stem[3:]] = rows
    return out


def _ink(path: Path, invert: bool = False) -> np.ndarray:
    gray = np.asarray(Image.open(path).convert("L"), dtype=np.int16)
    return (gray > 128) if invert else (gray < 128)


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    cfg = dict(count=12, layout="page", lines=(2, 4), charset="alnum", words=(1, 3), length=(2, 6), font="stix",
               rotate=(-8.0, 8.0), noise=6.0)
    synthesize(tmp_path / "a", SynthConfig(seed=5, **cfg))
    synthesize(tmp_path / "b", SynthConfig(seed=5, **cfg))
    synthesize(tmp_path / "c", SynthConfig(seed=6, **cfg))
    a, b, c = (_snapshot(tmp_path / x) for x in "abc")
    assert len(a) == 12 * 2 + 1  # imgs + gts + synth.json
    assert a == b
    assert a["synth.json"] != c["synth.json"]  # it records the seed
    assert sum(a[k] != c[k] for k in a if k.startswith("imgs/")) == 12


def test_line_labels_frame_the_ink_and_convert_reads_them_back(tmp_path):
    out = tmp_path / "digits"
    summary = synthesize(out, SynthConfig(count=30, charset="digits", length=(4, 4), font="dejavu-sans", seed=1))
    assert summary["images"] == summary["lines"] == 30 and summary["characters"] == 120
    labels = _labels(out)
    assert len(labels) == 30
    texts = []
    for stem, rows in labels.items():
        (quad, text), = rows
        texts.append(text)
        assert len(text) == 4 and text.isdigit()
        ink = _ink(out / "imgs" / f"{stem}.png")
        ys, xs = np.nonzero(ink)
        assert len(xs) > 20  # the digits were drawn
        x1, y1, x2, y2, x3, y3, x4, y4 = quad
        assert x1 == x4 < x2 == x3 and y1 == y2 < y3 == y4  # axis-aligned, clockwise from the top-left
        assert x1 <= xs.min() and xs.max() <= x2 and y1 <= ys.min() and ys.max() <= y3  # every ink pixel inside
        assert xs.min() - x1 <= 5 and x2 - xs.max() <= 5 and ys.min() - y1 <= 5 and y3 - ys.max() <= 5  # tight
    assert len(set(texts)) > 25  # random strings, not one repeated
    reader = open_source("icdar", input_path=str(out))
    report = convert(reader, ConvertOptions(task="rec", family="internvl"), str(tmp_path / "rec.jsonl"))
    rows = [json.loads(line) for line in (tmp_path / "rec.jsonl").read_text(encoding="utf-8").splitlines()]
    assert report.train == 30 and report.rejected == 0
    assert sorted(r["messages"][1]["content"] for r in rows) == sorted(texts)


def test_page_layout_rotated_quads_contain_the_ink_and_line_task_crops_every_line(tmp_path):
    out = tmp_path / "pages"
    synthesize(out, SynthConfig(count=4, layout="page", lines=(3, 5), charset="upper", words=(1, 2),
                                length=(3, 5), font="dejavu-serif", rotate=(-12.0, 12.0), seed=3))
    labels = _labels(out)
    n_lines = 0
    for stem, rows in labels.items():
        assert 3 <= len(rows) <= 5
        n_lines += len(rows)
        ink = _ink(out / "imgs" / f"{stem}.png")
        h, w = ink.shape
        yy, xx = np.mgrid[0:h, 0:w]
        covered = np.zeros_like(ink)
        for quad, _ in rows:
            pts = np.array(quad).reshape(4, 2)
            assert (pts >= -0.5).all() and (pts[:, 0] <= w + 0.5).all() and (pts[:, 1] <= h + 0.5).all()
            inside = np.ones_like(ink)
            for i in range(4):  # clockwise on screen (y down): every inside point is right of each edge
                (ax, ay), (bx, by) = pts[i], pts[(i + 1) % 4]
                inside &= (bx - ax) * (yy - ay) - (by - ay) * (xx - ax) >= -1.5 * np.hypot(bx - ax, by - ay)
            covered |= inside
        assert ink.sum() > 50 and (ink & ~covered).sum() <= 0.01 * ink.sum()  # the quads hold the ink
    reader = open_source("icdar", input_path=str(out))
    report = convert(reader, ConvertOptions(task="line", family="got"), str(tmp_path / "lines.jsonl"))
    assert report.train == n_lines and report.rejected == 0


def test_blank_control_keeps_the_labels_and_draws_nothing(tmp_path):
    synthesize(tmp_path / "real", SynthConfig(count=8, seed=9))
    synthesize(tmp_path / "blank", SynthConfig(count=8, seed=9, blank=True))
    assert _labels(tmp_path / "real") == _labels(tmp_path / "blank")
    for png in (tmp_path / "blank" / "imgs").glob("*.png"):
        assert not _ink(png).any()
        assert _ink(tmp_path / "real" / "imgs" / png.name).any()


def test_invert_draws_white_text_on_black(tmp_path):
    synthesize(tmp_path / "inv", SynthConfig(count=3, invert=True, canvas=(112, 112), seed=2))
    for png in (tmp_path / "inv" / "imgs").glob("*.png"):
        gray = np.asarray(Image.open(png).convert("L"))
        assert gray.shape == (112, 112)
        assert (gray < 64).mean() > 0.8 and (gray > 192).sum() > 20


@pytest.mark.parametrize("font", sorted(FONTS))
def test_every_font_comes_from_an_installed_package_and_renders(tmp_path, font):
    path = font_path(font)
    if path is None:
        assert font == "pillow"
    else:
        assert "site-packages" in str(path) or "dist-packages" in str(path)
        assert "matplotlib" in path.parts
    synthesize(tmp_path / font, SynthConfig(count=1, font=font, charset="alnum", seed=0))
    assert _ink(next((tmp_path / font / "imgs").glob("*.png"))).sum() > 20


def test_refuses_a_non_empty_output_unless_overwrite_and_bad_settings(tmp_path):
    out = tmp_path / "o"
    synthesize(out, SynthConfig(count=2, seed=0))
    before = _snapshot(out)
    with pytest.raises(FileExistsError):
        synthesize(out, SynthConfig(count=3, seed=1))
    assert _snapshot(out) == before
    synthesize(out, SynthConfig(count=3, seed=1), overwrite=True)
    assert len(list((out / "imgs").iterdir())) == 3  # replaced as a whole, no leftovers
    for bad in (dict(count=0), dict(font="arial"), dict(layout="grid"), dict(length=(5, 2)), dict(prefix="a/b")):
        with pytest.raises(ValueError):
            synthesize(tmp_path / "bad", SynthConfig(**bad))
    assert not (tmp_path / "bad").exists()


def test_cli_writes_the_same_files_as_the_api_and_fails_cleanly(tmp_path):
    args = ["--count", "5", "--font", "pillow", "--charset", "0123456789ABC", "--length", "3-6", "--seed", "4",
            "--rotate=-5:5", "--canvas", "96x48"]
    proc = subprocess.run([str(BIN / "swift-ocr"), "synth", "--output", str(tmp_path / "cli"), "--json", *args],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["images"] == 5
    synthesize(tmp_path / "api", SynthConfig(count=5, font="pillow", charset="0123456789ABC", length=(3, 6), seed=4,
                                             rotate=(-5.0, 5.0), canvas=(96, 48)))
    assert _snapshot(tmp_path / "cli") == _snapshot(tmp_path / "api")
    again = subprocess.run([str(BIN / "swift-ocr"), "synth", "--output", str(tmp_path / "cli"), *args],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_texts_are_rendered_in_order_and_cycled(tmp_path):
    texts = tmp_path / "lines.txt"
    texts.write_text("TOTAL 9.00\n\nCASH, CHANGE\nNO. 53\n", encoding="utf-8")
    proc = subprocess.run([str(BIN / "swift-ocr"), "synth", "--output", str(tmp_path / "t"), "--count", "4",
                           "--texts", str(texts), "--font", "dejavu-sans", "--font-size", "20"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    labels = _labels(tmp_path / "t")
    assert [rows[0][1] for _, rows in sorted(labels.items())] == ["TOTAL 9.00", "CASH, CHANGE", "NO. 53", "TOTAL 9.00"]


def test_characters_the_font_cannot_draw_are_refused_not_written_as_boxes(tmp_path):
    with pytest.raises(ValueError, match="no glyph for '日期'"):
        synthesize(tmp_path / "zh", SynthConfig(count=2, texts=["日期 2018", "TOTAL"], font="dejavu-sans"))
    with pytest.raises(ValueError, match="no glyph for '€'"):
        synthesize(tmp_path / "eur", SynthConfig(count=2, charset="0123€", font="pillow"))
    assert not (tmp_path / "zh").exists() and not (tmp_path / "eur").exists()
    synthesize(tmp_path / "ok", SynthConfig(count=2, charset="0123€", font="dejavu-sans"))  # DejaVu has the euro


def test_exclude_holds_a_test_set_out_of_the_training_strings(tmp_path):
    synthesize(tmp_path / "train", SynthConfig(count=300, charset="01", length=(3, 3), seed=1))
    train = {rows[0][1] for rows in _labels(tmp_path / "train").values()}
    assert len(train) == 8  # every 3-character string of "01" is taken
    with pytest.raises(ValueError, match="excluded"):
        synthesize(tmp_path / "none", SynthConfig(count=1, charset="01", length=(3, 3), exclude=sorted(train)))
    proc = subprocess.run([str(BIN / "swift-ocr"), "synth", "--output", str(tmp_path / "test"), "--count", "40",
                           "--charset", "01", "--length", "3-4", "--seed", "2", "--exclude", str(tmp_path / "train")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    test = [rows[0][1] for rows in _labels(tmp_path / "test").values()]
    assert len(test) == 40 and all(len(t) == 4 for t in test)  # only 4-character strings were left
    missing = subprocess.run([str(BIN / "swift-ocr"), "synth", "--output", str(tmp_path / "x"), "--exclude",
                              str(tmp_path / "nope")], capture_output=True, text=True)
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_text_that_does_not_fit_a_fixed_canvas_is_refused_not_cut(tmp_path):
    with pytest.raises(ValueError, match="does not fit the 60x30 canvas"):
        synthesize(tmp_path / "long", SynthConfig(count=3, length=(8, 8), canvas=(60, 30), seed=0))
    with pytest.raises(ValueError, match="does not fit"):
        synthesize(tmp_path / "turned", SynthConfig(count=20, length=(4, 4), canvas=(80, 40), rotate=(30.0, 45.0)))
    assert not (tmp_path / "long").exists() and not (tmp_path / "turned").exists()
