"""Tests for swift_ocr/tasks/det.py (the det task) and the detection prompts of swift_ocr/families/prompts.py, on real files:
SROIE receipts, ICDAR 2015 scene images (with ### regions) and the word-box data templates."""
from __future__ import annotations

import io
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops

from swift_ocr.tasks import det as det_task
from swift_ocr.codecs import get_codec
from swift_ocr.tasks.det import DET_KINDS, det
from swift_ocr.tasks.order import ORDERS, group_boxes, group_regions, reading_order, single_region_lines
from swift_ocr.tasks.tiling import TILE_META_KEY, det_meta, untiled_meta, untiled_meta_json
from swift_ocr.errors import OcrFormatError, Rejection
from swift_ocr.formats import open_source
from swift_ocr.families import family_names
from swift_ocr.families.prompts import DET_PROMPTS, det_prompt


def _samples(root: Path, fmt: str = "icdar"):
    reader = open_source(fmt, input_path=str(root))
    out = []
    for key, item in reader.iter_samples():
        assert not isinstance(item, Exception), item
        out.append(item)
    return out


@pytest.fixture(scope="module")
def sroie(shared_data):
    return _samples(shared_data / "sroie")


@pytest.fixture(scope="module")
def icdar(shared_data):
    return _samples(shared_data / "icdar2015")


def _close(a, b, tol):
    return all(abs(x - y) <= t + 1e-6 for x, y, t in zip(a, b, tol))


def _tol(size):
    w, h = size
    return (0.5 * w / 1000, 0.5 * h / 1000) * 2


# ------------------------------------------------------------------------------------------- untiled targets


def test_untiled_target_is_every_care_region_once_and_parses_back(sroie):
    codec = get_codec("internvl")
    for s in sroie:
        (out,) = det(s, "internvl")
        assert out.images == s.images and out.image_bytes is None and out.image_size == tuple(s.image_size)
        assert det_meta(out) == {"image_size": list(s.image_size), "offset": [0, 0],
                                 "source_image": os.path.abspath(s.images[0])}
        parsed = codec.parse(out.text, s.image_size)
        assert parsed.report.ok and parsed.report.duplicates == 0
        assert sorted(r.text for r in parsed.regions) == sorted(r.text for r in s.care_regions())
        by_text = {}
        for r in s.care_regions():
            by_text.setdefault(r.text, []).append(r.bbox())
        for r in parsed.regions:
            assert any(_close(r.bbox(), b, _tol(s.image_size)) for b in by_text[r.text]), r.text


def test_tb_lr_order_reads_lines_top_down_and_left_to_right(sroie):
    """Checked with a rule of its own: consecutive objects either share a line (the next one's vertical centre lies
    inside the previous box) and move right, or the next one starts a lower line."""
    codec = get_codec("internvl")
    for s in sroie:
        regions = codec.parse(det(s, "internvl")[0].text, s.image_size).regions
        for a, b in zip(regions, regions[1:]):
            ax1, ay1, ax2, ay2 = a.bbox()
            bx1, by1, bx2, by2 = b.bbox()
            b_cy, a_cy = (by1 + by2) / 2, (ay1 + ay2) / 2
            if ay1 <= b_cy <= ay2 and ay1 <= by1 + (by2 - by1) * 0.5:
                assert bx1 >= ax1 or b_cy > a_cy, (s.source, a.text, b.text)
            else:
                assert b_cy > a_cy, (s.source, a.text, b.text)


def test_tb_rl_reverses_each_line_and_source_keeps_file_order(sroie):
    s = sroie[0]
    lr = reading_order(s.care_regions(), "tb-lr")
    rl = reading_order(s.care_regions(), "tb-rl")
    lines = group_regions(s.care_regions())
    assert any(len(line) > 1 for line in lines)
    k = 0
    for line in lines:
        n = len(line)
        assert [r.text for r in rl[k:k + n]] == [r.text for r in reversed(lr[k:k + n])]
        k += n
    codec = get_codec("internvl")
    texts = [r.text for r in codec.parse(det(s, "internvl", order="source")[0].text, s.image_size).regions]
    assert texts == [r.text for r in s.care_regions()]


def test_wordbox_lines_come_in_the_files_reading_order(data_templates):
    """The word-box files give each character's reading order; det's geometric order must agree on these pages."""
    codec = get_codec("internvl")
    pages = _samples(data_templates / "wordbox", "wordbox")
    assert pages
    for s in pages:
        (out,) = det(s, "internvl")
        texts = [r.text for r in codec.parse(out.text, s.image_size).regions]
        assert texts == [r.text for r in s.care_regions()], s.source


