"""Hand-made broken generations, for every family: truncation, prose, duplicates, swapped corners,
out-of-range numbers, malformed objects. Object texts are written here by hand (not by the encoders) and
the expected pixels are computed here from each family's documented grid."""
from __future__ import annotations

import json
import math

import pytest

from swift_ocr.codecs import get_codec
from swift_ocr.families import family_names

SIZE = (1280, 720)
# Qwen2.5-VL sees 1280x720 as 1288x728 (smart_resize: 46x26 patches of 28); checked in test_qwen2_5_vl.py.
QWEN_SEEN = (1288, 728)


def obj(family, text, c):
    """One object in the family's format, written by hand."""
    if family == "internvl":
        return f"<ref>{text}</ref><box>[[{c[0]}, {c[1]}, {c[2]}, {c[3]}]]</box>"
    if family == "qwen2_vl":
        return (f"<|object_ref_start|>{text}<|object_ref_end|><|box_start|>({c[0]},{c[1]}),({c[2]},{c[3]})"
                f"<|box_end|>")
    if family == "qwen2_5_vl":
        return '{"bbox_2d": [%s, %s, %s, %s], "text_content": %s}' % (*c, json.dumps(text))
    if family == "got":
        return f"[{c[0]}, {c[1]}, {c[2]}, {c[3]}] {text}"
    if family in ("deepseek_ocr", "deepseek_ocr2"):  # DeepSeek-OCR-2 writes DeepSeek-OCR's format
        return f"<|ref|>{text}<|/ref|><|det|>[[{c[0]}, {c[1]}, {c[2]}, {c[3]}]]<|/det|>"
    if family == "paddleocr_vl":  # the box's 4 corners clockwise from (x1, y1), one location token per value
        return text + "".join(f"<|LOC_{v}|>" for v in (c[0], c[1], c[2], c[1], c[2], c[3], c[0], c[3]))
    raise AssertionError(family)


def join(family, objs):
    if family == "qwen2_5_vl":
        return "```json\n[\n" + ",\n".join(objs) + "\n]\n```"
    return "\n".join(objs)


def grid_max(family):
    return {"qwen2_5_vl": QWEN_SEEN, "deepseek_ocr": (999, 999), "deepseek_ocr2": (999, 999)}.get(family, (1000, 1000))


def to_pixels(family, u, v):
    """Grid value -> pixel of the original 1280x720 image, per the family's documented decoding."""
    w, h = SIZE
    if family == "qwen2_5_vl":
        return u * w / QWEN_SEEN[0], v * h / QWEN_SEEN[1]
    if family in ("deepseek_ocr", "deepseek_ocr2"):
        return u / 999 * w, v / 999 * h
    if family == "got":  # truncated values decode to the centre of their unit, clipped to the image
        return min((u + 0.5) / 1000 * w, w), min((v + 0.5) / 1000 * h, h)
    return u / 1000 * w, v / 1000 * h


def expected_rect(family, c):
    (x1, y1), (x2, y2) = to_pixels(family, c[0], c[1]), to_pixels(family, c[2], c[3])
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


BOXES = [("STOP", (100, 200, 300, 260)), ("Main St.", (400, 50, 520, 90)), ("EXIT 12", (10, 600, 180, 700))]

families = pytest.mark.parametrize("family", family_names())


def assert_close(poly, expected):
    assert len(poly) == len(expected)
    for (a, b), (c, d) in zip(poly, expected):
        assert a == pytest.approx(c) and b == pytest.approx(d)


@families
def test_hand_written_objects_parse(family):
    text = join(family, [obj(family, t, c) for t, c in BOXES])
    res = get_codec(family).parse(text, SIZE)
    assert res.report.ok and res.report.objects == 3 and res.report.extra_text == []
    assert [r.text for r in res.regions] == [t for t, _ in BOXES]
    for r, (_, c) in zip(res.regions, BOXES):
        assert_close(r.polygon, expected_rect(family, c))
    assert all(r.line is not None for r in res.regions)


