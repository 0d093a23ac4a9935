"""DeepSeek-OCR codec: the 0-999 grid, several boxes per ref, and how ms-swift's objects route differs."""
from __future__ import annotations

import re

import pytest

from swift_ocr.codecs import get_codec

SIZE = (1280, 720)


def test_numbers_are_on_the_0_999_grid(real_samples):
    sample = real_samples[-1]
    w, h = sample.image_size
    text = get_codec("deepseek_ocr").encode(sample.regions, sample.image_size)
    for line, region in zip(text.split("\n"), sample.regions):
        x1, y1, x2, y2 = region.bbox()
        want = f"[[{round(x1 / w * 999)}, {round(y1 / h * 999)}, {round(x2 / w * 999)}, {round(y2 / h * 999)}]]"
        assert line == f"<|ref|>{region.text}<|/ref|><|det|>{want}<|/det|>"


def test_decoding_agrees_with_upstream_int_x_over_999_times_w():
    """Upstream draws int(x / 999 * W); our float decoding truncates to the same pixel."""
    text = "<|ref|>A<|/ref|><|det|>[[0, 17, 998, 999]]<|/det|>"
    x1, y1, x2, y2 = get_codec("deepseek_ocr").parse(text, SIZE).regions[0].bbox()
    assert [int(x1), int(y1), int(x2), int(y2)] == [int(0 / 999 * 1280), int(17 / 999 * 720),
                                                     int(998 / 999 * 1280), int(999 / 999 * 720)]
    assert x2 == pytest.approx(998 / 999 * 1280) and y2 == pytest.approx(720.0)


def test_several_boxes_in_one_det():
    text = "<|ref|>the<|/ref|><|det|>[[10, 10, 50, 30], [600, 10, 650, 30]]<|/det|>"
    res = get_codec("deepseek_ocr").parse(text, SIZE)
    assert [r.text for r in res.regions] == ["the", "the"] and res.report.ok


def test_ms_swift_objects_route_is_not_deepseek_format(swift_render):
    """ms-swift's DeepseekOCR template keeps the base Template's rendering: bare ref text, '[(x1,y1),(x2,y2)]'
    on a 0-1000 grid - neither the <|ref|>/<|det|> tags nor the 0-999 scale (see docs/detection_codecs.md)."""
    from swift.template.templates.deepseek import DeepseekOCR

    ref, box, norm = swift_render(DeepseekOCR, "TOTAL", [640, 360, 1280, 720], SIZE)
    assert ref == "TOTAL"
    assert re.fullmatch(r"\[\(\d+,\d+\),\(\d+,\d+\)\]", box)
    assert norm == [500, 500, 1000, 1000]  # 1000 is off DeepSeek-OCR's 0-999 grid
    ours = get_codec("deepseek_ocr").encode([_region(640, 360, 1280, 720)], SIZE)
    assert ours == "<|ref|>TOTAL<|/ref|><|det|>[[500, 500, 999, 999]]<|/det|>"


def _region(x1, y1, x2, y2):
    from swift_ocr.sample import Region
    return Region([(x1, y1), (x2, y1), (x2, y2), (x1, y2)], "TOTAL")
