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


def _real_regions(shared_data):
    from swift_ocr.formats.icdar import read_icdar_file
    from swift_ocr.formats.layout import discover_pairs
    from swift_ocr.images import image_size

    out = []
    for root in (shared_data / "icdar2015", shared_data / "sroie"):
        pairs, _ = discover_pairs(root=root)
        for pair in pairs:
            size = image_size(pair.image)
            out += [(r, size) for r in read_icdar_file(pair.label).regions]
    return out


def _random_quads(n, seed=0):
    """Quads around the decision boundaries: coordinates on and just outside the image border, integers (equal
    points, collinear points), bow-ties, and tiny squares around MIN_REGION_AREA."""
    import random

    rng = random.Random(seed)
    size = (100, 50)
    out = []
    for _ in range(n):
        pts = [(rng.choice([rng.uniform(-5, 105), rng.randint(0, 100), 0, 100]),
                rng.choice([rng.uniform(-5, 55), rng.randint(0, 50), 0, 50])) for _ in range(4)]
        if rng.random() < 0.3:
            x, y, s = rng.uniform(0, 90), rng.uniform(0, 40), rng.uniform(0.5, 1.6)
            pts = [(x, y), (x + s, y), (x + s, y + s * rng.uniform(0.5, 1.5)), (x, y + s)]
        out.append((Region(pts, "t", line=1), size))
    return out


def _same(a: Region, b: Region) -> bool:
    return (a.polygon == b.polygon and a.text == b.text
            and (a.issue is None) == (b.issue is None)
            and (a.issue is None or (a.issue.kind, a.issue.reason) == (b.issue.kind, b.issue.reason)))


def test_fast_path_agrees_with_shapely_on_real_regions(shared_data):
    from swift_ocr.formats.geometry import check_region_shapely, plain_quad_inside

    regions = _real_regions(shared_data)
    assert len(regions) > 900  # every quad of the shared ICDAR 2015 and SROIE samples
    fast = 0
    for r, size in regions:
        f1, f2 = Counter(), Counter()
        got, ref = check_region(r, size, "gt", f1), check_region_shapely(r, size, "gt", f2)
        assert _same(got, ref) and f1 == f2, (r, size)
        if plain_quad_inside(r.polygon, size):
            fast += 1
            assert got is r and ref.polygon == r.polygon and ref.issue is None
    assert fast > 0.9 * len(regions)  # the fast path is the common case on real data


def test_fast_path_agrees_with_shapely_on_boundary_quads():
    from swift_ocr.formats.geometry import check_region_shapely, plain_quad_inside

    quads = _random_quads(4000)
    taken = declined = 0
    for r, size in quads:
        f1, f2 = Counter(), Counter()
        assert _same(check_region(r, size, "gt", f1), check_region_shapely(r, size, "gt", f2)) and f1 == f2, r
        if plain_quad_inside(r.polygon, size):
            taken += 1
        else:
            declined += 1
    assert taken > 200 and declined > 200  # both sides of the decision are exercised


@pytest.mark.parametrize("points, size", [
    ([(0, 0), (10, 0), (10, 10), (0, 10)], None),                          # size unknown
    ([(0, 0), (10, 0), (10, 10), (0, 10), (0, 5)], (100, 100)),            # not 4 points
    ([(0, 0), (10, 0), (0, 10), (10, 10)], (100, 100)),                    # bow-tie
    ([(0, 0), (10, 0), (10, 10), (-0.5, 10)], (100, 100)),                 # one x outside
    ([(0, 0), (1, 0), (1, 1), (0, 1)], (100, 100)),                        # area exactly MIN_REGION_AREA
    ([(0, 0), (10, 0), (20, 0), (0, 10)], (100, 100)),                     # a straight angle
    ([(0, 0), (10, 0), (10, float("nan")), (0, 10)], (100, 100)),          # NaN
])
def test_fast_path_declines_what_it_cannot_decide(points, size):
    from swift_ocr.formats.geometry import plain_quad_inside

    assert not plain_quad_inside(points, size)


def test_fast_path_takes_clockwise_quads_only():
    """A counter-clockwise quad is re-ordered by the careful path (issue 19), so the fast path must decline it."""
    from swift_ocr.formats.geometry import plain_quad_inside

    cw = [(10, 10), (50, 12), (48, 30), (9, 28)]
    assert plain_quad_inside(cw, SIZE) and not plain_quad_inside(cw[::-1], SIZE)


def test_vectorised_fast_path_decides_like_the_scalar_one(shared_data):
    """plain_quads_inside (numpy, all regions of a chunk at once) gives plain_quad_inside's answer for every quad:
    the real ICDAR 2015 / SROIE regions, the random boundary quads, and edge values (image edges, -0.0, NaN, inf,
    straight angles, the area limit)."""
    import math

    import numpy as np

    from swift_ocr.formats.geometry import plain_quad_inside, plain_quads_inside

    edge = [
        ([(0, 0), (1, 0), (1, 1), (0, 1)], (100, 100)),
        ([(0, 0), (1.001, 0), (1.001, 1), (0, 1)], (100, 100)),
        ([(-0.0, 0), (100, -0.0), (100, 50), (0, 50)], (100, 50)),
        ([(0, 0), (10, 0), (20, 0), (0, 10)], (100, 100)),
        ([(0, 0), (10, 0), (10, math.nan), (0, 10)], (100, 100)),
        ([(0, 0), (math.inf, 0), (10, 10), (0, 10)], (100, 100)),
        ([(0, 0), (10, 0), (0, 10), (10, 10)], (100, 100)),
        ([(5, 5), (5, 5), (5, 5), (5, 5)], (100, 100)),
        ([(100, 100), (0, 100), (0, 0), (100, 0)], (100, 100)),
        ([(0, 0), (0, 10), (10, 10), (10, 0)], (100, 100)),  # counter-clockwise: declined (re-ordered by shapely)
    ]
    quads = [(r.polygon, size) for r, size in _real_regions(shared_data) + _random_quads(4000)] + edge
    quads = [(p, s) for p, s in quads if len(p) == 4 and s is not None]
    coords = np.array([[v for pt in p for v in pt] for p, _ in quads], dtype=np.float64)
    got = plain_quads_inside(coords, [s[0] for _, s in quads], [s[1] for _, s in quads]).tolist()
    want = [plain_quad_inside(p, s) for p, s in quads]
    assert got == want
    assert 200 < sum(want) < len(want) - 200  # both answers are exercised
