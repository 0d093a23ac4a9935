"""InternVL codec: the 0-1000 rounding grid, multi-box refs, our <quad> form, and ms-swift's own rendering."""
from __future__ import annotations

import re

import pytest

from swift_ocr.codecs import get_codec
from swift_ocr.sample import Region

SIZE = (1280, 720)


def test_box_numbers_follow_internvl_normalisation(real_samples):
    """x_norm = round(x / W * 1000) (InternVL chat data format doc), checked on every real region."""
    codec = get_codec("internvl")
    for sample in real_samples[:3] + real_samples[-3:]:
        w, h = sample.image_size
        lines = codec.encode(sample.regions, sample.image_size).split("\n")
        assert len(lines) == len(sample.regions)
        for line, region in zip(lines, sample.regions):
            x1, y1, x2, y2 = region.bbox()
            want = [round(x1 / w * 1000), round(y1 / h * 1000), round(x2 / w * 1000), round(y2 / h * 1000)]
            assert line == f"<ref>{region.text}</ref><box>[[{want[0]}, {want[1]}, {want[2]}, {want[3]}]]</box>"


def test_same_string_as_ms_swift_objects_route(real_samples, swift_render):
    """ms-swift's Internvl2Template + normalize_bbox('norm1000') render the same text for one box."""
    from swift.template.templates.internvl import Internvl2Template

    codec = get_codec("internvl")
    for sample in (real_samples[0], real_samples[-1]):
        for region in sample.regions[:5]:
            ref, box, _ = swift_render(Internvl2Template, region.text, region.bbox(), sample.image_size)
            assert ref + box == codec.encode([region], sample.image_size)


def test_ms_swift_renders_a_quad_as_an_8_value_box_which_we_parse(swift_render):
    """ms-swift passes an 8-value bbox through as <box>[[8 numbers]]</box>; the parser reads it as a quad."""
    from swift.template.templates.internvl import Internvl2Template

    quad = [(10, 20), (300, 22), (298, 60), (9, 58)]
    ref, box, norm = swift_render(Internvl2Template, "Hi", [c for p in quad for c in p], SIZE)
    assert len(norm) == 8 and box.startswith("<box>[[")
    res = get_codec("internvl").parse(ref + box, SIZE)
    assert res.report.ok and len(res.regions) == 1 and len(res.regions[0].polygon) == 4
    for (x, y), (px, py) in zip(quad, res.regions[0].polygon):
        assert abs(x - px) <= 0.64 and abs(y - py) <= 0.36


def test_several_boxes_per_ref_give_one_region_each():
    text = "<ref>EXIT</ref><box>[[100, 200, 300, 260], [500, 600, 700, 660]]</box>"
    res = get_codec("internvl").parse(text, SIZE)
    assert [r.text for r in res.regions] == ["EXIT", "EXIT"] and res.report.objects == 2
    assert res.regions[1].polygon[0] == pytest.approx((640.0, 432.0))


def test_quad_form_keeps_vertex_order_and_rotation():
    region = Region([(100, 50), (400, 150), (380, 210), (80, 110)], "ROTATED")  # ~18 degrees
    codec = get_codec("internvl", shape="quad")
    text = codec.encode([region], SIZE)
    assert re.fullmatch(r"<ref>ROTATED</ref><quad>\[\[\d+(, \d+){7}\]\]</quad>", text)
    res = codec.parse(text, SIZE)
    assert res.report.ok
    for (x, y), (px, py) in zip(region.polygon, res.regions[0].polygon):
        assert abs(x - px) <= 0.64 + 1e-9 and abs(y - py) <= 0.36 + 1e-9
    # the box codec reads the quad form too
    assert len(get_codec("internvl").parse(text, SIZE).regions[0].polygon) == 4


def test_quad_form_needs_four_vertices():
    with pytest.raises(ValueError, match="4 vertices|exactly 4"):
        get_codec("internvl", shape="quad").encode([Region([(0, 0), (5, 0), (5, 5)], "tri")], SIZE)


@pytest.mark.parametrize("text", ["a</ref>b", "x<ref>y", "two\nlines"])
def test_text_the_format_cannot_carry_is_refused(text):
    with pytest.raises(ValueError, match="cannot carry"):
        get_codec("internvl").encode([Region([(0, 0), (5, 0), (5, 5), (0, 5)], text, line=7)], SIZE)


def test_angle_brackets_in_text_survive():
    region = Region([(0, 0), (50, 0), (50, 9), (0, 9)], "GF-TABLE LAMP/STITCH <I>")
    codec = get_codec("internvl")
    assert codec.parse(codec.encode([region], SIZE), SIZE).regions[0].text == "GF-TABLE LAMP/STITCH <I>"


def test_unknown_shape_is_refused():
    with pytest.raises(ValueError, match="shape"):
        get_codec("internvl", shape="polygon")