def test_dont_care_regions_are_left_out_of_targets(icdar):
    codec = get_codec("internvl")
    seen_dont_care = 0
    for s in icdar:
        care = [r for r in s.care_regions() if r.issue is None]
        seen_dont_care += len(s.regions) - len(s.care_regions())
        if not s.care_regions():
            with pytest.raises(OcrFormatError) as e:
                det(s, "internvl")
            assert e.value.kind == "no_readable_region" and e.value.source == s.source
            continue
        rejected = []
        (out,) = det(s, "internvl", rejected=rejected)
        parsed = codec.parse(out.text, s.image_size).regions
        assert "###" not in out.text
        assert sorted(r.text for r in parsed) == sorted(r.text for r in care)
        assert len(rejected) == len(s.care_regions()) - len(care)
    assert seen_dont_care > 0


def test_every_family_encodes_a_receipt(sroie):
    s = sroie[1]
    for family in family_names():
        (out,) = det(s, family)
        parsed = get_codec(family).parse(out.text, s.image_size)
        assert parsed.report.ok and len(parsed.regions) == len(s.care_regions()), family


# -------------------------------------------------------------------------------------------------- tiling


def test_strips_cap_boxes_cover_the_page_and_map_back(sroie):
    codec = get_codec("internvl")
    for s in sroie[:6]:
        tiles = det(s, "internvl", max_boxes=10)
        assert len(tiles) > 1
        w, h = s.image_size
        source = Image.open(s.images[0]).convert("RGB")
        area, mapped = 0, []
        for t in tiles:
            meta = getattr(t, TILE_META_KEY)
            (x0, y0), (tw, th) = meta["offset"], meta["image_size"]
            assert meta["source_image"] == os.path.abspath(s.images[0])
            assert 1 <= len(t.regions) <= 10 and t.images[0].endswith(".png")
            assert 0 <= x0 and x0 + tw <= w and 0 <= y0 and y0 + th <= h
            area += tw * th
            tile = Image.open(io.BytesIO(t.image_bytes))
            assert tile.size == (tw, th) == t.image_size
            assert ImageChops.difference(tile.convert("RGB"), source.crop((x0, y0, x0 + tw, y0 + th))).getbbox() is None
            for r in codec.parse(t.text, (tw, th)).regions:
                x1, y1, x2, y2 = r.bbox()
                mapped.append((r.text, (x1 + x0, y1 + y0, x2 + x0, y2 + y0), _tol((tw, th)),
                               (x0, y0, x0 + tw, y0 + th)))
        assert area == w * h  # strips do not overlap (each lies inside the page) and leave nothing out
        assert sorted(m[0] for m in mapped) == sorted(r.text for r in s.care_regions())
        truth = {}
        for r in s.care_regions():
            truth.setdefault(r.text, []).append(r.bbox())
        for text, box, tol, (tx1, ty1, tx2, ty2) in mapped:
            # a box that crosses a strip boundary (lines overlapping vertically) is clipped to its strip
            clipped = [(max(b[0], tx1), max(b[1], ty1), min(b[2], tx2), min(b[3], ty2)) for b in truth[text]]
            assert any(_close(box, b, tol) for b in clipped), (s.source, text)


def test_an_over_full_line_is_cut_into_pieces_side_by_side(sroie):
    s = next(x for x in sroie if max(len(line) for line in group_regions(x.care_regions())) >= 4)
    tiles = det(s, "internvl", max_boxes=2)
    assert all(len(t.regions) <= 2 for t in tiles)
    assert sum(len(t.regions) for t in tiles) == len(s.care_regions())
    rows = {}
    for t in tiles:
        (x0, y0), (tw, th) = det_meta(t)["offset"], det_meta(t)["image_size"]
        rows.setdefault((y0, th), []).append((x0, tw))
    pieces = [sorted(v) for v in rows.values() if len(v) > 1]
    assert pieces
    for row in pieces:
        assert row[0][0] == 0 and row[-1][0] + row[-1][1] == s.image_size[0]
        assert all(a[0] + a[1] == b[0] for a, b in zip(row, row[1:]))


def test_tiling_none_rejects_a_page_over_the_cap(sroie):
    s = sroie[0]
    n = len(s.care_regions())
    assert len(det(s, "internvl", max_boxes=n, tiling="none")) == 1
    with pytest.raises(OcrFormatError) as e:
        det(s, "internvl", max_boxes=n - 1, tiling="none")
    assert e.value.kind == "too_many_boxes" and e.value.kind in DET_KINDS and str(n) in e.value.reason


# --------------------------------------------------------------------------------------- rejections, errors


