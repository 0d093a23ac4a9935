"""Checks of ``data_templates/`` and of its generator ``tools/make_data_templates.py``.

The generator is re-run into a temporary folder and must reproduce the committed files byte for
byte (determinism + the committed files are current). The committed label files are then checked
against the images and against ``expected.tsv`` (written from the rendered strings, not from the
labels), following the rules in data_templates/README.md.
"""
from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from shapely.geometry import Point, Polygon

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERATOR = REPO_ROOT / "tools" / "make_data_templates.py"
STEMS = ["form_01", "receipt_01", "receipt_02", "sign_01", "sign_02", "ticket_01"]


@pytest.fixture(scope="module")
def gen():
    """The generator module, imported from its file (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_data_templates", GENERATOR)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses need the module registered while it executes
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.modules.pop(spec.name, None)
    if not all((mod.FONT_DIR / f).is_file() for f in mod.FONT_FILES.values()):
        pytest.skip(f"DejaVu fonts not installed in {mod.FONT_DIR} (Debian package fonts-dejavu-core)")
    return mod


def _unescape(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\":
            nxt = s[i + 1]
            out.append({"n": "\n", "\\": "\\"}[nxt])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def _expected(path: Path) -> dict:
    rows = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stem, text = line.split("\t")
        assert stem not in rows, f"{path}:{n}: duplicate stem"
        rows[stem] = _unescape(text)
    return rows


def _read_icdar(path: Path):
    """[(8 ints, transcription)] following the ICDAR 2015 rules (BOM allowed, CRLF allowed)."""
    text = path.read_bytes().decode("utf-8-sig")
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split(",", 8)
        assert len(parts) == 9, f"{path}:{n}: fewer than 9 fields"
        rows.append(([int(v) for v in parts[:8]], parts[8]))
    return rows


def test_generator_reproduces_committed_files(gen, tmp_path, data_templates):
    written = gen.main(tmp_path)
    assert written, "generator wrote nothing"
    new = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    old = {p.relative_to(data_templates).as_posix() for p in data_templates.rglob("*") if p.is_file()}
    old.discard("README.md")
    assert new == old, f"only generated: {sorted(new - old)}; only committed: {sorted(old - new)}"
    differ = [rel for rel in sorted(new) if (tmp_path / rel).read_bytes() != (data_templates / rel).read_bytes()]
    assert not differ, f"re-run tools/make_data_templates.py; these differ from the committed files: {differ}"


def test_folder_is_small(data_templates):
    total = sum(p.stat().st_size for p in data_templates.rglob("*") if p.is_file())
    assert total < 1_500_000, total


def test_wordbox_labels_rebuild_expected_text(data_templates):
    root = data_templates / "wordbox"
    expected = _expected(root / "expected.tsv")
    assert sorted(expected) == STEMS
    shuffled = 0
    for stem in STEMS:
        img = Image.open(root / "images" / f"{stem}.png")
        w, h = img.size
        pixels = np.asarray(img.convert("L"), dtype=np.int16)
        entries = json.loads((root / "labels" / f"{stem}.json").read_text(encoding="utf-8"))
        assert isinstance(entries, list) and entries
        orders = [e[4] for e in entries]
        assert sorted(orders) == list(range(len(entries))), f"{stem}: order is not a permutation"
        shuffled += orders != sorted(orders)
        for x1, y1, x2, y2, order, ch in entries:
            assert all(isinstance(v, int) for v in (x1, y1, x2, y2, order)), (stem, order)
            assert isinstance(ch, str) and len(ch) == 1, (stem, order)
            assert 0 <= x1 <= x2 <= w and 0 <= y1 <= y2 <= h, (stem, order, ch, (x1, y1, x2, y2), (w, h))
            if ch not in (" ", "\n"):
                assert x1 < x2 and y1 < y2, (stem, order, ch)
                patch = pixels[y1:y2, x1:x2]
                assert patch.max() - patch.min() > 50, f"{stem}: no ink in the box of {ch!r} (order {order})"
        text = "".join(e[5] for e in sorted(entries, key=lambda e: e[4]))
        assert text == expected[stem], stem
    assert shuffled >= 1, "no word-box file is written out of reading order"


def test_icdar_labels_match_images_and_expected_text(data_templates):
    root = data_templates / "icdar"
    expected = _expected(root / "expected.tsv")
    assert sorted(expected) == STEMS
    boms = crlfs = dont_care = rotated = with_comma = 0
    for stem in STEMS:
        gt = root / "labels" / f"gt_{stem}.txt"
        raw = gt.read_bytes()
        boms += raw.startswith(b"\xef\xbb\xbf")
        crlfs += b"\r\n" in raw
        w, h = Image.open(root / "images" / f"{stem}.png").size
        care = []
        for pts, text in _read_icdar(gt):
            xs, ys = pts[0::2], pts[1::2]
            assert all(0 <= x <= w for x in xs) and all(0 <= y <= h for y in ys), (stem, text, pts)
            # shoelace sum > 0 with y pointing down == clockwise on screen
            area2 = sum(xs[i] * ys[(i + 1) % 4] - xs[(i + 1) % 4] * ys[i] for i in range(4))
            assert area2 > 0, f"{stem}: quad of {text!r} is not clockwise"
            rotated += len(set(ys)) > 2
            if text == "###":
                dont_care += 1
            else:
                care.append(text)
                with_comma += "," in text
        assert "\n".join(care) == expected[stem], stem
    assert boms >= 1 and crlfs >= 1 and dont_care >= 1 and rotated >= 1 and with_comma >= 1


def test_wordbox_and_icdar_describe_the_same_pages(data_templates):
    for stem in STEMS:
        a = (data_templates / "wordbox" / "images" / f"{stem}.png").read_bytes()
        assert a == (data_templates / "icdar" / "images" / f"{stem}.png").read_bytes()
        gt = data_templates / "icdar" / "labels" / f"gt_{stem}.txt"
        quads = [pts for pts, text in _read_icdar(gt) if text != "###"]
        boxes = [(min(q[0::2]), min(q[1::2]), max(q[0::2]), max(q[1::2])) for q in quads]
        entries = json.loads((data_templates / "wordbox" / "labels" / f"{stem}.json").read_text(encoding="utf-8"))
        for x1, y1, x2, y2, order, ch in entries:
            if ch == "\n":
                continue
            assert any(
                bx1 - 1 <= x1 and by1 - 1 <= y1 and x2 <= bx2 + 1 and y2 <= by2 + 1 for bx1, by1, bx2, by2 in boxes
            ), f"{stem}: box of {ch!r} (order {order}) lies in no ICDAR line"


def test_rendered_ink_lies_in_the_written_boxes(gen):
    """Every inked pixel of a (care) line is inside its characters' boxes and within 2 px of its quad."""
    for scene in gen.SCENES:
        _, placed = gen.render_scene(scene)
        for p in placed:
            if p.line.dont_care:
                continue
            ink = np.asarray(p.mask) > 0
            assert ink.any(), (scene.stem, p.line.text)
            cover = Image.new("L", p.mask.size, 0)
            draw = ImageDraw.Draw(cover)
            for x1, y1, x2, y2 in p.char_boxes:
                if x2 > x1 and y2 > y1:
                    draw.rectangle([x1, y1, x2 - 1, y2 - 1], fill=255)
            outside = ink & ~(np.asarray(cover) > 0)
            # rotated lines: bicubic resampling spreads faint ink (< 16/255) a pixel beyond a box
            strong_outside = outside & (np.asarray(p.mask) >= 16)
            assert not strong_outside.any(), (scene.stem, p.line.text, int(strong_outside.sum()))
            quad = Polygon(p.quad)
            ys, xs = np.nonzero(ink)
            far = max(quad.distance(Point(x + 0.5, y + 0.5)) for x, y in zip(xs, ys))  # 0 inside
            assert far <= 2.0, (scene.stem, p.line.text, far)


