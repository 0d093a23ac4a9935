"""Word-box reader on the project's data_templates (text known from the rendered strings)."""
import importlib.util
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swift_ocr.errors import OcrFormatError
from swift_ocr.formats import open_source, wordbox
from swift_ocr.formats.text_io import load_json_bytes
from swift_ocr.formats.wordbox import read_wordbox_file
from swift_ocr.sample import Region, Sample


def expected_texts(data_templates):
    rows = (data_templates / "wordbox/expected.tsv").read_text(encoding="utf-8").splitlines()
    return {stem: text.replace("\\n", "\n") for stem, text in (r.split("\t", 1) for r in rows)}


def test_data_templates_text_and_lines(data_templates):
    expected = expected_texts(data_templates)
    reader = open_source("wordbox", input_path=str(data_templates / "wordbox"))
    assert reader.rejections == []
    seen = {}
    for key, sample in reader.iter_samples():
        stem = key.rsplit("/", 1)[1].rsplit(".", 1)[0]
        seen[stem] = sample
        assert sample.text == expected[stem]
        assert [r.text for r in sample.regions] == expected[stem].split("\n")
        w, h = sample.image_size
        for r in sample.regions:
            x1, y1, x2, y2 = r.bbox()
            assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
    assert set(seen) == set(expected)


def test_order_not_file_order(data_templates, tmp_path):
    label = next(p for p in sorted((data_templates / "wordbox/labels").glob("*.json"))
                 if [c[4] for c in json.loads(p.read_text(encoding="utf-8"))] !=
                 sorted(c[4] for c in json.loads(p.read_text(encoding="utf-8"))))
    chars = json.loads(label.read_text(encoding="utf-8"))
    file_order_text = "".join(c[5] for c in chars)
    sample = read_wordbox_file(label)
    assert sample.text != file_order_text
    assert sample.text == expected_texts(data_templates)[label.stem]


@pytest.mark.parametrize("content, fragment, kind", [
    ("[]", "empty character list", "empty_label"),
    ('{"chars": []}', "empty character list", "empty_label"),
    ("[[1, 2, 3, 4, 0]]", "expected [x1, y1, x2, y2, order, char]", "bad_record"),
    ('[[1, 2, "a", 4, 0, "x"]]', "not numeric", "bad_coordinates"),
    ("[[1, 2, 1e999, 4, 0, \"x\"]]", "non-finite", "bad_coordinates"),
    ("[[1, 2, 1" + "0" * 400 + ", 4, 0, \"x\"]]", "not numeric", "bad_coordinates"),  # too large for a float
    ("[[1, 2,", "invalid JSON", "invalid_json"),
    ("[" * 100000, "invalid JSON", "invalid_json"),  # nested too deeply for the parser
    ('{"a": 1}', "expected a JSON list", "bad_record"),
])
def test_bad_files_are_reported(tmp_path, content, fragment, kind):
    p = tmp_path / "x.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(OcrFormatError) as e:
        read_wordbox_file(p)
    assert str(p) in str(e.value) and fragment in str(e.value) and e.value.kind == kind


def test_lines_without_newline_entries():
    from swift_ocr.formats.wordbox import group_lines, parse_wordbox
    chars = parse_wordbox([[0, 0, 10, 10, 0, "A"], [10, 0, 20, 10, 1, "B"], [0, 20, 10, 30, 2, "C"]], "t.json")
    assert [r.text for r in group_lines(chars)] == ["AB", "C"]


# --------------------------------------------------------------------------------------------------------------------
# The fast path (_fast_columns + _group_columns) against the reader as it was before it: _parse_char on every entry,
# a stable sort, and the original tuple-by-tuple group_lines, kept here as the reference.


def reference_group_lines(chars):
    lines = [[]]
    for box, _, char in chars:
        if char == "\n":
            lines.append([])
            continue
        current = lines[-1]
        if current:
            prev = current[-1][0]
            if box[0] < prev[0] and (box[1] + box[3]) / 2 > prev[3]:
                lines.append([])
        lines[-1].append((box, char))
    regions = []
    for chars_of_line in lines:
        text = "".join(c for _, c in chars_of_line).strip()
        if not text:
            continue
        boxes = [b for b, c in chars_of_line if c.strip()]
        x1, y1 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x2, y2 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        regions.append(Region(polygon=[(x1, y1), (x2, y1), (x2, y2), (x1, y2)], text=text))
    return regions


