"""GOT-OCR2.0: its region prompts (int(x / w * 1000), str(list) + ' OCR: '), colour prompts and box drawing,
and our multi-box answer list on the same grid."""
from __future__ import annotations

import re

import pytest
from PIL import Image

from swift_ocr.codecs import get_codec
from swift_ocr.codecs.got import (draw_colour_box, encode_colour_prompt, encode_region_prompt,
                                  parse_region_prompt)
from swift_ocr.sample import Region

SIZE = (1280, 720)


def got_demo_prompt(region, image_size, ocr_type="ocr"):
    """What GOT's run_ocr_2.0.py builds from --box (its own code path, on the region's bounding box)."""
    w, h = image_size
    bbox = list(region.bbox())
    bbox = [int(bbox[0] / w * 1000), int(bbox[1] / h * 1000), int(bbox[2] / w * 1000), int(bbox[3] / h * 1000)]
    return str(bbox) + " " + ("OCR with format: " if ocr_type == "format" else "OCR: ")


def test_region_prompt_is_got_demo_prompt(real_samples):
    n = 0
    for sample in real_samples:
        for region in sample.regions:
            assert encode_region_prompt(region, sample.image_size) == got_demo_prompt(region, sample.image_size)
            n += 1
    region = real_samples[0].regions[0]
    assert encode_region_prompt(region, SIZE, "format") == got_demo_prompt(region, SIZE, "format")
    assert n == 996


def test_region_prompt_truncates_where_rounding_would_not():
    region = Region([(10.0, 0), (20, 0), (20, 10), (10.0, 10)], "x")  # 10/1280*1000 = 7.8125
    assert encode_region_prompt(region, SIZE).startswith("[7, 0, 15, 13]")


def test_region_prompt_round_trip(real_samples):
    for sample in real_samples:
        w, h = sample.image_size
        for region in sample.regions:
            back = parse_region_prompt(encode_region_prompt(region, sample.image_size), sample.image_size)
            for a, b, tol in zip(back.bbox(), region.bbox(), (w, h, w, h)):
                assert abs(a - b) <= 0.5 * tol / 1000 + 1e-9


def test_parse_region_prompt_finds_the_box_in_a_full_prompt():
    prompt = "<img>" + "<imgpad>" * 4 + "</img>\n[100,200,300,400] OCR with format: "
    r = parse_region_prompt(prompt, SIZE)
    assert r.text == "" and r.bbox() == pytest.approx((128.64, 144.36, 384.64, 288.36))


@pytest.mark.parametrize("prompt", ["OCR: ", "[1, 2, 3] OCR: ", "[1, 2, 3, 1001] OCR: ", "[50, 2, 3, 4] OCR: ",
                                    "[red] OCR: "])
def test_parse_region_prompt_refuses_bad_prompts(prompt):
    with pytest.raises(ValueError):
        parse_region_prompt(prompt, SIZE)


def test_colour_prompts():
    assert encode_colour_prompt("red") == "[red] OCR: "
    assert encode_colour_prompt("blue", "format") == "[blue] OCR with format: "
    with pytest.raises(ValueError):
        encode_colour_prompt("yellow")
    with pytest.raises(ValueError):
        encode_colour_prompt("red", "latex")


def test_draw_colour_box_on_real_image(real_samples):
    sample = real_samples[0]
    original = Image.open(sample.images[0]).convert("RGB")
    before = original.tobytes()
    region = sample.care_regions()[0]
    drawn = draw_colour_box(original, region, "green", width=3)
    assert drawn is not original and drawn.size == original.size and original.tobytes() == before
    x1, y1, x2, y2 = (round(v) for v in region.bbox())
    assert drawn.getpixel(((x1 + x2) // 2, y1)) == (0, 255, 0)
    assert drawn.getpixel((x1, (y1 + y2) // 2)) == (0, 255, 0)
    inside = ((x1 + x2) // 2, (y1 + y2) // 2)
    if x2 - x1 > 10 and y2 - y1 > 10:
        assert drawn.getpixel(inside) == original.getpixel(inside)
    far = (0, 0) if x1 > 10 and y1 > 10 else (original.width - 1, original.height - 1)
    assert drawn.getpixel(far) == original.getpixel(far)
    with pytest.raises(ValueError):
        draw_colour_box(original, region, "purple")


def test_multibox_answer_lines():
    codec = get_codec("got")
    regions = [Region([(10, 20), (300, 20), (300, 60), (10, 60)], "[06] x"),
               Region([(0, 0), (5, 0), (5, 5), (0, 5)], " lead")]
    text = codec.encode(regions, SIZE)
    assert text == "[7, 27, 234, 83] [06] x\n[0, 0, 3, 6]  lead"
    assert [r.text for r in codec.parse(text, SIZE).regions] == ["[06] x", " lead"]
    assert codec.region_prompt(regions[0], SIZE) == ("[7, 27, 234, 83] OCR: ", "[06] x")


def test_line_opening_with_bracket_that_is_no_box_is_reported():
    res = get_codec("got").parse("[note] see below\n[1, 2, 3, 4] A", SIZE)
    assert [r.text for r in res.regions] == ["A"] and res.report.unparsed == ["[note] see below"]


def test_newline_in_text_is_refused():
    with pytest.raises(ValueError, match="cannot carry"):
        get_codec("got").encode([Region([(0, 0), (5, 0), (5, 5), (0, 5)], "a\nb")], SIZE)


def test_ms_swift_objects_route_is_not_gots_prompt(swift_render):
    """ms-swift's got_ocr2 template keeps the base rendering: '[(x1,y1),(x2,y2)]', rounded, not truncated."""
    from swift.template.templates.stepfun import GOT_OCR2Template

    region = Region([(10.0, 0), (20, 0), (20, 10), (10.0, 10)], "x")
    _, box, norm = swift_render(GOT_OCR2Template, "x", region.bbox(), SIZE)
    assert box == "[(8,0),(16,14)]" and norm == [8, 0, 16, 14]
    assert re.match(r"\[7, 0, 15, 13\] OCR: ", encode_region_prompt(region, SIZE))