def test_text_the_format_cannot_carry_is_a_region_rejection(sroie):
    s = sroie[2]
    bad = s.regions[3]
    broken = replace(s, regions=[replace(r, text=r.text + "</ref>") if r is bad else r for r in s.regions])
    rejected = []
    (out,) = det(broken, "internvl", rejected=rejected)
    assert [r.kind for r in rejected] == ["unencodable_text"] and rejected[0].line == bad.line
    assert "</ref>" not in out.text.replace("</ref><box>", "")
    with pytest.raises(OcrFormatError) as e:
        det(broken, "internvl")
    assert e.value.kind == "unencodable_text" and e.value.source == s.source


def test_regions_flagged_by_the_reader_are_rejected_with_their_own_kind(icdar):
    s = next(x for x in icdar if len(x.care_regions()) >= 2)
    from swift_ocr.errors import Rejection
    first = s.care_regions()[0]
    flagged = replace(first, issue=Rejection(s.source, first.line, "degenerate for the test", "degenerate_region"))
    sample = replace(s, regions=[flagged if r is first else r for r in s.regions])
    rejected = []
    det(sample, "internvl", rejected=rejected)
    assert [(r.kind, r.line) for r in rejected if r.line == first.line] == [("degenerate_region", first.line)]


def test_a_sample_without_regions_or_with_bad_options_is_refused(sroie):
    s = sroie[0]
    with pytest.raises(OcrFormatError) as e:
        det(replace(s, regions=[]), "internvl")
    assert e.value.kind == "no_regions"
    for kwargs in ({"order": "bt-lr"}, {"tiling": "grid"}, {"max_boxes": 0}, {"codec_params": {"shape": "oval"}}):
        with pytest.raises(ValueError):
            det(s, "internvl", **kwargs)
    with pytest.raises(ValueError, match="unknown detection codec family"):
        det(s, "paddle")


def test_a_missing_image_names_the_label_file(sroie, tmp_path):
    s = replace(sroie[0], images=[str(tmp_path / "gone.jpg")], image_size=None)
    with pytest.raises(OcrFormatError) as e:
        det(s, "internvl")
    assert e.value.kind == "image_missing" and e.value.source == s.source


# ------------------------------------------------------------------------- fast path = careful path

#: (family, codec_params): every codec and shape det can write.
CODECS = [(f, None) for f in family_names()] + [("internvl", {"shape": "quad"})]


def _reference_group_lines(boxes):
    """group_lines as first written (the careful reference for group_boxes)."""
    by_centre = sorted(range(len(boxes)), key=lambda i: ((boxes[i][1] + boxes[i][3]) / 2, boxes[i][0], i))
    lines = []
    for i in by_centre:
        y1, y2 = boxes[i][1], boxes[i][3]
        if lines:
            line = lines[-1]
            ly1 = sum(boxes[j][1] for j in line) / len(line)
            ly2 = sum(boxes[j][3] for j in line) / len(line)
            overlap = min(y2, ly2) - max(y1, ly1)
            if overlap > 0 and overlap >= 0.5 * min(y2 - y1, ly2 - ly1):
                line.append(i)
                continue
        lines.append([i])
    for line in lines:
        line.sort(key=lambda j: (boxes[j][0], j))
    return lines


def _outcome(sample, family, params, careful, monkeypatch, **kwargs):
    """Everything det gives (samples, rejections, or the error), with the fast path or the careful one."""
    rejected = [] if kwargs.pop("collect", True) else None
    try:  # careful=True: det's reference path (regions checked and encoded by codec.encode)
        out = det(sample, family, codec_params=params, rejected=rejected, careful=careful, **kwargs)
    except (OcrFormatError, ValueError) as e:
        return ("raised", type(e), str(e), getattr(e, "kind", None), getattr(e, "line", None)), rejected
    return [(o.text, o.regions, o.images, o.image_size, o.image_bytes, o.source, o.line, dict(o.fixes),
             det_meta(o)) for o in out], rejected


def _same_both_ways(sample, family, params, monkeypatch, **kwargs):
    fast = _outcome(sample, family, params, False, monkeypatch, **kwargs)
    assert fast == _outcome(sample, family, params, True, monkeypatch, **kwargs), (sample.source, family, kwargs)
    return fast


