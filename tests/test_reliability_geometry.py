"""Issue 19, defect 2: counter-clockwise quads gave transposed, mirrored line crops.

The ICDAR line ``10,20,10,80,300,80,300,20,TEXT`` is the same box as the clockwise ``10,20,300,20,300,80,10,80``,
but ``rectify_quad`` reads the points as TL, TR, BR, BL and cut a 60x290 crop with the text turned and mirrored.
The careful path now puts counter-clockwise quads in clockwise order from their top-left corner and counts it
(``reoriented_quads``); clockwise quads are kept as given (their first point is the text's reading direction).

The images are real: a SROIE receipt and an ICDAR 2015 street photo of ``../shared/data``, with their own quads.
"""
import io
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest
from PIL import Image

from swift_ocr.cli.main import main as cli_main
from swift_ocr.convert.api import ConvertOptions, convert
from swift_ocr.formats import open_source
from swift_ocr.formats.geometry import check_region, clockwise_from_top_left, twice_signed_area
from swift_ocr.images import rectify_quad
from swift_ocr.sample import Region

Quad = List[Tuple[float, float]]


def _first_care_quad(label: Path) -> Tuple[Quad, str]:
    """The first quad (as given, clockwise: all real quads of ../shared/data are) and text of a real label file."""
    for line in label.read_text(encoding="utf-8-sig").splitlines():
        parts = line.split(",", 8)
        if len(parts) == 9 and parts[8] != "###":
            c = [float(v) for v in parts[:8]]
            return [(c[i], c[i + 1]) for i in range(0, 8, 2)], parts[8]
    raise AssertionError(f"no care region in {label}")


def _line(quad: Quad, text: str) -> str:
    return ",".join(f"{v:g}" for p in quad for v in p) + f",{text}\n"


def _ccw_variants(cw: Quad) -> dict:
    """Counter-clockwise orders of a clockwise TL, TR, BR, BL quad: from each of its 4 corners."""
    tl, tr, br, bl = cw
    return {"ccw_from_tl": [tl, bl, br, tr], "ccw_from_tr": [tr, tl, bl, br],
            "ccw_from_br": [br, tr, tl, bl], "ccw_from_bl": [bl, br, tr, tl]}