@families
def test_truncated_last_object_is_dropped_and_counted(family):
    objs = [obj(family, t, c) for t, c in BOXES]
    full = join(family, objs)
    last = objs[-1]
    cut = full.index(last) + last.index(str(BOXES[-1][1][0])) + 1  # cut inside the last box's numbers
    res = get_codec(family).parse(full[:cut], SIZE)
    assert [r.text for r in res.regions] == ["STOP", "Main St."]
    assert res.report.truncated == 1 and not res.report.ok
    assert len(res.report.unparsed) == 1 and last.startswith(res.report.unparsed[0])


@families
def test_prose_around_objects_is_ignored_and_kept_in_report(family):
    body = join(family, [obj(family, t, c) for t, c in BOXES])
    text = f"Sure! Here is the text in the image:\n{body}\nLet me know if you need anything else."
    res = get_codec(family).parse(text, SIZE)
    assert [r.text for r in res.regions] == [t for t, _ in BOXES]
    assert res.report.ok
    assert res.report.extra_text == ["Sure! Here is the text in the image:", "Let me know if you need anything else."]


@families
def test_exact_duplicates_are_dropped_and_counted(family):
    objs = [obj(family, t, c) for t, c in BOXES]
    text = join(family, objs + [objs[1], objs[1]])  # a repetition loop
    res = get_codec(family).parse(text, SIZE)
    assert [r.text for r in res.regions] == [t for t, _ in BOXES]
    assert res.report.duplicates == 2 and res.report.objects == 5 and res.report.ok
    kept = get_codec(family, dedupe=False).parse(text, SIZE)
    assert [r.text for r in kept.regions] == ["STOP", "Main St.", "EXIT 12", "Main St.", "Main St."]
    # same text elsewhere, or another text at the same box, is not a duplicate
    other = join(family, objs + [obj(family, "STOP", (101, 200, 300, 260)), obj(family, "GO", BOXES[0][1])])
    assert len(get_codec(family).parse(other, SIZE).regions) == 5


@families
def test_swapped_corners_are_swapped_and_counted(family):
    text = join(family, [obj(family, "STOP", (300, 260, 100, 200)), obj(family, "Main St.", (520, 50, 400, 90))])
    res = get_codec(family).parse(text, SIZE)
    assert res.report.swapped == 2
    assert_close(res.regions[0].polygon, expected_rect(family, (100, 200, 300, 260)))
    assert_close(res.regions[1].polygon, expected_rect(family, (400, 50, 520, 90)))


@families
def test_out_of_range_numbers_are_clipped_and_counted(family):
    mx, my = grid_max(family)
    text = join(family, [obj(family, "EDGE", (-7, 20, mx + 50, my + 3)), obj(family, "STOP", BOXES[0][1])])
    res = get_codec(family).parse(text, SIZE)
    assert res.report.clipped == 1 and res.report.ok
    poly = res.regions[0].polygon
    assert poly[0][0] == pytest.approx(to_pixels(family, 0, 0)[0])
    assert poly[2] == pytest.approx(to_pixels(family, mx, my))
    assert poly[2][0] == pytest.approx(SIZE[0], abs=1.0) and poly[2][1] == pytest.approx(SIZE[1], abs=1.0)


@families
def test_malformed_object_in_the_middle_is_reported_not_truncated(family):
    bad = obj(family, "BAD", (1, 2, 3, 4)).replace("3, 4", "3").replace("3,4", "3").replace("(3,4)", "(3)")
    if family == "qwen2_vl":
        bad = "<|object_ref_start|>BAD<|object_ref_end|><|box_start|>(1,2),(3)<|box_end|>"
    if family == "paddleocr_vl":  # 7 location tokens instead of 8
        bad = "BAD" + "".join(f"<|LOC_{v}|>" for v in (1, 2, 3, 2, 3, 4, 1))
    good = [obj(family, t, c) for t, c in BOXES]
    res = get_codec(family).parse(join(family, [good[0], bad, good[1]]), SIZE)
    assert [r.text for r in res.regions] == ["STOP", "Main St."]
    assert res.report.truncated == 0 and len(res.report.unparsed) == 1 and "BAD" in res.report.unparsed[0]


@families
def test_non_numeric_coordinates_are_reported(family):
    bad = obj(family, "BAD", ("a", "b", "c", "d"))
    if family == "qwen2_5_vl":
        bad = '{"bbox_2d": ["a", "b", "c", "d"], "text_content": "BAD"}'
    res = get_codec(family).parse(join(family, [bad, obj(family, *BOXES[0])]), SIZE)
    assert [r.text for r in res.regions] == ["STOP"]
    assert len(res.report.unparsed) == 1