def test_group_boxes_is_the_first_group_lines(sroie, icdar, data_templates):
    pages = sroie + icdar + _samples(data_templates / "wordbox", "wordbox")
    for s in pages:
        boxes = [r.bbox() for r in s.regions]
        assert group_boxes(boxes) == _reference_group_lines(boxes) == group_regions(s.regions), s.source
    rng = np.random.default_rng(1)
    for n in range(1, 40):  # crowded pages: ties, overlapping lines, shared centres, zero heights, NaN
        xs = rng.integers(0, 50, size=(n, 2)).astype(float)
        ys = rng.integers(0, 12, size=(n, 2)).astype(float) * 2.5
        boxes = [(min(a), min(b), max(a), max(b)) for a, b in zip(xs.tolist(), ys.tolist())]
        if n % 7 == 0:
            boxes[0] = (float("nan"), 1.0, 2.0, float("nan"))
        assert group_boxes(boxes) == _reference_group_lines(boxes), boxes



def test_single_region_lines_are_group_boxes_one_region_lines(sroie, icdar, data_templates):
    """For many pages at once: the sorted-by-centre sequence exactly for the pages whose group_boxes lines all hold one
    region (every reading order then reads them in that sequence), None for the others; real and crowded pages."""
    pages = [[r.bbox() for r in s.care_regions()] for s in sroie + icdar + _samples(data_templates / "wordbox",
                                                                                      "wordbox")]
    pages += [[(0.0, 5.0, 10.0, 5.0), (0.0, 5.0, 10.0, 10.0)],  # a zero-height box touching the next: no overlap
              [(0.0, 0.0, 10.0, 10.0), (0.0, 5.0, 10.0, 15.0)],  # overlap exactly half the smaller height: one line
              [(0.0, 0.0, 10.0, 10.0), (0.0, 5.5, 10.0, 15.5)],  # just under half: two lines
              [(5.0, 0.0, 9.0, 0.0), (0.0, 0.0, 4.0, 0.0)],  # same centre, zero heights: two lines, x1 decides
              [(5.0, 0.0, 9.0, 10.0), (0.0, 0.0, 4.0, 10.0)]]  # same centre: one line
    rng = np.random.default_rng(3)
    for n in [0, 1, 2, 3] + list(range(1, 40)) * 3:  # ties, shared centres, zero heights, lines one box apart
        xs = rng.integers(0, 50, size=(n, 2)).astype(float)
        ys = rng.integers(0, rng.choice([6, 30]), size=(n, 2)).astype(float) * rng.choice([0.5, 2.5, 7.0])
        pages.append([(min(a), min(b), max(a), max(b)) for a, b in zip(xs.tolist(), ys.tolist())])
    got = single_region_lines(np.array([b for page in pages for b in page], dtype=float).reshape(-1, 4),
                              [len(page) for page in pages])
    singles = 0
    for boxes, sequence in zip(pages, got):
        lines = group_boxes(boxes)
        if all(len(line) == 1 for line in lines):
            singles += 1
            assert sequence == [line[0] for line in lines], boxes
            assert sequence == reading_order_boxes(boxes, "tb-rl") == reading_order_boxes(boxes, "tb-lr"), boxes
        else:
            assert sequence is None, boxes
    assert 10 < singles < len(pages) - 10  # both kinds of page were tried


def reading_order_boxes(boxes, order):
    """reading_order of regions with these bounding boxes, as indices."""
    from swift_ocr.sample import Region
    regions = [Region([(x1, y1), (x2, y1), (x2, y2), (x1, y2)], str(i)) for i, (x1, y1, x2, y2) in enumerate(boxes)]
    return [int(r.text) for r in reading_order(regions, order)]


def test_untiled_meta_json_is_json_dumps_of_the_metadata():
    import json
    for size, image in [((1280, 720), "/data/imgs/img_1.jpg"), ((1, 99999), '/d/q"uote\\back\tslash.png'),
                        ((640, 480), "/数据/收据 1.jpg"), ((3, 4), "/x/\u2028\x00.jpg")]:
        member = json.dumps({TILE_META_KEY: untiled_meta(size, image)}, ensure_ascii=False)[1:-1]
        assert untiled_meta_json(size, image) == member


@pytest.mark.parametrize("family,params", CODECS)
def test_fast_path_gives_the_careful_output_on_real_pages(family, params, sroie, icdar, data_templates, monkeypatch):
    """ICDAR 2015 scenes (### regions, flagged regions), SROIE receipts and the word-box pages: the same samples,
    targets, metadata and rejections, in every reading order, untiled and with a cap the page fits under."""
    pages = sroie + icdar + _samples(data_templates / "wordbox", "wordbox")
    for s in pages:
        for order in ORDERS:
            _same_both_ways(s, family, params, monkeypatch, order=order)
        _same_both_ways(s, family, params, monkeypatch, max_boxes=max(1, len(s.care_regions())))
        _same_both_ways(s, family, params, monkeypatch, collect=False)