def reference_parse(data, source):
    if isinstance(data, dict) and isinstance(data.get("chars"), list):
        data = data["chars"]
    if not isinstance(data, list):
        raise OcrFormatError(source, None, f"expected a JSON list of characters, got {type(data).__name__}",
                             "bad_record")
    if not data:
        raise OcrFormatError(source, None, "empty character list (no text in this image)", "empty_label")
    chars = [wordbox._parse_char(e, source, i) for i, e in enumerate(data)]
    chars.sort(key=lambda c: c[1])
    return chars


def reference_sample(data: bytes, source: str) -> Sample:
    chars = reference_parse(load_json_bytes(data, source), source)
    return Sample(images=[], text="".join(c for _, _, c in chars), regions=reference_group_lines(chars), source=source)


def outcome(fn, *args):
    """``("ok", repr(result))`` or ``("error", message, kind, line)``; repr() tells -0.0 from 0.0, == does not."""
    try:
        return ("ok", repr(fn(*args)))
    except OcrFormatError as e:
        return ("error", str(e), e.kind, e.line)


def assert_same_as_reference(content: bytes, source: str = "labels/x.json", fast: bool = None):
    """parse_wordbox_bytes and parse_wordbox give what the reference gives (result or error); ``fast``: whether the
    fast path must take (True) or refuse (False) this content."""
    assert outcome(wordbox.parse_wordbox_bytes, content, source) == outcome(reference_sample, content, source)
    try:
        value = load_json_bytes(content, source)
    except OcrFormatError:
        return
    assert outcome(wordbox.parse_wordbox, value, source) == outcome(reference_parse, value, source)
    if fast is not None:
        try:
            entries = wordbox._char_list(value, source)
        except OcrFormatError:
            assert not fast
            return
        assert (wordbox._fast_columns(entries) is not None) == fast


def char_boxes_of_lines(lines, as_int: bool):
    """Per-character word-box entries for text lines given as (axis-aligned box, text): the box split evenly."""
    entries = []
    for (x1, y1, x2, y2), text in lines:
        width = (x2 - x1) / max(1, len(text))
        for i, ch in enumerate(text):
            box = [x1 + i * width, y1, x1 + (i + 1) * width, y2]
            entries.append([round(v) for v in box] if as_int else [round(v, 2) for v in box])
            entries[-1] += [len(entries) - 1, ch]
    return entries


def real_lines(shared_data):
    """(file stem, [(box, text)]) of the real SROIE receipts and ICDAR 2015 photos (their line quads' boxes)."""
    files = sorted((shared_data / "sroie/box").glob("*.csv")) + sorted((shared_data / "icdar2015/gts").glob("*.txt"))
    assert len(files) >= 20
    for path in files:
        lines = []
        for row in path.read_text(encoding="utf-8-sig", errors="replace").splitlines():
            parts = row.split(",", 8)
            if len(parts) < 9:
                continue
            xs, ys = [float(v) for v in parts[0:8:2]], [float(v) for v in parts[1:8:2]]
            lines.append(((min(xs), min(ys), max(xs), max(ys)), parts[8]))
        yield path.stem, lines


def real_wordbox_variants(shared_data):
    """Word-box JSON files made from the real line boxes, in the variants real files come in."""
    rng = random.Random(0)
    for stem, lines in real_lines(shared_data):
        plain = char_boxes_of_lines(lines, as_int=True)  # lines split by position only
        yield f"{stem}-int", plain
        shuffled = [list(e) for e in plain]
        rng.shuffle(shuffled)
        yield f"{stem}-shuffled", shuffled
        floats = char_boxes_of_lines(lines, as_int=False)
        yield f"{stem}-float", {"chars": floats}
        with_newlines = char_boxes_of_lines([(box, text + "\n") for box, text in lines], as_int=True)
        yield f"{stem}-newlines", with_newlines
        odd = [list(e) for e in floats]
        for e in odd[::3]:
            e[0], e[2] = e[2], e[0]  # corners given right-to-left / bottom-to-top
        for e in odd[1::4]:
            e[1], e[3] = e[3], e[1]
        for e in odd:
            e[4] = e[4] // 2 * 10  # gaps and ties in the order numbers
        yield f"{stem}-swapped", odd


