"""Shared codec machinery: grids, the collector's parse policy and the scanner's accounting."""
from __future__ import annotations

import re

import numpy as np
import pytest

from swift_ocr.codecs import get_codec
from swift_ocr.families import family_names
from swift_ocr.codecs.grid import Grid, normalised_grid, region_bbox
from swift_ocr.codecs.parsing import Collector, ParseReport, scan
from swift_ocr.sample import Region


def test_round_grid_encode_decode_and_tolerance():
    g = normalised_grid((1280, 720), 1000)
    assert g.encode(640, 360) == (500, 500)
    assert g.encode(0.6, 0.35) == (0, 0) and g.encode(0.7, 0.37) == (1, 1)
    assert g.decode(500, 500) == (640.0, 360.0)
    assert g.tolerance() == (0.64, 0.36)


def test_points_outside_the_image_are_clipped_when_encoding():
    g = normalised_grid((1280, 720), 1000)
    assert g.encode(-20, 800) == (0, 1000) and g.encode(5000, -1) == (1000, 0)


def test_floor_grid_truncates_and_decodes_to_unit_centres():
    g = normalised_grid((1280, 720), 1000, floor=True)
    assert g.encode(10.0, 10.0) == (7, 13)  # 7.8125, 13.9
    assert g.decode(7, 13) == pytest.approx((9.6, 9.72))
    assert g.decode(1000, 1000) == (1280.0, 720.0)  # clipped to the border
    assert g.tolerance() == (0.64, 0.36)


def test_resized_pixel_grid():
    g = Grid((1080, 1527), 840, 1176, 840, 1176)
    assert g.encode(1080, 1527) == (840, 1176)
    assert g.decode(420, 588) == pytest.approx((540.0, 763.5))


def test_collector_policy():
    col = Collector(normalised_grid((1000, 1000), 1000))
    col.add("a", [10, 20, 30, 40], 1, "s1")
    col.add("a", [10, 20, 30, 40], 2, "s2")          # duplicate
    col.add("b", [30, 40, 10, 20], 3, "s3")          # swapped
    col.add("c", [-5, 0, 1200, 10], 4, "s4")         # clipped
    col.add("d", [1, 2, 3], 5, "s5")                 # wrong count
    col.add("###", [1, 1, 2, 2, 3, 3, 4, 4], 6, "s6")  # quad, dont-care
    res = col.result()
    rep = res.report
    assert (rep.objects, rep.duplicates, rep.swapped, rep.clipped, rep.unparsed) == (5, 1, 1, 1, ["s5"])
    assert [r.text for r in res.regions] == ["a", "b", "c", "###"]
    assert res.regions[1].bbox() == (10, 20, 30, 40)
    assert res.regions[2].bbox() == (0, 0, 1000, 10)
    assert res.regions[3].dont_care and res.regions[3].polygon == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert [r.line for r in res.regions] == [1, 3, 4, 6]
    assert not rep.ok


def test_scan_accounts_for_gaps():
    obj = re.compile(r"<o>(\w+)</o>")
    start = re.compile(r"<o>")
    rep = ParseReport()
    found = [m.group(1) for m in scan("hi <o>a</o> <o>b</x> mid <o>c</o> <o>d", obj, start, rep)]
    assert found == ["a", "c"]
    assert rep.extra_text == ["hi"]
    assert rep.unparsed == ["<o>b</x> mid", "<o>d"] and rep.truncated == 1


def test_report_ok_and_dict():
    rep = ParseReport(objects=3, duplicates=1, clipped=2)
    assert rep.ok and rep.to_dict()["clipped"] == 2
    assert not ParseReport(truncated=1).ok


def test_region_polygon_order_is_clockwise_from_top_left():
    col = Collector(normalised_grid((100, 100), 100))
    col.add("t", [10, 20, 30, 40], None, "")
    assert col.regions[0].polygon == [(10, 20), (30, 20), (30, 40), (10, 40)]
    assert isinstance(col.regions[0], Region)


# ------------------------------------------------------------------- fast per-region encoding (det's fast path)

#: Codecs with every shape and option an encoder has: each family, InternVL's quads, unfenced Qwen2.5-VL JSON.
ENCODER_CODECS = [(family, {}) for family in family_names()] + [("internvl", {"shape": "quad"}),
                                                         ("qwen2_5_vl", {"fence": False})]

NAN, INF = float("nan"), float("inf")