@pytest.mark.parametrize("family,params", CODECS)
def test_fast_path_feeds_tiling_as_the_careful_path_does(family, params, sroie, monkeypatch):
    s = sroie[0]
    for order in ORDERS:
        out, _ = _same_both_ways(s, family, params, monkeypatch, order=order, max_boxes=7)
        assert len(out) > 1
    _same_both_ways(s, family, params, monkeypatch, max_boxes=7, tiling="none")


@pytest.mark.parametrize("family,params", CODECS)
def test_fast_path_rejects_as_the_careful_path_does(family, params, sroie, monkeypatch):
    """Regions the readers flagged, empty texts, texts a format cannot carry, broken or outside geometry."""
    s = sroie[2]
    nan = float("nan")
    care = s.care_regions()

    def edit(k, **changes):
        return replace(care[k], **changes)

    odd = [edit(0, text="   "), edit(1, text=care[1].text + "\n2nd"), edit(2, text="a</ref>b"),
           edit(3, text="<|ref|>x<|/ref|>"), edit(4, text="cr\r"), edit(5, polygon=care[5].polygon[:3]),
           edit(6, polygon=[(nan, 1.0), (5.0, 1.0), (5.0, 9.0), (nan, 9.0)]), edit(7, polygon=[]),
           edit(8, polygon=[(-40.0, -3.0), (1e6, -3.0), (1e6, 1e6), (-40.0, 1e6)]),
           edit(9, issue=Rejection(s.source, care[9].line, "degenerate for the test", "degenerate_region")),
           edit(10, text='50% {0} "q" \\ é'), edit(11, dont_care=True),
           edit(12, polygon=[(1, 2), (30, 2), (30, 9), (1, 9)]), edit(13, polygon=[(1, 2, 0), (30, 2, 0), (30, 9, 0)])]
    sample = replace(s, regions=odd + care[len(odd):])
    for order in ORDERS:
        _same_both_ways(sample, family, params, monkeypatch, order=order)
    _same_both_ways(sample, family, params, monkeypatch, collect=False)
    only_bad = replace(s, regions=[odd[0], odd[6], odd[7], odd[9], odd[11]])  # no family takes any of these
    outcome, rejected = _same_both_ways(only_bad, family, params, monkeypatch)
    assert outcome[0] == "raised" and outcome[3] == "no_usable_region" and rejected
    w, h = s.image_size  # sizes no codec takes (a numpy int among them, after the same size as ints): every
    for size in ((0, 10), (float("nan"), 5), (np.int64(w), h)):  # region is rejected either way
        _same_both_ways(replace(s, image_size=size), family, params, monkeypatch)


def test_a_known_image_size_is_not_read_again(sroie, monkeypatch, tmp_path):
    """The converter's samples carry image_size from the header check: det must not open the image."""
    def refuse(*args, **kwargs):
        raise AssertionError("the image was opened")

    monkeypatch.setattr(det_task, "read_image_size", refuse)
    monkeypatch.setattr(det_task, "open_rgb", refuse)
    s = replace(sroie[0], images=[str(tmp_path / "not_there.jpg")])
    for family, params in CODECS:
        (out,) = det(s, family, codec_params=params)
        assert out.image_size == tuple(s.image_size) and det_meta(out)["image_size"] == list(s.image_size)


def test_codecs_are_built_once_per_family_and_parameters():
    a = det_task._codec("internvl", None)
    assert det_task._codec("internvl", {}) is a and det_task._codec("internvl", {"shape": "box"}) is not a
    assert det_task._codec("internvl", {"shape": "quad"}).shape == "quad"
    assert det_task._codec("qwen2_5_vl", {"fence": False}).fence is False
    with pytest.raises(ValueError, match="bad parameters"):
        det_task._codec("got", {"shape": "quad"})


# ------------------------------------------------------------------------------------------------- prompts


def test_det_prompts():
    assert DET_PROMPTS["zh"] == "请目标检测图像中的信息并给出边界框"  # OCRDetInternVL2's query
    assert det_prompt("internvl", "zh") == DET_PROMPTS["zh"]
    assert det_prompt("internvl") == DET_PROMPTS["en"]
    assert "JSON" in det_prompt("qwen2_5_vl")  # the cookbook's spotting prompt matches the codec's JSON answer
    assert det_prompt("got", prompt="Find the words.") == "Find the words."
    for bad in ({"family": "paddle"}, {"family": "got", "lang": "fr"}, {"family": "got", "prompt": " "}):
        with pytest.raises(ValueError):
            det_prompt(**bad)