def test_fast_path_equals_careful_path_on_real_lines(shared_data):
    n = 0
    for name, value in real_wordbox_variants(shared_data):
        if not (value["chars"] if isinstance(value, dict) else value):
            continue
        assert_same_as_reference(json.dumps(value, ensure_ascii=False).encode("utf-8"), f"labels/{name}.json",
                                 fast=True)
        n += 1
    assert n >= 100


def test_fast_path_equals_careful_path_on_templates_and_synthetic(data_templates, tmp_path):
    spec = importlib.util.spec_from_file_location("_synth", Path(__file__).resolve().parents[2] / "benchmarks/synth.py")
    synth = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synth)
    root = Path(synth.write_wordbox_dataset(str(tmp_path / "wb"), n_files=30, chars_per_file=120, seed=3))
    labels = sorted((data_templates / "wordbox/labels").glob("*.json")) + sorted((root / "labels").glob("*.json"))
    assert len(labels) >= 30
    for path in labels:
        assert_same_as_reference(path.read_bytes(), str(path), fast=True)
        assert repr(read_wordbox_file(path)) == repr(reference_sample(path.read_bytes(), str(path)))


@pytest.mark.parametrize("value, fast", [
    ([[0, 0, 10, 10, 0, "a"]], True),
    ([[0, 0, 10, 10, 0, "a"], [1, 2, 3, 4, 0, "b"], [-1, 0, 5, 5, -3, "c"]], True),  # ties keep file order
    ([[10, 10, 0, 0, 0, "a"], [0.0, 0.0, -0.0, -0.0, 1, "b"], [-0.0, 0, 0.0, 0, 2, " "]], True),  # zero signs
    ([[True, False, 3, 4, 0, "a"]], True),  # float(True): the careful path accepts booleans too
    ([["1.5", "2", " 3 ", "4e0", "0", "a"]], True),  # and numeric strings
    ([[0, 0, 1, 1, 2 ** 60, "a"], [0, 0, 1, 1, 2 ** 60 + 1, "b"]], True),  # orders equal as floats: file order
    ([[0, 0, 1e308, 1e308, 0, "a"], [0, 0, 1e308, 1e308, 1, "b"]], False),  # sum overflows: careful path, same
    ([[0, 0, 1, 1, 0, ""], [0, 0, 1, 1, 1, "ab"], [5, 5, 6, 6, 2, "\u3000"], [0, 9, 1, 10, 3, "\n"]], True),
    ([[0, 0, 1, 1, 0, "a"], (0, 0, 1, 1, 1, "b")], True),
    # a blank character holds an extreme of the line (first among equals): its box does not count
    ([[0, 0, 4, 4, 0, " "], [0, 1, 4, 4, 1, "a"], [-1, 1, 5, 5, 2, " "], [1, 2, 5, 5, 3, "b"], [2, -1, 3, 5, 4, " "]],
     True),
    ([[0, 0, 4, 4, 0, "a"], [0, 0, 4, 4, 1, "\u3000"], [0, 0, 4, 9, 2, "\t"], [1, 1, 2, 2, 3, "b"]], True),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, 1, 1, 1]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, 1, 1, 1, "b", "c"]], False),
    ([[0, 0, 1, 1, 0, "a"], "abcdef"], False),
    ([[0, 0, 1, 1, 0, "a"], "12340x"], False),  # 6 long, and float() takes its first 5 characters
    ([[0, 0, 1, 1, 0, "a"], {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}], False),
    ([[0, 0, 1, 1, 0, "a"], {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "x": 6}], False),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, 1, 1, 0, 5]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, None, 1, 1, 0, "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, [1], 1, 1, 0, "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, 1, 10 ** 400, 0, "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, 1, 1, float("nan"), "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [float("nan"), 0, 1, 1, 0, "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, float("nan"), 1, 1, 0, "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, float("nan"), 1, 0, "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, 1, float("nan"), 0, "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, float("inf"), 1, 0, "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, float("-inf"), float("inf"), 0, "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, "nan", 1, 0, "b"]], False),
    ([[0, 0, 1, 1, 0, "a"], [0, 0, "x", 1, 0, "b"]], False),
    ({"chars": [[0, 0, 1, 1, 0, "a"]]}, True),
    ({"chars": "x"}, False),
    ([], False),
    ("x", False),
])
def test_fast_path_takes_only_plain_entries_and_matches_the_careful_path(value, fast):
    assert_same_as_reference(json.dumps(value).encode("utf-8"), fast=fast)