def _raised(f, *args):
    """``(exception type, message)`` that ``f(*args)`` raises, or ``(None, result)``."""
    try:
        return None, f(*args)
    except Exception as e:  # noqa: BLE001 -- the point is to compare whatever is raised
        return type(e), str(e)


def _careful_box(grid, box):
    x1, y1, x2, y2 = box
    return [*grid.encode(x1, y1), *grid.encode(x2, y2)]


def _grids():
    yield normalised_grid((1280, 720), 1000)
    yield normalised_grid((1280, 720), 1000, floor=True)
    yield normalised_grid((1000, 1400), 999)
    yield normalised_grid((7, 3), 1000)
    yield normalised_grid((1280.0, 719.5), 1000)                 # float sizes (check_image_size allows them)
    yield Grid((1080, 1527), 840, 1176, 840, 1176)                # Qwen2.5-VL's resized pixels
    yield Grid((100, 100), 1000, 1000, 999, 500)                  # units over max: the grid clip is needed
    yield Grid((100, 100), 1000, 1000, 999, 500, floor=True)


def _tricky_boxes(w, h):
    """Pixel boxes at and beyond the image border, on rounding ties, NaN, ints, -0.0 and numpy floats."""
    half = (0.5 / 1000) * w  # x / w * 1000 == 0.5 for this x: a rounding tie (round half to even)
    values = [0, 0.0, -0.0, -1, -1e-9, 1e-9, half, 3 * half, 2.5, w, float(w), w + 1, w * 2.0, h, h - 0.5,
              1 / 3, 12345.678, INF, -INF, np.float64(w / 3), np.float32(2.5), np.int64(5)]
    rng = np.random.default_rng(0)
    boxes = [tuple(rng.choice(len(values), 4)) for _ in range(300)]
    out = [tuple(values[i] for i in b) for b in boxes]
    out += [(x / 8, y / 8, x / 8 + 1, y / 8 + 1) for x in range(0, 8 * int(w) + 16, 7) for y in (0, 3)]
    out += [(NAN, 1, 2, 3), (1, NAN, 2, 3), (1, 2, NAN, 3), (1, 2, 3, NAN)]
    return out


@pytest.mark.parametrize("text_last", [False, True])
def test_box_formatter_writes_what_grid_encode_gives(text_last):
    """Grid.box_formatter against Grid.encode on tricky values, both with and without the grid clip."""
    for g in _grids():
        if text_last:
            fast, careful = g.box_formatter("[%d, %d, %d, %d] %s", True), "[{}, {}, {}, {}] {}"
        else:
            fast, careful = g.box_formatter("<%s>(%d,%d),(%d,%d)"), "<{4}>({0},{1}),({2},{3})"
        for box in _tricky_boxes(*g.image_size):
            want = _raised(lambda b: careful.format(*_careful_box(g, b), "t"), box)
            assert _raised(fast, "t", box) == want, (g, box)


def test_region_bbox_is_region_bbox():
    polys = [[(1, 2), (3.0, 4), (1.0, 2.0), (0, 9)],                    # ties between int and float values
             [(NAN, 1), (2, NAN), (0, 0), (5, 5)], [(1, 1), (NAN, 2), (0, NAN), (4, 4)],
             [(-0.0, 0.0), (0.0, -0.0), (0, 0), (1, 1)], [(5, 5), (4, 4), (3, 3), (2, 2)],
             [(1, 1), (2, 2), (3, 3)], [(1, 1), (2, 2), (3, 3), (4, 4), (0, 9)],  # not 4 vertices
             [(1, 1, 7), (2, 2, 7), (3, 3, 7), (4, 4, 7)],                   # points with 3 values
             [np.array([1.0, 2.0]), np.array([3.0, 0.5]), (2, 2), (0, 1)], [], [(1,), (2,), (3,), (4,)]]
    for poly in polys:
        r = Region(polygon=poly, text="t")
        fast, careful = _raised(region_bbox, r), _raised(Region.bbox, r)
        assert repr(fast) == repr(careful), poly  # repr: NaN != NaN, and int/float and -0.0 must match too
        if fast[0] is None:
            assert [type(v) for v in fast[1]] == [type(v) for v in careful[1]]


def _objects(codec, regions, size, with_box):
    enc = codec.object_encoder(size)
    return codec.join_objects([enc(r, r.bbox()) if with_box else enc(r) for r in regions])


