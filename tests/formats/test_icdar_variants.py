"""Issue 18 (ICDAR-family label variants: MLT script column, polygons, ICDAR 2013 boxes) and issue 19 case 3
(a full-width ``＃＃＃`` became a trainable ``###``).

The MLT, polygon and ICDAR 2013 fixtures are written in tmp_path from the real ICDAR 2015 ground truth in
``../shared/data/icdar2015/gts``, keeping its text and geometry: MLT inserts a script column, polygon adds the
midpoints of the top and bottom edges (the same shape, 6 vertices), 2013 writes the quad's axis-aligned bounding box
with the text quoted. Expected values are computed here from the raw lines, independently of the reader.
"""
import json
import os
import re
from pathlib import Path

import pytest

from swift_ocr.cli.main import main as cli_main
from swift_ocr.errors import KINDS, OcrFormatError
from swift_ocr.sample import is_dont_care
from swift_ocr.formats.icdar import (MLT_SCRIPTS, detect_icdar_variant, parse_icdar_text,
                                     read_icdar_file, read_icdar_labels)


# ---------------------------------------------------------------------------------------------------------------
# real ground truth and the variants written from it

def _raw(path: Path):
    """``[(quad as 4 (x, y) ints, text)]`` of a real ICDAR 2015 file, split by hand (BOM removed)."""
    out = []
    for line in path.read_bytes().decode("utf-8-sig").splitlines():
        if line.strip():
            parts = line.split(",", 8)
            xy = [int(v) for v in parts[:8]]
            out.append(([(xy[i], xy[i + 1]) for i in range(0, 8, 2)], parts[8]))
    return out


def _num(v) -> str:
    return f"{v:g}"


def _mlt_line(quad, text):
    script = "None" if text == "###" else ("Latin" if any(c.isalpha() for c in text) else "Symbols")
    return ",".join(_num(v) for p in quad for v in p) + f",{script},{text}", script


def _polygon(quad):
    (a, b, c, d) = quad
    mid = lambda p, q: ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)  # noqa: E731
    return [a, mid(a, b), b, c, mid(c, d), d]  # points on the quad's own edges: the same shape


def _polygon_line(quad, text):
    return ",".join(_num(v) for p in _polygon(quad) for v in p) + "," + text


def _bbox(quad):
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    return min(xs), min(ys), max(xs), max(ys)


def _line_2013(quad, text, commas):
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return (", " if commas else " ").join([*map(_num, _bbox(quad)), quoted])


@pytest.fixture(scope="module")
def gts(shared_data):
    files = sorted((shared_data / "icdar2015" / "gts").glob("gt_img_*.txt"))
    assert len(files) == 10
    return files


