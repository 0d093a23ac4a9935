"""Qwen2-VL codec: 0-1000 rounding grid in <|box_start|>(x1,y1),(x2,y2)<|box_end|>, equal to ms-swift's rendering."""
from __future__ import annotations

import pytest

from swift_ocr.codecs import get_codec

SIZE = (1280, 720)


def test_same_string_as_ms_swift_objects_route(real_samples, swift_render):
    """ms-swift's Qwen2VLTemplate (QWENVL_BBOX_FORMAT=legacy, its default) renders the same text for one box."""
    from swift.template.templates.qwen import Qwen2VLTemplate

    codec = get_codec("qwen2_vl")
    for sample in (real_samples[1], real_samples[-2]):
        for region in sample.regions[:5]:
            ref, box, _ = swift_render(Qwen2VLTemplate, region.text, region.bbox(), sample.image_size)
            assert ref + box == codec.encode([region], sample.image_size)


def test_numbers_follow_round_of_x_over_w_times_1000(real_samples):
    sample = real_samples[0]
    w, h = sample.image_size
    region = sample.regions[0]
    x1, y1, x2, y2 = region.bbox()
    text = get_codec("qwen2_vl").encode([region], sample.image_size)
    assert text.endswith(f"<|box_start|>({round(x1 / w * 1000)},{round(y1 / h * 1000)}),"
                         f"({round(x2 / w * 1000)},{round(y2 / h * 1000)})<|box_end|>")


def test_four_points_read_as_a_quad():
    text = "<|object_ref_start|>R<|object_ref_end|><|box_start|>(100,100),(300,120),(290,200),(90,180)<|box_end|>"
    res = get_codec("qwen2_vl").parse(text, SIZE)
    assert res.report.ok
    flat = [c for p in res.regions[0].polygon for c in p]
    assert flat == pytest.approx([128.0, 72.0, 384.0, 86.4, 371.2, 144.0, 115.2, 129.6])


def test_spaces_inside_the_points_are_tolerated():
    text = "<|object_ref_start|>R<|object_ref_end|><|box_start|>( 100 , 100 ), ( 300 , 120 )<|box_end|>"
    res = get_codec("qwen2_vl").parse(text, SIZE)
    assert res.report.ok and res.regions[0].bbox() == pytest.approx((128.0, 72.0, 384.0, 86.4))
