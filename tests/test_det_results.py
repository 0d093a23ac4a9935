"""Tests for swift_ocr.eval.det_results: result rows (as ms-swift 4.6.0 writes them) -> per-image GT / detections.

Rows are built from the real ICDAR 2015 and SROIE ground truth, encoded by each family's codec, and written
with ms-swift's own helpers (``RowPreprocessor._cast_mm_data``, ``remove_response``, ``JsonlWriter``), as
``SwiftInfer._batch_infer`` does (see tests/test_results.py; the ``write_swift_results`` fixture,
tests/helpers/result_rows.py). Expected scores are computed here from counts the tests control, read
independently from the label files.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from swift_ocr.codecs import get_codec
from swift_ocr.families import family_names
from swift_ocr.eval.det_results import GroundTruthIndex, load_det_images, load_gt_images, shift_region
from swift_ocr.errors import OcrFormatError
from swift_ocr.eval.metrics.det import evaluate
from swift_ocr.sample import Region

CODECS = [(f, {}) for f in family_names()] + [("internvl", {"shape": "quad"})]
CODEC_IDS = [f if not p else f"{f}-quad" for f, p in CODECS]


# ----------------------------------------------------------------------------------------------- helpers


def raw_counts(label: Path):
    """(care, do-not-care) lines of an ICDAR label file, counted without the reader under test."""
    care = dont_care = 0
    for line in label.read_text(encoding="utf-8-sig").splitlines():
        if not line.strip():
            continue
        if line.split(",", 8)[8].strip() == "###":
            dont_care += 1
        else:
            care += 1
    return care, dont_care


@pytest.fixture(scope="module")
def real(shared_data, result_rows):
    """[(Sample, label path)] for the 10 ICDAR 2015 and 20 SROIE images."""
    out = result_rows.icdar2015_samples(shared_data) + result_rows.sroie_samples(shared_data)
    assert len(out) == 30
    return out


@pytest.fixture(scope="module")
def counts(real):
    care = sum(raw_counts(lbl)[0] for _, lbl in real)
    dc = sum(raw_counts(lbl)[1] for _, lbl in real)
    assert care > 900 and dc > 50  # the real data has both
    return care, dc


@pytest.fixture(scope="module")
def gt_list(real, tmp_path_factory):
    """An index of a DBNet list file naming every (image, label) pair of both datasets (absolute paths)."""
    path = tmp_path_factory.mktemp("gt") / "test_list.txt"
    path.write_text("".join(f"{s.images[0]} {lbl}\n" for s, lbl in real), encoding="utf-8")
    with pytest.raises(OcrFormatError, match="outside_root|escapes"):
        GroundTruthIndex(path)  # paths outside the list file's folder are refused by default
    return GroundTruthIndex(path, allow_outside_root=True)


def scores(items, **kw):
    return evaluate([(it.image, it.gt, it.det) for it in items], **kw)


# --------------------------------------------------------------------------------- GT as prediction = 1.0


@pytest.mark.parametrize("family, params", CODECS, ids=CODEC_IDS)
def test_ground_truth_as_prediction_scores_one(family, params, real, counts, gt_list, tmp_path, write_swift_results):
    codec = get_codec(family, **params)
    items = []
    for s, _ in real:
        target = codec.encode(s.care_regions(), s.image_size)
        items.append((s.images[0], target, target, {}))
    path = write_swift_results(tmp_path / "result.jsonl", items)

    # ground truth from the rows' labels: no ### regions in training targets
    loaded = load_det_images(path, codec)
    assert [it.image for it in loaded] == [s.images[0] for s, _ in real]
    assert [it.lines for it in loaded] == [[k + 1] for k in range(30)]
    assert all(it.label_file is None and not it.unparsed for it in loaded)
    assert all(it.image_size == s.image_size for it, (s, _) in zip(loaded, real))
    res = scores(loaded)
    assert (res.precision, res.recall, res.hmean) == (1.0, 1.0, 1.0)
    assert res.n_gt == res.n_det == res.n_matched == counts[0]
    assert scores(loaded, spotting=True).hmean == 1.0

    # ground truth from the original files: ### regions are do-not-care and do not count as misses
    loaded = load_det_images(path, codec, gt=gt_list)
    assert [Path(it.label_file) for it in loaded] == [lbl for _, lbl in real]
    assert sum(1 for it in loaded for r in it.gt if r.dont_care) == counts[1]
    res = scores(loaded)
    assert (res.precision, res.recall, res.hmean) == (1.0, 1.0, 1.0)
    assert res.n_gt == res.n_det == counts[0]
    assert scores(loaded, spotting="end_to_end").hmean == 1.0


def test_predictions_on_dont_care_regions_are_discarded(real, counts, gt_list, tmp_path, write_swift_results):
    """A model that also outlines the unreadable (###) text loses nothing: those detections are discarded."""
    codec = get_codec("internvl", shape="quad")
    items = []
    for s, _ in real:
        regions = [Region(r.polygon, "unreadable" if r.dont_care else r.text) for r in s.regions]
        items.append((s.images[0], codec.encode(s.care_regions(), s.image_size),
                      codec.encode(regions, s.image_size), {}))
    path = write_swift_results(tmp_path / "result.jsonl", items)
    res = scores(load_det_images(path, codec, gt=gt_list))
    assert (res.precision, res.recall) == (1.0, 1.0)
    assert res.n_det == counts[0]
    assert sum(len(m.discarded_det) for m in res.images) == counts[1]


# ------------------------------------------------------------------------------- controlled degradations


@pytest.mark.parametrize("family", ["qwen2_vl", "deepseek_ocr"])
def test_dropped_and_garbled_predictions(family, real, counts, gt_list, tmp_path, write_swift_results):
    """Drop every 3rd care region and move each image's first kept one to an empty corner."""
    codec = get_codec(family)
    n = counts[0]
    dropped = garbled = 0
    items = []
    for s, _ in real:
        w, h = s.image_size
        corner = [(w - 12.0, h - 12.0), (w - 2.0, h - 12.0), (w - 2.0, h - 2.0), (w - 12.0, h - 2.0)]
        # precondition on the real data: nothing is annotated in that corner
        assert all(r.bbox()[2] < w - 12 or r.bbox()[3] < h - 12 for r in s.regions)
        kept = []
        for k, r in enumerate(s.care_regions()):
            if k % 3 == 2:
                dropped += 1
                continue
            kept.append(r)
        if kept:
            kept[0] = Region(corner, kept[0].text)
            garbled += 1
        items.append((s.images[0], codec.encode(s.care_regions(), s.image_size), codec.encode(kept, s.image_size), {}))
    path = write_swift_results(tmp_path / "result.jsonl", items)
    for gt in (None, gt_list):
        res = scores(load_det_images(path, codec, gt=gt))
        matched = n - dropped - garbled
        assert (res.n_gt, res.n_det, res.n_matched) == (n, n - dropped, matched)
        assert res.recall == pytest.approx(matched / n)
        assert res.precision == pytest.approx(matched / (n - dropped))


def _cut_inside_last_object(family: str, text: str) -> str:
    """Cut ``text`` a few characters into the coordinates of its last object (as max_new_tokens would)."""
    marker = {"internvl": "<box>[[", "qwen2_vl": "<|box_start|>(", "deepseek_ocr": "<|det|>[[",
              "qwen2_5_vl": '"bbox_2d": [', "got": "\n[", "paddleocr_vl": "<|LOC_",
              "deepseek_ocr2": "<|det|>[["}[family]
    pos = text.rfind(marker)
    if pos < 0 and family == "got":
        return text[:3]  # a single line
    assert pos >= 0
    return text[: pos + len(marker) + 1]


@pytest.mark.parametrize("family", family_names())
def test_truncated_responses_count_as_unparsed(family, real, counts, tmp_path, write_swift_results):
    codec = get_codec(family)
    cut = 0
    items = []
    for k, (s, _) in enumerate(real):
        target = codec.encode(s.care_regions(), s.image_size)
        response = target
        if s.care_regions() and k % 2 == 0:
            response = _cut_inside_last_object(family, target)
            cut += 1
        items.append((s.images[0], target, response, {}))
    path = write_swift_results(tmp_path / "result.jsonl", items)
    loaded = load_det_images(path, codec)
    assert sum(len(it.unparsed) for it in loaded) == cut
    assert sum(it.truncated for it in loaded) == cut
    res = scores(loaded)
    assert (res.n_gt, res.n_det, res.n_matched) == (counts[0], counts[0] - cut, counts[0] - cut)
    assert res.precision == 1.0


# ------------------------------------------------------------------------------------ grouping and tiles


def test_several_rows_of_one_image_are_merged(real, shared_data, tmp_path, write_swift_results):
    codec = get_codec("got")
    s = next(s for s, _ in real if s.images[0].endswith("000.jpg"))
    care = s.care_regions()
    halves = [care[: len(care) // 2], care[len(care) // 2:]]
    other = real[0][0]
    items = [(s.images[0], codec.encode(h, s.image_size), codec.encode(h, s.image_size), {}) for h in halves]
    items.insert(1, (other.images[0], codec.encode(other.care_regions(), other.image_size),
                     codec.encode(other.care_regions(), other.image_size), {}))
    path = write_swift_results(tmp_path / "result.jsonl", items)
    loaded = load_det_images(path, codec)
    assert [it.lines for it in loaded] == [[1, 3], [2]]
    assert len(loaded[0].gt) == len(loaded[0].det) == len(care)
    res = scores(loaded)
    assert res.n_images == 2 and res.hmean == 1.0


def test_tiles_are_parsed_in_tile_space_and_shifted(real, gt_list, tmp_path, write_swift_results):
    """Two tiles (top/bottom) of one SROIE receipt, cut at a blank band, each encoded in its own pixels."""
    s = next(s for s, _ in real if s.images[0].endswith("001.jpg"))
    w, h = s.image_size
    care = s.care_regions()
    # a horizontal cut through no region, near the middle
    cut = next(y for y in range(h // 2, h) if all(r.bbox()[3] < y or r.bbox()[1] > y for r in s.regions))
    tiles = [(0, [r for r in care if r.bbox()[3] < cut], (w, cut)),
             (cut, [r for r in care if r.bbox()[1] > cut], (w, h - cut))]
    assert all(regs for _, regs, _ in tiles) and sum(len(t[1]) for t in tiles) == len(care)
    whole = Image.open(s.images[0])
    for family, params in CODECS:
        codec = get_codec(family, **params)
        items = []
        for k, (y0, regs, size) in enumerate(tiles):
            tile_path = tmp_path / f"tile_{k}.png"
            whole.crop((0, y0, w, y0 + size[1])).save(tile_path)
            local = [shift_region(r, 0, -y0) for r in regs]
            text = codec.encode(local, size)
            items.append((tile_path, text, text, {"swift_ocr": {"image_size": list(size), "offset": [0, y0],
                                                                "source_image": s.images[0]}}))
        path = write_swift_results(tmp_path / "result.jsonl", items)
        for gt in (None, gt_list):
            loaded = load_det_images(path, codec, gt=gt)
            assert len(loaded) == 1 and loaded[0].image == s.images[0] and loaded[0].lines == [1, 2]
            assert loaded[0].image_size == (w, h)
            assert [r.offset for r in loaded[0].rows] == [(0.0, 0.0), (0.0, float(cut))]
            res = scores(loaded)
            assert (res.n_gt, res.hmean) == (len(care), 1.0), (family, gt)
        # a tile's boxes land where the source image has them: within the codec's tolerance of the original
        tx, ty = codec.tolerance(tiles[1][2])
        det = load_det_images(path, codec)[0].det
        x1, y1, x2, y2 = det[len(tiles[0][1])].bbox()
        ox1, oy1, ox2, oy2 = tiles[1][1][0].bbox()
        assert abs(x1 - ox1) <= tx + 1e-6 and abs(y1 - oy1) <= ty + 1e-6 and abs(y2 - oy2) <= ty + 1e-6


# ---------------------------------------------------------------------------------------- ground truth


def test_ground_truth_index_layouts(shared_data, tmp_path):
    icdar, sroie = shared_data / "icdar2015", shared_data / "sroie"
    root = GroundTruthIndex(icdar)
    assert len(root.pairs) == 10 and root.n_labels == 10
    # by path, and by stem for an image somewhere else (gt_img_1.txt <-> img_1.jpg, 000.csv <-> 000.jpg)
    assert root.label_for(str(icdar / "imgs" / "img_1.jpg")) == str(icdar / "gts" / "gt_img_1.txt")
    assert root.label_for("/elsewhere/img_10.png") == str(icdar / "gts" / "gt_img_10.txt")
    folder = GroundTruthIndex(sroie / "box")
    assert folder.pairs == [] and folder.n_labels == 20
    assert folder.label_for("/x/000.jpg") == str(sroie / "box" / "000.csv")
    with pytest.raises(KeyError, match="no ground-truth label"):
        folder.label_for("/x/img_1.jpg")
    # two candidate labels for one stem: refused, naming both
    both = tmp_path / "labels"
    both.mkdir()
    for name in ("img_1.txt", "gt_img_1.txt"):
        (both / name).write_bytes((icdar / "gts" / "gt_img_1.txt").read_bytes())
    with pytest.raises(KeyError, match="several"):
        GroundTruthIndex(both).label_for("img_1.jpg")
    with pytest.raises(OcrFormatError, match="no such file"):
        GroundTruthIndex(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(OcrFormatError, match="no label files"):
        GroundTruthIndex(empty)


def test_ground_truth_alone(shared_data, gt_list, counts):
    items = load_gt_images(gt_list)
    assert len(items) == 30 and all(it.det == [] and it.rows == [] for it in items)
    assert sum(1 for it in items for r in it.gt if not r.dont_care) == counts[0]
    assert len(load_gt_images(shared_data / "icdar2015")) == 10
    with pytest.raises(OcrFormatError, match="needs the images"):
        load_gt_images(shared_data / "icdar2015" / "gts")


# ----------------------------------------------------------------------------------------------- errors


def test_errors_name_file_and_line(real, shared_data, tmp_path, write_swift_results):
    codec = get_codec("internvl")
    s = real[0][0]
    good = codec.encode(s.care_regions(), s.image_size)
    cases = [
        ((tmp_path / "nope.jpg", good, good, {}), "not found"),
        ((s.images[0], good, good, {"swift_ocr": {"image_size": [0, 5], "offset": [0, 0], "source_image": "a"}}),
         "image_size"),
        ((s.images[0], good, good, {"swift_ocr": {"image_size": [5, 5], "offset": "x", "source_image": "a"}}),
         "offset"),
        ((s.images[0], good, good, {"swift_ocr": {"image_size": [5, 5], "offset": [1, 1]}}), "source_image"),
        ((s.images[0], "Genaxis Theatre\n[06]", good, {}), "hold no internvl detection objects"),
        ((s.images[0], good[: good.rfind("<box>") + 8], good, {}), "do not parse"),
    ]
    for bad, reason in cases:
        path = write_swift_results(tmp_path / "result.jsonl", [(s.images[0], good, good, {}), bad])
        with pytest.raises(OcrFormatError) as info:
            load_det_images(path, codec)
        assert (info.value.source, info.value.line) == (str(path), 2), reason
        assert reason in info.value.reason
    # an image with no label under --gt
    path = write_swift_results(tmp_path / "result.jsonl", [(s.images[0], good, good, {})])
    with pytest.raises(OcrFormatError, match=r"result\.jsonl:1: no ground-truth label") as info:
        load_det_images(path, codec, gt=shared_data / "sroie")
    assert info.value.kind == "no_label"
    # a row without image path
    path.write_text(json.dumps({"response": good, "labels": good, "images": []}) + "\n", encoding="utf-8")
    with pytest.raises(OcrFormatError, match="no image path"):
        load_det_images(path, codec)


def test_relative_image_path_is_found_next_to_results(real, tmp_path, write_swift_results):
    codec = get_codec("internvl")
    s = real[0][0]
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.jpg").write_bytes(Path(s.images[0]).read_bytes())
    good = codec.encode(s.care_regions(), s.image_size)
    path = write_swift_results(tmp_path / "result.jsonl", [("imgs/a.jpg", good, good, {})])
    loaded = load_det_images(path, codec)
    assert loaded[0].image == str(tmp_path / "imgs" / "a.jpg") and loaded[0].image_size == s.image_size