def _write_dataset(root: Path, shared_data: Path, gts, variant: str) -> dict:
    """An imgs/ + gts/ dataset of the 10 real images (symbolic links) with labels in ``variant``; returns
    {label stem: [(expected polygon, text, script)]}."""
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    expected = {}
    for k, gt in enumerate(gts):
        image = shared_data / "icdar2015" / "imgs" / (gt.stem[3:] + ".jpg")
        os.symlink(image, root / "imgs" / image.name)
        lines, exp = [], []
        for quad, text in _raw(gt):
            if variant == "mlt":
                line, script = _mlt_line(quad, text)
                exp.append(([tuple(map(float, p)) for p in quad], text, script))
            elif variant == "polygon":
                line = _polygon_line(quad, text)
                exp.append(([tuple(map(float, p)) for p in _polygon(quad)], text, None))
            else:
                line = _line_2013(quad, text, commas=k % 2 == 1)
                x1, y1, x2, y2 = map(float, _bbox(quad))
                exp.append(([(x1, y1), (x2, y1), (x2, y2), (x1, y2)], text, None))
            lines.append(line)
        (root / "gts" / gt.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        expected[gt.stem] = exp
    return expected


# ---------------------------------------------------------------------------------------------------------------
# the reader

@pytest.mark.parametrize("variant", ["mlt", "polygon", "2013"])
def test_variant_fixtures_read_right(tmp_path, shared_data, gts, variant):
    expected = _write_dataset(tmp_path, shared_data, gts, variant)
    for label in sorted((tmp_path / "gts").glob("*.txt")):
        exp = expected[label.stem]
        for given in ("auto", variant):
            s = read_icdar_file(label, variant=given)
            assert [r.polygon for r in s.regions] == [p for p, _, _ in exp]
            assert [r.text for r in s.regions] == [t for _, t, _ in exp]
            assert [r.script for r in s.regions] == [sc for _, _, sc in exp]
            assert [r.dont_care for r in s.regions] == [t == "###" for _, t, _ in exp]
            # the rec target: the real transcriptions, never a coordinate or a script name
            assert s.text == "\n".join(t for _, t, _ in exp if t != "###")
            assert s.fixes == {f"icdar_{variant}_files": 1}
        assert detect_icdar_variant(label.read_text(encoding="utf-8"), str(label)) == variant


def test_the_two_corrupting_examples_of_the_issue(tmp_path):
    mlt = tmp_path / "gt_mlt.txt"
    mlt.write_text("10,10,60,10,60,40,10,40,Latin,HELLO\n10,10,60,10,60,40,10,40,Latin,###\n", encoding="utf-8")
    s = read_icdar_file(mlt)
    assert s.text == "HELLO"
    assert [(r.text, r.script, r.dont_care) for r in s.regions] == [("HELLO", "Latin", False), ("###", "Latin", True)]

    poly = tmp_path / "gt_poly.txt"
    poly.write_text("10,10,60,5,110,10,110,40,60,35,10,40,CURVED\n", encoding="utf-8")
    (r,) = read_icdar_labels(poly)
    assert r.text == "CURVED"
    assert r.polygon == [(10, 10), (60, 5), (110, 10), (110, 40), (60, 35), (10, 40)]


def test_sroie_commas_and_numbers_still_read_as_2015(shared_data):
    """Transcriptions with commas and numbers (``27,JALAN DEDAP 13,``, ``9.00``) do not make a file MLT or polygon."""
    for f in sorted((shared_data / "sroie" / "box").glob("*.csv")):
        text = f.read_bytes().decode("utf-8-sig")
        assert detect_icdar_variant(text, str(f)) == "2015", f
        assert read_icdar_labels(f) == read_icdar_labels(f, variant="2015") == parse_icdar_text(text, str(f))


@pytest.mark.parametrize("lines, bad_lines, choices", [
    # a transcription that is itself a list of numbers: text, or 2 more polygon vertices?
    (["377,117,463,117,465,130,378,130,Genaxis Theatre", "1,1,50,1,50,20,1,20,12,50,7,3"], [2], "2015|polygon"),
    (["377,117,463,117,465,130,378,130,Genaxis Theatre", "1,1,50,1,50,20,1,20,1,2,3"], [2], "2015|polygon"),
    # mixed layouts: a script column on some lines only
    (["377,117,463,117,465,130,378,130,Latin,Genaxis", "1,1,50,1,50,20,1,20,Carpark"], [1, 2], "mlt|2015"),
    # ICDAR 2013 lines among ICDAR 2015 ones
    (['10 20 30 40 "Genaxis"', "1,1,50,1,50,20,1,20,Carpark"], [1, 2], "2013"),
    # a polygon file with a number-list transcription
    (["10,10,60,5,110,10,110,40,60,35,10,40,CURVED", "1,1,50,1,50,20,1,20,12,50,7,3"], [2], "2015|polygon"),
])
def test_ambiguous_file_is_an_error_naming_file_and_lines(tmp_path, lines, bad_lines, choices):
    gt = tmp_path / "gt_x.txt"
    gt.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(OcrFormatError) as e:
        read_icdar_file(gt)
    assert e.value.kind == "ambiguous_layout" and e.value.kind in KINDS
    assert e.value.source == str(gt) and e.value.line == bad_lines[0]
    assert str(e.value).startswith(f"{gt}:{bad_lines[0]}:")
    assert ("line" if len(bad_lines) == 1 else "lines") + " " + ", ".join(map(str, bad_lines)) in e.value.reason
    assert "--icdar-variant" in e.value.reason and choices.split("|")[0] in e.value.reason
    # the option resolves it
    first = choices.split("|")[0]
    if first in ("2015", "polygon"):
        assert len(read_icdar_file(gt, variant=first).regions) == len(lines)


def test_explicit_variant_on_a_wrong_line_names_it(tmp_path):
    gt = tmp_path / "gt_x.txt"
    gt.write_text("1,1,50,1,50,20,1,20,Latin,ok\n1,1,50,1,50,20,1,20,Klingon,x\n", encoding="utf-8")
    with pytest.raises(OcrFormatError) as e:
        read_icdar_file(gt, variant="mlt")
    assert (e.value.kind, e.value.line) == ("bad_script", 2) and "Klingon" in e.value.reason
    gt.write_text("1,1,50,1,50,20,1,20,ok\n1,1,50,1,50,20,x\n", encoding="utf-8")
    with pytest.raises(OcrFormatError) as e:
        read_icdar_file(gt, variant="polygon")
    assert (e.value.kind, e.value.line) == ("bad_coordinates", 2)
    gt.write_text('1 1 50 20 "ok"\n1 1 50 "x"\n', encoding="utf-8")
    with pytest.raises(OcrFormatError) as e:
        read_icdar_file(gt)
    assert (e.value.kind, e.value.line) == ("bad_coordinates", 2)
    with pytest.raises(ValueError, match="unknown ICDAR variant"):
        read_icdar_file(gt, variant="2017")


def test_2013_quotes_and_escapes(tmp_path):
    gt = tmp_path / "gt_x.txt"
    gt.write_text('38, 43, 920, 215, "Tiredness"\n275 288 306 325 "say \\"hi\\", ok"\n1 2 3 4 " ### "\n',
                  encoding="utf-8")
    rs = read_icdar_labels(gt)
    assert [r.text for r in rs] == ["Tiredness", 'say "hi", ok', " ### "]
    assert rs[0].polygon == [(38, 43), (920, 43), (920, 215), (38, 215)]
    assert [r.dont_care for r in rs] == [False, False, True]


def test_scripts_filter(tmp_path, shared_data, gts):
    _write_dataset(tmp_path / "d", shared_data, gts, "mlt")
    label = tmp_path / "d" / "gts" / "gt_img_1.txt"
    exp = [(t, sc) for quad, t in _raw(gts[0]) for _, sc in [_mlt_line(quad, t)]]
    assert gts[0].name == label.name
    s = read_icdar_file(label, scripts=("Latin",))
    assert s.text == "\n".join(t for t, sc in exp if sc == "Latin")
    other = sum(sc == "Symbols" for t, sc in exp)
    assert other > 0 and s.fixes["other_script_regions"] == other
    with pytest.raises(OcrFormatError) as e:
        read_icdar_file(label, scripts=("Arabic",))
    assert e.value.kind == "other_script" and e.value.source == str(label)
    with pytest.raises(OcrFormatError) as e:
        read_icdar_file(gts[0], scripts=("Latin",))  # ICDAR 2015: no script column
    assert e.value.kind == "bad_script"
    with pytest.raises(ValueError, match="unknown MLT script"):
        read_icdar_file(label, scripts=("Latn",))
    assert set(MLT_SCRIPTS) >= {"Latin", "Chinese", "Arabic", "Bangla", "Hindi", "None"}


# ---------------------------------------------------------------------------------------------------------------
# issue 19, case 3: do-not-care on the NFKC form

def test_is_dont_care_on_the_normalised_text():
    assert all(is_dont_care(t) for t in ("###", " ### ", "＃＃＃", "\u3000＃＃＃ ", "﹟﹟﹟", '###\t'))
    assert not any(is_dont_care(t) for t in ("##", "####", "# ##", "＃＃", "a###", ""))


def _convert(args, capsys):
    assert cli_main(["convert", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _rows(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("batch", [True, False])
@pytest.mark.parametrize("nfkc", [True, False])
def test_full_width_dont_care_is_no_target(tmp_path, shared_data, gts, capsys, monkeypatch, batch, nfkc):
    """The reproduction: a ``＃＃＃`` line of a real ICDAR 2015 file gave the rec target ``...\\n###`` and a line
    sample with the target ``###``; on both converter paths, with and without NFKC."""
    root = tmp_path / "d"
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    gt = gts[0]
    os.symlink(shared_data / "icdar2015" / "imgs" / "img_1.jpg", root / "imgs" / "img_1.jpg")
    raw = gt.read_bytes().decode("utf-8-sig")
    assert "###" in raw
    (root / "gts" / gt.name).write_text(raw.replace(",###", ",＃＃＃", 1).replace(",###", ", ### ", 1),
                                        encoding="utf-8")
    expected = [t for _, t in _raw(gt) if t != "###"]
    extra = (["--nfkc"] if nfkc else []) + ([] if batch else ["--no-fast-path"])
    _convert(["--format", "icdar", "--input", str(root), "--output", str(tmp_path / "rec.jsonl"), *extra], capsys)
    (row,) = _rows(tmp_path / "rec.jsonl")
    assert row["messages"][-1]["content"] == "\n".join(expected)
    _convert(["--format", "icdar", "--input", str(root), "--task", "line", "--output", str(tmp_path / "l.jsonl"),
              *extra], capsys)
    targets = [r["messages"][-1]["content"] for r in _rows(tmp_path / "l.jsonl")]
    assert "###" not in targets and "＃＃＃" not in targets and " ### " not in targets
    assert sorted(targets) == sorted(expected)


# ---------------------------------------------------------------------------------------------------------------
# the converter: variants end to end, and ICDAR 2015 / SROIE unchanged

def _targets(path):
    return [r["messages"][-1]["content"] for r in _rows(path)]


@pytest.mark.parametrize("variant", ["mlt", "polygon", "2013"])
def test_convert_variants_give_the_2015_targets(tmp_path, shared_data, gts, capsys, variant):
    """rec targets of every variant written from the real ground truth are the ICDAR 2015 ones; det box targets too
    for MLT and polygons (the same boxes: the polygon's extra points lie on the quad's edges); the summary says
    which variant was read."""
    _write_dataset(tmp_path / "d", shared_data, gts, variant)
    ref = tmp_path / "ref"
    for task in ("rec", "det"):
        _convert(["--format", "icdar", "--input", str(shared_data / "icdar2015"), "--task", task,
                  "--model-family", "internvl", "--output", str(ref / f"{task}.jsonl")], capsys)
        for given in ("auto", variant):
            out = tmp_path / given / f"{task}.jsonl"
            report = _convert(["--format", "icdar", "--input", str(tmp_path / "d"), "--task", task,
                               "--model-family", "internvl", "--icdar-variant", given, "--output", str(out)], capsys)
            n = report["converted_sources"]
            assert n >= 8 and report["icdar_variants"] == {**dict.fromkeys(("2015", "mlt", "polygon", "2013"), 0),
                                                          variant: n}
            if task == "rec" or variant != "2013":  # 2013 keeps only the axis-aligned box: clipped boxes may differ
                assert _targets(out) == _targets(ref / f"{task}.jsonl"), (task, given)
    # the text summary says it too
    assert cli_main(["convert", "--format", "icdar", "--input", str(tmp_path / "d"), "--output",
                     str(tmp_path / "t.jsonl")]) == 0
    assert f"ICDAR label files read as (converted items): {variant} 8\n" in capsys.readouterr().out  # 2 all-###


@pytest.mark.parametrize("dataset", ["icdar2015", "sroie"])
@pytest.mark.parametrize("task", ["rec", "det", "line"])
def test_2015_and_sroie_outputs_identical_auto_and_explicit(tmp_path, shared_data, capsys, dataset, task):
    """``--icdar-variant 2015`` reads with the unchanged ICDAR 2015 parser (no detection); auto must give the same
    bytes on the real ICDAR 2015 and SROIE data (SROIE: commas and numbers in transcriptions)."""
    outs = {}
    for given in ("auto", "2015"):
        out = tmp_path / given / "x.jsonl"
        report = _convert(["--format", "icdar", "--input", str(shared_data / dataset), "--task", task,
                           "--model-family", "qwen2_5_vl", "--icdar-variant", given, "--output", str(out)], capsys)
        assert report["icdar_variants"] == {"2015": report["converted_sources"], "mlt": 0, "polygon": 0, "2013": 0}
        outs[given] = out.read_bytes().replace(str(tmp_path / given).encode(), b"OUT")
    assert outs["auto"] == outs["2015"] and outs["auto"]


def test_polygon_line_crops_use_the_minimum_area_rectangle(tmp_path, shared_data, gts, capsys):
    """A curved region's line crop is its minimum-area rectangle rectified (not the first 4 points, not the bounding
    box): a polygon made of a real axis-aligned quad plus edge midpoints crops exactly that rectangle's size."""
    from shapely.geometry import MultiPoint

    _write_dataset(tmp_path / "d", shared_data, gts, "polygon")
    _convert(["--format", "icdar", "--input", str(tmp_path / "d"), "--task", "line", "--output",
              str(tmp_path / "l.jsonl")], capsys)
    rows = _rows(tmp_path / "l.jsonl")
    expected = [t for gt in gts for _, t in _raw(gt) if t != "###"]
    assert sorted(r["messages"][-1]["content"] for r in rows) == sorted(expected)
    from PIL import Image
    checked = 0
    for quad, text in _raw(gts[0]):
        rect = MultiPoint(quad).minimum_rotated_rectangle
        if text == "###" or rect.area != MultiPoint(quad).convex_hull.area:
            continue  # only quads that are rectangles: then the crop size is known without the code under test
        (x0, y0), (x1, y1), (x2, y2) = quad[:3]
        w, h = round(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** .5), round(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** .5)
        crops = [r for r in rows if r["messages"][-1]["content"] == text]
        sizes = {Image.open(c["images"][0]["path"] if isinstance(c["images"][0], dict) else c["images"][0]).size
                 for c in crops}
        assert (max(w, 1), max(h, 1)) in sizes, (text, sizes)
        checked += 1
    assert checked > 0


def test_eval_det_scores_against_the_polygons(tmp_path, shared_data, gts):
    """``eval det --gt`` reads polygon ground truth as polygons: the real quads as detections match all of them
    (IoU 1: the same shape); the first 8 numbers of each polygon line (the old reading) cover about half of it."""
    from swift_ocr.eval.det_results import load_gt_images
    from swift_ocr.eval.metrics.det import evaluate
    from swift_ocr.sample import Region

    _write_dataset(tmp_path / "d", shared_data, gts, "polygon")
    items = load_gt_images(tmp_path / "d")
    assert len(items) == 10 and all(len(r.polygon) == 6 for it in items for r in it.gt)
    quads = {gt.stem[3:]: [Region([tuple(map(float, p)) for p in q], t) for q, t in _raw(gt) if t != "###"]
             for gt in gts}
    result = evaluate([(it.image, it.gt, quads[Path(it.image).stem]) for it in items])
    assert result.n_gt == sum(len(v) for v in quads.values()) and result.recall == 1.0 and result.precision == 1.0
    first8 = {k: [Region(_polygon([tuple(map(float, p)) for p in r.polygon])[:4], r.text) for r in v]
              for k, v in quads.items()}
    assert evaluate([(it.image, it.gt, first8[Path(it.image).stem]) for it in items]).recall < 0.5


def test_polygon_det_quads_are_minimum_area_rectangles(tmp_path, shared_data, gts, capsys):
    """InternVL ``<quad>`` targets of polygon regions carry 4 vertices (the minimum-area rectangle) instead of
    rejecting the region; for the real quads that are axis-aligned rectangles it is the same quad as the 2015 file's."""
    _write_dataset(tmp_path / "d", shared_data, gts, "polygon")
    args = ["--format", "icdar", "--task", "det", "--model-family", "internvl", "--det-shape", "quad", "--order",
            "source"]
    ref = _convert([*args, "--input", str(shared_data / "icdar2015"), "--output", str(tmp_path / "r.jsonl")], capsys)
    got = _convert([*args, "--input", str(tmp_path / "d"), "--output", str(tmp_path / "p.jsonl")], capsys)
    assert got["reasons"] == ref["reasons"] and got["rejected_regions"] == ref["rejected_regions"]
    rows = {Path(r["images"][0] if isinstance(r["images"][0], str) else r["images"][0]["path"]).name: r
            for r in _rows(tmp_path / "p.jsonl")}
    refs = {Path(r["images"][0] if isinstance(r["images"][0], str) else r["images"][0]["path"]).name: r
            for r in _rows(tmp_path / "r.jsonl")}
    assert rows.keys() == refs.keys()
    same = 0
    for name, row in rows.items():
        target, expected = row["messages"][-1]["content"], refs[name]["messages"][-1]["content"]
        assert target.count("<quad>") == expected.count("<quad>") > 0
        objects = set(re.findall(r"<ref>.*?</quad>", target))
        gt = shared_data / "icdar2015" / "gts" / f"gt_{Path(name).stem}.txt"
        for quad, text in _raw(gt):
            (a, b, c, d) = quad
            if text != "###" and a[1] == b[1] and b[0] == c[0] and c[1] == d[1] and d[0] == a[0] and a[0] < b[0]:
                # an axis-aligned rectangle, clockwise from the top-left: its own minimum-area rectangle
                (obj,) = [o for o in re.findall(r"<ref>.*?</quad>", expected) if o.startswith(f"<ref>{text}</ref>")]
                assert obj in objects
                same += 1
    assert same > 0


def test_auto_fast_path_equals_whole_file_detection_on_generated_files():
    """The auto reader's shortcut (a plainly ICDAR 2015 file is parsed once, suspicious lines classified alone) gives
    what :func:`detect_icdar_variant` then the variant's line parser on every line give -- regions, variant or
    error."""
    from hypothesis import given, settings, strategies as st

    from swift_ocr.formats.icdar import (parse_2013_line, parse_icdar_line, parse_icdar_variant, parse_mlt_line,
                                         parse_polygon_line)
    from swift_ocr.formats.text_io import split_label_lines

    parsers = {"2015": parse_icdar_line, "mlt": parse_mlt_line, "polygon": parse_polygon_line, "2013": parse_2013_line}

    def reference(text):
        variant = detect_icdar_variant(text, "gt.txt")
        return [parsers[variant](line, "gt.txt", no) for no, line in split_label_lines(text)], variant

    def outcome(fn, text):
        try:
            return "ok", fn(text)
        except OcrFormatError as e:
            return "error", (e.source, e.line, e.kind, e.reason)

    number = st.one_of(st.integers(-50, 2000).map(str), st.sampled_from(["1.5", " 7 ", "1e3", "-0", "inf", "nan"]))
    word = st.sampled_from(["Latin", " Chinese", "None", "###", "＃＃＃", "HELLO", "a b", '"q, r"', "", "9.00",
                            "27", "JALAN 13", "Klingon"])
    line = st.one_of(
        st.tuples(st.lists(number, min_size=6, max_size=14), st.lists(word, min_size=0, max_size=3)).map(
            lambda t: ",".join(t[0] + t[1])),
        st.tuples(st.lists(number, min_size=4, max_size=4), word).map(
            lambda t: " ".join(t[0]) + ' "' + t[1] + '"'))

    @settings(max_examples=400, deadline=None)
    @given(st.lists(line, min_size=1, max_size=5))
    def check(lines):
        text = "\n".join(lines)
        assert outcome(lambda t: parse_icdar_variant(t, "gt.txt", "auto"), text) == outcome(reference, text)

    check()