@families
def test_empty_or_prose_only_text(family):
    codec = get_codec(family)
    empty = codec.parse("", SIZE)
    assert empty.regions == [] and empty.report.ok and empty.report.objects == 0
    prose = codec.parse("I cannot see any text in this image.", SIZE)
    assert prose.regions == [] and prose.report.ok and prose.report.extra_text


@families
def test_encode_empty_region_list_parses_to_nothing(family):
    codec = get_codec(family)
    res = codec.parse(codec.encode([], SIZE), SIZE)
    assert res.regions == [] and res.report.ok and res.report.extra_text == []


@families
def test_bad_image_size_is_refused(family):
    codec = get_codec(family)
    for bad in [(0, 720), (1280,), None, (-1, 5), ("a", 3)]:
        with pytest.raises(ValueError):
            codec.parse("", bad)


# --------------------------------------------------------------- issue 19, case 9: non-finite numbers

#: what a degenerate generation writes instead of a coordinate: JSON's non-finite literals, a float that
#: overflows, an integer too large for a float, bare words
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "9" * 400, "nan", "inf"]


@families
@pytest.mark.parametrize("bad", NON_FINITE, ids=lambda b: b[:8])
@pytest.mark.parametrize("where", ["instead", "extra"])
def test_non_finite_coordinate_makes_the_object_unparsed(family, bad, where):
    """A non-finite or overflowing number, instead of a coordinate or as a fifth item, makes only its object
    unparsed: the other objects keep their boxes, and no region gets a NaN/infinite vertex."""
    good = [obj(family, t, c) for t, c in BOXES]
    c = (100, 200, bad, 260) if where == "instead" else (100, 200, 300, f"260, {bad}")
    broken = obj(family, "BAD", c)
    text = join(family, [good[0], broken, good[1], good[2]])
    res = get_codec(family).parse(text, SIZE)
    assert [r.text for r in res.regions] == [t for t, _ in BOXES]
    for r, (_, box) in zip(res.regions, BOXES):
        assert_close(r.polygon, expected_rect(family, box))
    assert res.report.objects == 3 and not res.report.ok
    assert len(res.report.unparsed) == 1 and bad in res.report.unparsed[0]
    assert all(math.isfinite(v) for r in res.regions for p in r.polygon for v in p)


@families
def test_non_number_item_in_a_box_is_not_skipped(family):
    """``[100, 200, "a", 300, 260]`` is not the box (100, 200, 300, 260): the object is unparsed."""
    broken = obj(family, "BAD", (100, 200, '"a", 300', 260))
    res = get_codec(family).parse(join(family, [broken, obj(family, *BOXES[0])]), SIZE)
    assert [r.text for r in res.regions] == ["STOP"] and len(res.report.unparsed) == 1


# --------------------------------------------------------------- issue 19, case 6: duplicates kept for scoring


@families
def test_duplicates_kept_with_dedupe_false_are_still_counted(family):
    objs = [obj(family, t, c) for t, c in BOXES]
    text = join(family, objs + [objs[0]] * 4)  # a loop repeating the first object 4 more times
    kept = get_codec(family, dedupe=False).parse(text, SIZE)
    assert [r.text for r in kept.regions] == ["STOP", "Main St.", "EXIT 12"] + ["STOP"] * 4
    assert kept.report.duplicates == 4 and kept.report.objects == 7 and kept.report.ok
    dropped = get_codec(family).parse(text, SIZE)
    assert len(dropped.regions) == 3 and dropped.report.duplicates == 4


def test_full_width_dont_care_in_an_answer_is_dont_care():
    """A model answer's ``＃＃＃`` region is do-not-care like ``###`` (issue 19.3, the same rule as the readers)."""
    from swift_ocr.codecs import get_codec

    codec = get_codec("internvl")
    parsed = codec.parse("<ref>＃＃＃</ref><box>[[10, 10, 200, 50]]</box>\n<ref>TOTAL</ref><box>[[10, 60, 200, 90]]</box>",
                         (1000, 1000))
    assert [r.dont_care for r in parsed.regions] == [True, False]
