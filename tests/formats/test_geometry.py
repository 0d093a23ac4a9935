"""Region geometry: clipping into the image, bow-tie repair, degenerate and outside regions (shapely)."""
from collections import Counter

import pytest
from shapely.geometry import Polygon

from swift_ocr.formats.geometry import check_region, check_regions, clip_polygon, reorder_clockwise
from swift_ocr.sample import Region, Sample

SIZE = (1280, 720)  # the ICDAR 2015 photos


def test_clip_counts_each_changed_value():
    poly, n = clip_polygon([(-5, 10), (60, -3), (1300, 40), (-5, 800)], SIZE)
    assert poly == [(0, 10), (60, 0), (1280, 40), (0, 720)]
    assert n == 5


def test_bow_tie_is_reordered_keeping_the_first_corner():
    # ICDAR order should be TL, TR, BR, BL; this file gave TL, TR, BL, BR
    bow = [(96, 41), (353, 41), (96, 79), (353, 79)]
    assert not Polygon(bow).is_valid
    fixes = Counter()
    r = check_region(Region(bow, "TAN WOON YANN", line=1), SIZE, "gt.txt", fixes)
    assert r.issue is None and r.polygon == [(96, 41), (353, 41), (353, 79), (96, 79)]
    assert fixes == {"reordered_polygons": 1}
    # already clockwise: unchanged (the same object, nothing counted)
    good = Region([(96, 41), (353, 41), (353, 79), (96, 79)], "x")
    assert check_region(good, SIZE, "gt.txt", fixes) is good and fixes == {"reordered_polygons": 1}


def test_reorder_clockwise_on_screen():
    assert reorder_clockwise([(10, 0), (0, 10), (10, 10), (0, 0)]) == [(10, 0), (10, 10), (0, 10), (0, 0)]


@pytest.mark.parametrize("points, kind, fragment", [
    ([(50, 50)] * 4, "degenerate_region", "points equal or collinear"),
    ([(10, 10), (20, 20), (30, 30), (40, 40)], "degenerate_region", "points equal or collinear"),
    ([(1300, 10), (1400, 10), (1400, 40), (1300, 40)], "outside_image", "entirely outside the 1280x720 image"),
    ([(-40, -40), (-10, -40), (-10, -10), (-40, -10)], "outside_image", "entirely outside"),
    # a region that is mostly outside: clipping leaves a 0.02 px wide strip (0.6 px^2)
    ([(1279.98, 10), (1400, 10), (1400, 40), (1279.98, 40)], "degenerate_region", "after clipping"),
])
def test_unusable_regions_are_flagged_not_changed(points, kind, fragment):
    fixes = Counter()
    r = check_region(Region(points, "t", line=7), SIZE, "gt.txt", fixes)
    assert r.issue.kind == kind and fragment in r.issue.reason
    assert (r.issue.source, r.issue.line) == ("gt.txt", 7) and r.issue.reason.startswith("region at line 7 ('t')")
    assert r.polygon == points and not fixes  # flagged regions keep the source polygon; nothing counted


def test_unknown_size_means_no_clipping():
    r = check_region(Region([(-5, -5), (10, -5), (10, 10), (-5, 10)], "t"), None)
    assert r.issue is None and r.polygon[0] == (-5, -5)


def test_check_regions_counts_into_sample():
    s = Sample(images=["a.jpg"], text="a\nb", image_size=(100, 100), source="gt.txt", regions=[
        Region([(-5, 10), (60, 10), (60, 40), (-5, 40)], "a", line=1),
        Region([(90, 90), (120, 90), (120, 120), (90, 120)], "b", line=2)])
    check_regions(s)
    assert s.fixes == {"clipped_coordinates": 6, "clipped_regions": 2}
    assert s.regions[1].polygon == [(90, 90), (100, 90), (100, 100), (90, 100)]