@pytest.mark.parametrize("family,params", ENCODER_CODECS)
def test_object_encoder_matches_encode_on_real_data(family, params, real_samples):
    """Every ICDAR 2015 / SROIE page: the per-region encoder, joined, is the codec's encode, byte for byte."""
    codec = get_codec(family, **params)
    for s in real_samples:
        care = s.care_regions()
        for size in (s.image_size, (s.image_size[0] // 2 + 1, s.image_size[1] // 3 + 1)):  # also regions outside
            want = codec.encode(care, size)
            assert _objects(codec, care, size, with_box=False) == want, s.source
            assert _objects(codec, care, size, with_box=True) == want, s.source
            assert codec.join_objects([]) == codec.encode([], size)


@pytest.mark.parametrize("family,params", ENCODER_CODECS)
def test_object_encoder_refuses_what_encode_refuses(family, params):
    """Same text or error, region by region, on regions the formats cannot carry and on broken geometry."""
    codec = get_codec(family, **params)
    size = (640, 480)
    quad = [(10.5, 20.0), (300.25, 22.0), (301.0, 80.5), (9.0, 78.0)]
    texts = ["plain", "two\nlines", "cr\rhere", "<ref>x", "x</ref>", "<|ref|>x", "<|/ref|>", "<|box_end|>",
             "<|object_ref_end|>", 'quote " back\\slash é 汉 \u2028', "50%d", "{0} {}", ""]
    regions = [Region(quad, t) for t in texts] + [
        Region(quad[:3], "three"), Region(quad + [(5, 5)], "five"), Region([], "empty"),
        Region([(NAN, 1), (2, 3), (4, 5), (6, 7)], "nan"),
        Region([(-50, -5), (9999, -5), (9999, 9999), (-50, 9999)], "outside")]
    enc = codec.object_encoder(size)
    for r in regions:
        want = _raised(lambda x: codec.encode([x], size), r)
        assert _raised(lambda x: codec.join_objects([enc(x)]), r) == want, r.text
    for bad in ((0, 10), (10, -1), (NAN, 5), "ab"):
        with pytest.raises(ValueError) as fast:
            codec.object_encoder(bad)
        with pytest.raises(ValueError) as careful:
            codec.encode([regions[0]], bad)
        assert str(fast.value) == str(careful.value)


def test_box_grid_array_values_are_the_formatters_values():
    """box_grid_array (numpy, many images at once) against Grid.box_formatter's ints on the tricky finite boxes
    of every grid kind, all grids in one call (grouped rows)."""
    from swift_ocr.codecs.grid import box_grid_array

    grids, boxes, counts, want = [], [], [], []
    for g in _grids():
        fmt = g.box_formatter("%s %d %d %d %d")
        finite = [b for b in _tricky_boxes(*g.image_size) if all(np.isfinite(float(v)) for v in b)]
        grids.append(g)
        counts.append(len(finite))
        boxes.extend([float(v) for v in b] for b in finite)
        want.extend([int(v) for v in fmt("t", b).split()[1:]] for b in finite)
    got = box_grid_array(np.array(boxes), grids, counts).tolist()
    assert got == want and all(type(v) is int for row in got for v in row)
    assert box_grid_array(np.zeros((0, 4)), [], []).tolist() == []


@pytest.mark.parametrize("family,params", ENCODER_CODECS)
def test_box_format_renders_the_object_encoders_objects(family, params, real_samples):
    """A family's BoxFormat (template, text, grid values) writes what its object encoder writes, on every real
    page at its own size and at a smaller one (regions outside the image); None for quad shapes."""
    from swift_ocr.codecs.grid import box_grid_array

    codec = get_codec(family, **params)
    for s in real_samples:
        for size in (s.image_size, (s.image_size[0] // 2 + 1, s.image_size[1] // 3 + 1)):
            fmt = codec.box_format(size)
            if fmt is None:
                # qwen2_vl's points and paddleocr_vl's 8 corner values repeat grid values: no 4-field template
                assert params.get("shape") == "quad" or family in ("qwen2_vl", "paddleocr_vl")
                continue
            care = s.care_regions()
            enc = codec.object_encoder(size)
            values = box_grid_array(np.array([r.bbox() for r in care], dtype=float), [fmt.grid], [len(care)]).tolist()
            assert [fmt.render(fmt.text(r), v) for r, v in zip(care, values)] == [enc(r) for r in care], s.source