def _line_crops(tmp_path: Path, image: Path, labels: dict, monkeypatch=None, batch=None) -> Tuple[dict, dict]:
    """Convert an ICDAR folder (one copy of ``image`` per label) with ``--task line``; returns ({stem: crop RGB
    array}, report dict)."""
    root = tmp_path / "data"
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    for stem, text in labels.items():
        shutil.copy(image, root / "imgs" / f"{stem}{image.suffix}")
        (root / "gts" / f"gt_{stem}.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "out" / "line.jsonl"
    reader = open_source("icdar", input_path=str(root))
    report = convert(reader, ConvertOptions(task="line", family="got", workers=1), str(out)).to_dict()
    crops = {}
    for row in map(json.loads, out.read_text(encoding="utf-8").splitlines()):
        stem = Path(row["images"][0]).name.split("_", 1)[1].rsplit("_l", 1)[0]
        with Image.open(row["images"][0]) as im:
            crops[stem] = np.asarray(im.convert("RGB"))
    return crops, report


def test_ccw_quad_gives_the_same_crop_as_the_clockwise_quad(tmp_path, shared_data):
    """The reproduction on a real receipt: each counter-clockwise order of a real SROIE quad crops exactly the
    clockwise quad's pixels, upright (wider than tall, as the printed line is), and the fix is counted."""
    image = shared_data / "sroie" / "img" / "000.jpg"
    cw, text = _first_care_quad(shared_data / "sroie" / "box" / "000.csv")
    assert twice_signed_area(cw) > 0  # the real quad is clockwise on screen
    labels = {"cw": _line(cw, text), **{k: _line(q, text) for k, q in _ccw_variants(cw).items()}}
    crops, report = _line_crops(tmp_path, image, labels)
    assert set(crops) == set(labels)
    ref = crops["cw"]
    (x1, y1), (x2, y2) = cw[0], cw[2]
    assert ref.shape[:2] == (round(y2 - y1), round(x2 - x1)) and ref.shape[1] > ref.shape[0]
    # the clockwise crop is the box itself (not turned or mirrored): close to a plain crop of the axis-aligned box
    with Image.open(image) as im:
        box = np.asarray(im.convert("RGB").crop((round(x1), round(y1), round(x2), round(y2))), dtype=float)
    assert np.abs(ref - box).mean() < 8 < np.abs(ref - box[:, ::-1]).mean()
    for stem in _ccw_variants(cw):
        assert crops[stem].shape == ref.shape, stem
        assert np.array_equal(crops[stem], ref), stem
    assert report["fixes"]["reoriented_quads"] == 4
    assert report["fixes"]["reordered_polygons"] == 0 and report["rejected"] == 0


def test_issue_reproduction_quad_on_a_real_photo(tmp_path, shared_data):
    """The exact quads of the issue, on a real 1280x720 ICDAR 2015 photo: the CCW line crops 290x60 (not 60x290)
    and equals the CW line's crop."""
    image = shared_data / "icdar2015" / "imgs" / "img_1.jpg"
    crops, report = _line_crops(tmp_path, image, {"cw": "10,20,300,20,300,80,10,80,TEXT\n",
                                                  "ccw": "10,20,10,80,300,80,300,20,TEXT\n"})
    assert crops["cw"].shape[:2] == (60, 290) and crops["ccw"].shape[:2] == (60, 290)
    assert np.array_equal(crops["cw"], crops["ccw"])
    assert report["fixes"]["reoriented_quads"] == 1


def test_cli_reports_the_reoriented_quads(tmp_path, shared_data):
    root = tmp_path / "data"
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    shutil.copy(shared_data / "icdar2015" / "imgs" / "img_1.jpg", root / "imgs" / "a.jpg")
    (root / "gts" / "gt_a.txt").write_text("10,20,10,80,300,80,300,20,TEXT\n", encoding="utf-8")
    out = io.StringIO()
    import contextlib
    with contextlib.redirect_stdout(out):
        assert cli_main(["convert", "--format", "icdar", "--input", str(root), "--task", "line",
                         "--output", str(tmp_path / "o.jsonl")]) == 0
    assert "put the points of 1 counter-clockwise quads in clockwise order" in out.getvalue()


def test_rotated_text_given_clockwise_keeps_its_start(shared_data):
    """A clockwise quad is never re-started: a real ICDAR 2015 word turned by 90 degrees (its quad rotated about its
    centre, points still clockwise from the *text's* top-left) keeps its order, so its crop reads along the text."""
    cw, _ = _first_care_quad(shared_data / "icdar2015" / "gts" / "gt_img_1.txt")
    cx, cy = sum(p[0] for p in cw) / 4, sum(p[1] for p in cw) / 4
    turned = [(cx - (y - cy), cy + (x - cx)) for x, y in cw]  # 90 degrees clockwise on screen: text reads downwards
    assert twice_signed_area(turned) > 0
    fixes = Counter()
    region = Region(turned, "word", line=1)
    assert check_region(region, (1280, 720), "gt", fixes) is region and not fixes


def test_clockwise_from_top_left_on_rotated_and_odd_quads():
    # slanted text given counter-clockwise from its bottom-right: TL first, clockwise
    slanted = [(110, 60), (100, 20), (10, 30), (20, 70)]  # BR, TR, TL, BL
    assert twice_signed_area(slanted) < 0
    assert clockwise_from_top_left(slanted) == [(10, 30), (100, 20), (110, 60), (20, 70)]
    # the issue's quad
    assert clockwise_from_top_left([(10, 20), (10, 80), (300, 80), (300, 20)]) == [
        (10, 20), (300, 20), (300, 80), (10, 80)]
    with pytest.raises(ValueError, match="needs 4 points"):
        clockwise_from_top_left([(0, 0), (1, 0), (0, 1)])


def test_reorientation_after_clipping_and_for_concave_quads():
    """Counter-clockwise quads that the fast path declines for another reason are re-ordered too: partly outside
    the image (clipped first, both fixes counted) and concave ones."""
    fixes = Counter()
    r = check_region(Region([(-5, 20), (-5, 80), (300, 80), (300, 20)], "t", line=3), (1280, 720), "gt", fixes)
    assert r.issue is None and r.polygon == [(0, 20), (300, 20), (300, 80), (0, 80)]
    assert fixes == {"clipped_coordinates": 2, "clipped_regions": 1, "reoriented_quads": 1}
    fixes = Counter()
    dent = [(10, 10), (10, 40), (100, 40), (50, 20)]  # concave, counter-clockwise
    r = check_region(Region(dent, "t"), (1280, 720), "gt", fixes)
    assert r.issue is None and twice_signed_area(r.polygon) > 0 and sorted(r.polygon) == sorted(dent)
    assert fixes == {"reoriented_quads": 1}


def test_rectified_crop_of_reordered_quad_matches_direct_rectification(shared_data):
    """rectify_quad itself is unchanged: given the re-ordered quad it cuts what it cuts from the clockwise quad."""
    cw, _ = _first_care_quad(shared_data / "icdar2015" / "gts" / "gt_img_1.txt")
    with Image.open(shared_data / "icdar2015" / "imgs" / "img_1.jpg") as im:
        image = im.convert("RGB")
    fixed = check_region(Region(_ccw_variants(cw)["ccw_from_br"], "t"), image.size).polygon
    assert fixed == [tuple(p) for p in cw]
    assert np.array_equal(np.asarray(rectify_quad(image, fixed)), np.asarray(rectify_quad(image, cw)))


@pytest.mark.parametrize("task, family, shape", [("rec", "got", "box"), ("det", "internvl", "box"),
                                                 ("det", "internvl", "quad"), ("det", "qwen2_5_vl", "box")])
def test_batch_and_careful_paths_agree_on_ccw_quads(monkeypatch, tmp_path, shared_data, task, family, shape):
    """The fast path declines pages with counter-clockwise quads (the careful path re-orders and counts them): both
    write the same bytes; and the InternVL <quad> target of the CCW page equals the CW page's."""
    photo = shared_data / "icdar2015" / "imgs" / "img_1.jpg"
    cw, text = _first_care_quad(shared_data / "icdar2015" / "gts" / "gt_img_1.txt")
    root = tmp_path / "data"
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    for stem, quad in {"cw": cw, "ccw": _ccw_variants(cw)["ccw_from_tr"]}.items():
        shutil.copy(photo, root / "imgs" / f"{stem}.jpg")
        (root / "gts" / f"gt_{stem}.txt").write_text(_line(quad, text), encoding="utf-8")
    outs = {}
    for batch in (True, False):
        out = tmp_path / ("batch" if batch else "careful") / "x.jsonl"
        report = convert(open_source("icdar", input_path=str(root)),
                         ConvertOptions(task=task, family=family, det_shape=shape, workers=1, fast_path=batch),
                         str(out)).to_dict()
        report.pop("outputs")
        outs[batch] = report, out.read_text(encoding="utf-8")
    assert outs[True] == outs[False]
    assert outs[True][0]["fixes"]["reoriented_quads"] == 1
    if task == "det":
        rows = {Path(r["images"][0]).stem: r["messages"][-1]["content"] for r in map(json.loads,
                                                                                        outs[True][1].splitlines())}
        assert rows["cw"] == rows["ccw"]
