"""Tests for swift_ocr/det_task.py (the det task) and the detection prompts of swift_ocr/prompts.py, on real files:
SROIE receipts, ICDAR 2015 scene images (with ### regions) and the word-box data templates."""
from __future__ import annotations

import io
import os
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from swift_ocr.codecs import get_codec
from swift_ocr.det_task import DET_KINDS, META_ATTR, det, det_meta, group_lines, reading_order
from swift_ocr.errors import OcrFormatError
from swift_ocr.formats import open_source
from swift_ocr.prompts import DET_PROMPTS, FAMILIES, det_prompt


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
    lines = group_lines(s.care_regions())
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
    for family in FAMILIES:
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
            meta = getattr(t, META_ATTR)
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
    s = next(x for x in sroie if max(len(line) for line in group_lines(x.care_regions())) >= 4)
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
