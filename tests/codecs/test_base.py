"""Shared codec machinery: grids, the collector's parse policy and the scanner's accounting."""
from __future__ import annotations

import re

import pytest

from swift_ocr.codecs.base import Collector, Grid, ParseReport, normalised_grid, scan
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