def test_unreadable_label_file_errors_unchanged(tmp_path):
    label = tmp_path / "x.json"
    label.write_text('[[0, 0, 1, 1, 0, "a"]]', encoding="utf-8")
    assert read_wordbox_file(str(label) + "/").text == "a"  # pathlib reads "x.json/" as "x.json"
    for path, kind in ((tmp_path / "missing.json", "file_not_found"), (tmp_path, "unreadable_file")):
        with pytest.raises(OcrFormatError) as e:
            read_wordbox_file(path)
        try:
            Path(path).read_bytes()
        except OSError as os_error:
            expected = f"{path}: cannot read label file: {os_error}"
        assert str(e.value) == expected and e.value.kind == kind


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# small coordinates (many equal values, both zero signs, lines that go back left) and the odd values JSON can carry
coordinate = st.one_of(st.integers(0, 12), st.sampled_from([0.0, -0.0, 0.5, 3.25, -1.0]), st.floats(-20, 20))
odd_number = st.one_of(st.booleans(), st.none(), st.floats(), st.integers(-10 ** 400, 10 ** 400),
                       st.sampled_from([2 ** 53, 2 ** 53 + 1, 1e308, -1e308, 10 ** 309, "1", " 2.5 ", "nan", "x"]),
                       st.lists(st.integers(0, 3), max_size=2))
char_text = st.one_of(st.sampled_from(["a", "b", " ", "", "\n", "\u3000", "\t", "ab", " x ", "\n\n"]),
                      st.text(st.characters(blacklist_categories=("Cs",)), max_size=2))
well_formed = st.lists(st.tuples(coordinate, coordinate, coordinate, coordinate, st.integers(-3, 30), char_text)
                       .map(list), min_size=1, max_size=25)
odd_entry = st.one_of(
    st.tuples(odd_number | coordinate, odd_number | coordinate, odd_number | coordinate, odd_number | coordinate,
              odd_number | st.integers(0, 5), char_text | odd_number).map(list),
    st.lists(coordinate | char_text, min_size=5, max_size=7),
    st.text(max_size=6), st.dictionaries(st.text(max_size=2), st.integers(), max_size=6), st.none())
tricky = st.lists(st.one_of(well_formed.map(lambda e: e[0]), odd_entry), max_size=8)


@SETTINGS
@given(well_formed, st.booleans())
def test_fast_path_equals_careful_path_well_formed(value, wrapped):
    content = json.dumps({"chars": value} if wrapped else value).encode("utf-8")
    assert_same_as_reference(content, fast=True)
    chars = reference_parse(value, "x.json")
    assert repr(wordbox.group_lines(chars)) == repr(reference_group_lines(chars))


@SETTINGS
@given(tricky)
def test_fast_path_equals_careful_path_tricky(value):
    assert_same_as_reference(json.dumps(value).encode("utf-8"))  # NaN, Infinity and huge integers included
    # and on Python values that JSON cannot give (tuples, the huge integers unchanged)
    assert outcome(wordbox.parse_wordbox, value, "x.json") == outcome(reference_parse, value, "x.json")
    tupled = [tuple(e) if isinstance(e, list) else e for e in value]
    assert outcome(wordbox.parse_wordbox, tupled, "x.json") == outcome(reference_parse, tupled, "x.json")