def test_dbnet_lists(data_templates):
    root = data_templates / "dbnet"
    for split in ("train", "test"):
        lines = (root / f"{split}_list.txt").read_text(encoding="utf-8").splitlines()
        assert lines, split
        for n, line in enumerate(lines, 1):
            img, gt = line.split(" ")
            assert img.startswith(f"{split}_images/") and gt.startswith(f"{split}_gts/gt_"), (split, n, line)
            stem = Path(img).stem
            assert Path(gt).name == f"gt_{stem}.txt"
            assert (root / img).read_bytes() == (data_templates / "icdar" / "images" / f"{stem}.png").read_bytes()
            assert (root / gt).read_bytes() == (data_templates / "icdar" / "labels" / f"gt_{stem}.txt").read_bytes()


def test_parquet_files(data_templates, gen):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [spec[0] for spec in gen.CROP_LINES]
    for name, text_col, hf in (("ocr_lines.parquet", "text", True), ("ocr_lines_raw_bytes.parquet", "label", False)):
        pf = pq.ParquetFile(data_templates / "parquet" / name)
        assert pf.num_row_groups > 1, name
        schema = pf.schema_arrow
        assert schema.field(text_col).type == pa.string()
        if hf:
            assert schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
            features = datasets.Features.from_arrow_schema(schema)
            assert isinstance(features["image"], datasets.Image), features
        else:
            assert schema.field("image").type == pa.binary()
        rows = []
        for g in range(pf.num_row_groups):
            rows.extend(pf.read_row_group(g).to_pylist())
        assert [r[text_col] for r in rows] == texts, name
        for r in rows:
            data = r["image"]["bytes"] if hf else r["image"]
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                assert im.format == "PNG" and im.width > im.height > 0


def test_got_train_json(data_templates):
    root = data_templates / "got"
    expected = _expected(data_templates / "icdar" / "expected.tsv")
    records = json.loads((root / "train.json").read_text(encoding="utf-8"))
    assert sorted(Path(r["image"]).stem for r in records) == STEMS
    for r in records:
        assert (root / r["image"]).is_file(), r["image"]
        human, gpt = r["conversations"]
        assert human == {"from": "human", "value": "<image>\nOCR: "}
        assert gpt["from"] == "gpt" and gpt["value"] == expected[Path(r["image"]).stem]
