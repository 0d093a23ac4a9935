"""Property-based tests (hypothesis) for the ICDAR and word-box parsers and the region geometry checks.

Arbitrary input never crashes a parser with anything but :class:`OcrFormatError` (whose message names the file),
and well-formed input always parses back to what was written.
"""
import json
import math
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swift_ocr.errors import KINDS, OcrFormatError
from swift_ocr.formats.geometry import MIN_REGION_AREA, check_region
from swift_ocr.formats.icdar import parse_icdar_bytes
from swift_ocr.formats.text_io import nfkc
from swift_ocr.formats.wordbox import parse_wordbox_bytes
from swift_ocr.sample import Region

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOURCE = "labels/gt_x.txt"
# characters str.splitlines() ends a line at: they cannot occur inside one ICDAR line
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def check_error(e: OcrFormatError):
    assert str(e).startswith(SOURCE) and e.kind in KINDS and e.reason


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from([None, "utf-8", "gbk", "latin-1"]))
def test_icdar_arbitrary_bytes(data, encoding):
    try:
        regions = parse_icdar_bytes(data, SOURCE, encoding)
    except OcrFormatError as e:
        check_error(e)
        return
    for r in regions:
        assert len(r.polygon) == 4 and all(math.isfinite(v) for p in r.polygon for v in p)
        assert not any(c in r.text for c in LINE_BREAKS)
    assert [r.line for r in regions] == sorted({r.line for r in regions})


# lines built from ICDAR-ish fragments hit the parser's branches far more often than random bytes
fragment = st.sampled_from(["1", "-2.5", "1e3", "nan", "inf", "x", "", " 7 ", ",", "###", '"a,b"', "\r\n", "\n",
                            "\ufeff", "é", "韩", "\x00", "1e999", "0x10", "1_0"])


@SETTINGS
@given(st.lists(fragment, max_size=40))
def test_icdar_arbitrary_fragments(parts):
    data = "".join(parts).encode("utf-8")
    try:
        parse_icdar_bytes(data, SOURCE)
    except OcrFormatError as e:
        check_error(e)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
text = st.text(st.characters(blacklist_characters=LINE_BREAKS, blacklist_categories=("Cs",)), max_size=30).filter(
    lambda t: not (len(t) >= 2 and t[0] == '"' and t[-1] == '"'))


@SETTINGS
@given(st.lists(st.tuples(st.lists(finite, min_size=8, max_size=8), text), min_size=1, max_size=8),
       st.sampled_from(["\n", "\r\n"]), st.booleans(), st.sampled_from(["utf-8", "gb18030"]))
def test_icdar_well_formed_round_trip(lines, newline, bom, encoding):
    body = newline.join(",".join(repr(c) for c in coords) + "," + t for coords, t in lines) + newline
    data = body.encode(encoding)
    if bom and encoding == "utf-8":
        data = b"\xef\xbb\xbf" + data
    regions = parse_icdar_bytes(data, SOURCE, None if encoding == "utf-8" else encoding)
    assert [r.text for r in regions] == [t for _, t in lines]
    assert [r.polygon for r in regions] == [[(c[i], c[i + 1]) for i in range(0, 8, 2)] for c, _ in lines]
    assert [r.line for r in regions] == list(range(1, len(lines) + 1))
    # do-not-care is decided on the NFKC form (issue 19 case 3: a full-width ＃＃＃ is a marker too)
    assert [r.dont_care for r in regions] == [unicodedata.normalize("NFKC", t).strip() == "###" for _, t in lines]


@SETTINGS
@given(st.binary(max_size=300))
def test_wordbox_arbitrary_bytes(data):
    try:
        parse_wordbox_bytes(data, SOURCE)
    except OcrFormatError as e:
        check_error(e)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=7) | st.dictionaries(st.sampled_from(["chars", "x"]), children,
                                                                       max_size=2),
    max_leaves=30)
entry = st.lists(st.one_of(st.integers(-10 ** 400, 10 ** 400), st.floats(), st.text(max_size=3), st.none()),
                 min_size=5, max_size=7)


@SETTINGS
@given(st.one_of(json_values, st.lists(entry, max_size=6), st.fixed_dictionaries({"chars": st.lists(entry)})))
def test_wordbox_arbitrary_json(value):
    data = json.dumps(value).encode("utf-8")  # NaN/Infinity and huge integers included
    try:
        sample = parse_wordbox_bytes(data, SOURCE)
    except OcrFormatError as e:
        check_error(e)
        return
    assert isinstance(sample.text, str) and sample.text


char = st.tuples(finite, finite, finite, finite, st.integers(-1000, 1000),
                 st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=2))


@SETTINGS
@given(st.lists(char, min_size=1, max_size=20), st.booleans())
def test_wordbox_well_formed(chars, wrapped):
    value = [list(c) for c in chars]
    sample = parse_wordbox_bytes(json.dumps({"chars": value} if wrapped else value).encode("utf-8"), SOURCE)
    assert sample.text == "".join(c[5] for c in sorted(chars, key=lambda c: c[4]))  # stable sort by order
    for r in sample.regions:
        x1, y1, x2, y2 = r.bbox()
        assert x1 <= x2 and y1 <= y2 and r.text.strip()


coord = st.floats(-300, 1300, allow_nan=False)


@SETTINGS
@given(st.lists(st.tuples(coord, coord), min_size=4, max_size=4), st.tuples(st.integers(1, 1000), st.integers(1, 1000)))
def test_check_region_gives_a_usable_polygon_or_an_issue(points, size):
    from shapely.geometry import Polygon
    region = check_region(Region(points, "t", line=1), size, SOURCE)
    if region.issue is not None:
        assert region.issue.kind in ("degenerate_region", "outside_image", "self_intersecting")
        assert region.polygon == points and region.issue.line == 1
        return
    w, h = size
    assert all(0 <= x <= w and 0 <= y <= h for x, y in region.polygon)
    poly = Polygon(region.polygon)
    assert poly.is_valid and poly.area >= MIN_REGION_AREA
    if all(0 <= x <= w and 0 <= y <= h for x, y in points):  # nothing to clip: the same points, maybe reordered
        assert sorted(region.polygon) == sorted(points)


@SETTINGS
@given(st.lists(st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=8),
                max_size=5))
def test_nfkc_line_by_line_equals_whole_text(lines):
    # the converter with --nfkc normalises the full text and each region separately: both must agree
    assert nfkc("\n".join(lines)) == "\n".join(nfkc(t) for t in lines)
