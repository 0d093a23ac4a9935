"""PaddleOCR-VL 1.5 spotting codec: text then 8 <|LOC_n|> tokens on the 0-1000 grid; both upstream answer forms."""
from __future__ import annotations

import pytest

from swift_ocr.codecs import get_codec
from swift_ocr.sample import Region

SIZE = (1280, 720)


def _locs(values):
    return "".join(f"<|LOC_{v}|>" for v in values)


def test_boxes_are_written_as_four_corners_on_the_0_1000_grid(real_samples):
    codec = get_codec("paddleocr_vl")
    for sample in real_samples[-3:]:
        w, h = sample.image_size
        text = codec.encode(sample.regions, sample.image_size)
        assert len(text.split("\n")) == len(sample.regions)
        for line, region in zip(text.split("\n"), sample.regions):
            x1, y1, x2, y2 = region.bbox()
            u1, v1, u2, v2 = round(x1 / w * 1000), round(y1 / h * 1000), round(x2 / w * 1000), round(y2 / h * 1000)
            assert line == region.text + _locs([u1, v1, u2, v1, u2, v2, u1, v2])


def test_quads_keep_their_vertices(real_samples):
    sample = real_samples[0]  # ICDAR 2015: real, non-rectangular quads
    w, h = sample.image_size
    text = get_codec("paddleocr_vl", shape="quad").encode(sample.regions, sample.image_size)
    for line, region in zip(text.split("\n"), sample.regions):
        values = [round(c / (w if i % 2 == 0 else h) * 1000) for p in region.polygon for i, c in enumerate(p)]
        assert line == region.text + _locs(values)


@pytest.mark.parametrize("shape", ["box", "quad"])
def test_round_trip_on_real_pages_within_half_a_unit(real_samples, shape):
    codec = get_codec("paddleocr_vl", shape=shape)
    for sample in real_samples:
        w, h = sample.image_size
        care = sample.care_regions()
        res = codec.parse(codec.encode(care, sample.image_size), sample.image_size)
        assert res.report.ok and [r.text for r in res.regions] == [r.text for r in care]
        for got, want in zip(res.regions, care):
            want_poly = want.polygon if shape == "quad" else [(x, y) for x, y in _rect(*want.bbox())]
            for (gx, gy), (wx, wy) in zip(got.polygon, want_poly):
                assert abs(gx - min(max(wx, 0), w)) <= 0.5 * w / 1000 + 1e-9
                assert abs(gy - min(max(wy, 0), h)) <= 0.5 * h / 1000 + 1e-9


def _rect(x1, y1, x2, y2):
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


def test_decoding_is_paddlex_loc_over_1000_times_the_side():
    """PaddleX post_process_for_spotting: point = (LOC / 1000 * w, LOC / 1000 * h)."""
    quad = [17, 20, 998, 33, 990, 80, 10, 75]
    res = get_codec("paddleocr_vl").parse("A B" + _locs(quad), SIZE)
    got = [c for point in res.regions[0].polygon for c in point]
    assert got == pytest.approx([v / 1000 * (1280 if i % 2 == 0 else 720) for i, v in enumerate(quad)])


def test_the_delimited_form_reads_the_same_as_the_plain_one():
    quads = {"TAN WOON YANN": [156, 25, 704, 25, 704, 63, 156, 63], "9.00": [800, 700, 950, 700, 950, 730, 800, 731]}
    plain = "\n".join(t + _locs(q) for t, q in quads.items())
    delimited = "".join(f"<|TEXT_START|>{t}<|TEXT_END|><|LOC_BEGIN|>{_locs(q)}<|LOC_END|>\n" for t, q in quads.items())
    codec = get_codec("paddleocr_vl")
    a, b = codec.parse(plain, SIZE), codec.parse(delimited, SIZE)
    assert a.report.ok and b.report.ok and b.report.extra_text == []
    assert [(r.text, r.polygon) for r in a.regions] == [(r.text, r.polygon) for r in b.regions]
    assert [r.text for r in a.regions] == list(quads)


def test_texts_the_format_cannot_carry_are_refused():
    codec = get_codec("paddleocr_vl")
    for text in ("a<|LOC_5|>b", "two\nlines", "<|TEXT_END|>"):
        region = Region([(1, 1), (9, 1), (9, 9), (1, 9)], text, line=7)
        with pytest.raises(ValueError, match="line 7"):
            codec.encode([region], SIZE)
    with pytest.raises(ValueError, match="shape"):
        get_codec("paddleocr_vl", shape="polygon")


def test_a_generation_cut_inside_an_objects_text_is_prose():
    """Without a started location token nothing tells a cut-off text from prose: it is reported, not scored."""
    res = get_codec("paddleocr_vl").parse("STOP" + _locs([1, 2, 3, 2, 3, 4, 1, 4]) + "\nMAIN ST", SIZE)
    assert [r.text for r in res.regions] == ["STOP"]
    assert res.report.extra_text == ["MAIN ST"] and res.report.truncated == 0
