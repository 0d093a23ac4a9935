"""ICDAR quad reader on the real ICDAR 2015 and SROIE samples in ../shared/data."""
import pytest

from swift_ocr.errors import OcrFormatError
from swift_ocr.formats.icdar import parse_icdar_line, read_icdar_file, read_icdar_labels
from swift_ocr.formats.layout import discover_pairs


def raw_lines(path):
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return [ln for ln in data.decode("utf-8").splitlines() if ln.strip()]


def test_icdar2015_bom_and_dont_care(shared_data):
    gts = sorted((shared_data / "icdar2015" / "gts").glob("gt_img_*.txt"))
    assert len(gts) == 10
    bom_files = [p for p in gts if p.read_bytes().startswith(b"\xef\xbb\xbf")]
    assert bom_files, "the shared ICDAR 2015 sample is documented to contain BOM files"
    total_dc = 0
    for gt in gts:
        regions = read_icdar_labels(gt)
        lines = raw_lines(gt)
        assert len(regions) == len(lines)
        # the BOM must not leak into the first coordinate or text
        assert all("\ufeff" not in r.text for r in regions)
        dc_expected = sum(1 for ln in lines if ln.rsplit(",", 1)[-1].strip() == "###")
        assert sum(r.dont_care for r in regions) == dc_expected
        total_dc += dc_expected
        assert [r.line for r in regions] == list(range(1, len(lines) + 1))
    assert total_dc > 0


def test_icdar2015_first_region_of_img_1(shared_data):
    # values read by eye from the file: "377,117,463,117,465,130,378,130,Genaxis Theatre" (after the BOM)
    s = read_icdar_file(shared_data / "icdar2015/gts/gt_img_1.txt", shared_data / "icdar2015/imgs/img_1.jpg")
    r = s.regions[0]
    assert r.polygon == [(377, 117), (463, 117), (465, 130), (378, 130)]
    assert r.text == "Genaxis Theatre" and not r.dont_care
    assert s.image_size == (1280, 720)
    assert "###" not in s.text.split("\n")
    assert s.text.split("\n")[0] == "Genaxis Theatre"


def test_sroie_commas_inside_transcriptions(shared_data):
    pairs, rejections = discover_pairs(root=shared_data / "sroie")
    assert len(pairs) == 20 and rejections == []
    with_commas = 0
    for pair in pairs:
        s = read_icdar_file(pair.label, pair.image)
        lines = raw_lines(__import__("pathlib").Path(pair.label))
        # every ground-truth line is present in the full text, in order
        expected = [ln.split(",", 8)[8] for ln in lines]
        assert s.text.split("\n") == [t for t in expected if t != "###"]
        with_commas += sum("," in r.text for r in s.regions)
    assert with_commas > 0
    s = read_icdar_file(shared_data / "sroie/box/000.csv")
    assert "NO.53 55,57 & 59, JALAN SAGU 18," in s.text.split("\n")


def test_crlf_and_quoted(tmp_path, shared_data):
    lines = raw_lines(shared_data / "sroie/box/001.csv")
    p = tmp_path / "gt_x.txt"
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    regions = read_icdar_labels(p)
    assert [r.text for r in regions] == [ln.split(",", 8)[8] for ln in lines]
    assert parse_icdar_line('1,2,3,4,5,6,7,8,"a, b"').text == "a, b"


@pytest.mark.parametrize("line, fragment", [
    ("1,2,3,4,5,6,7,text", "expected 8 coordinates"),
    ("1,2,3,x,5,6,7,8,text", "'x' is not a number"),
    ("1,2,3,nan,5,6,7,8,text", "not finite"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, fragment):
    p = tmp_path / "gt_bad.txt"
    p.write_text("1,1,5,1,5,5,1,5,ok\n" + line + "\n", encoding="utf-8")
    with pytest.raises(OcrFormatError) as e:
        read_icdar_labels(p)
    assert f"{p}:2:" in str(e.value) and fragment in str(e.value)
    assert e.value.kind == "bad_coordinates" and e.value.line == 2


def test_empty_label_file_is_an_error(tmp_path):
    p = tmp_path / "gt_empty.txt"
    p.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(OcrFormatError, match="empty label file"):
        read_icdar_file(p)


def test_gb18030_label_file(tmp_path):
    p = tmp_path / "gt_zh.txt"
    p.write_bytes("0,0,10,0,10,5,0,5,韩国小馆\n".encode("gb18030"))
    assert read_icdar_labels(p)[0].text == "韩国小馆"
    assert read_icdar_labels(p, encoding="gbk")[0].text == "韩国小馆"


def test_encoding_fallbacks_are_counted(tmp_path, shared_data):
    p = tmp_path / "gt_zh.txt"
    p.write_bytes("0,0,10,0,10,5,0,5,韩国小馆\n".encode("gb18030"))
    assert read_icdar_file(p).fixes == {"gb18030_files": 1}
    assert read_icdar_file(p, encoding="gbk").fixes == {}  # asked for: nothing to report
    # UTF-16 with BOM (Windows Notepad's "Unicode")
    lines = raw_lines(shared_data / "sroie/box/000.csv")
    p16 = tmp_path / "gt_16.txt"
    p16.write_bytes("\r\n".join(lines).encode("utf-16"))
    s = read_icdar_file(p16)
    assert [r.text for r in s.regions] == [ln.split(",", 8)[8] for ln in lines] and s.fixes == {}


def test_bad_input_kinds(tmp_path):
    p = tmp_path / "gt_bin.txt"
    p.write_bytes(b"1,2,3,4,5,6,7,8,\xff\xfe\xff\n")
    with pytest.raises(OcrFormatError) as e:
        read_icdar_labels(p)
    assert e.value.kind == "bad_encoding"
    with pytest.raises(OcrFormatError) as e:
        read_icdar_labels(tmp_path / "gt_missing.txt")
    assert e.value.kind == "file_not_found"


def _careful(text, source="gt.txt"):
    """The line-by-line reference: parse_icdar_line on every non-blank line."""
    from swift_ocr.formats.text_io import split_label_lines

    return [parse_icdar_line(line, source, no) for no, line in split_label_lines(text)]


def _outcome(fn, text):
    try:
        return "ok", fn(text)
    except OcrFormatError as e:
        return "error", (e.source, e.line, e.kind, e.reason)


def test_fast_parse_equals_line_by_line_on_real_files(shared_data):
    from swift_ocr.formats.icdar import parse_icdar_text
    from swift_ocr.formats.text_io import decode_label_bytes

    files = sorted((shared_data / "icdar2015" / "gts").glob("*.txt"))
    files += sorted((shared_data / "sroie" / "box").glob("*.csv"))
    for f in files:
        text, _ = decode_label_bytes(f.read_bytes(), str(f))
        assert parse_icdar_text(text, "gt.txt") == _careful(text), f


@pytest.mark.parametrize("line", [
    "1,2,3,4,5,6,7,8,TOTAL, 12,00",         # commas in the transcription
    " 1 , 2,3,4,5,6,7,8,x",                 # blanks around numbers
    "1,2,3,4,5,6,7,8,\"quoted, text\"",
    "1,2,3,4,5,6,7,8,",                     # empty transcription
    "1e3,2,3,4,5,6,7,8,###",
    "1,2,3,4,5,6,7,inf,x", "1,2,3,4,5,6,7,nan,x", "1,2,3,4,5,6,7,-inf,x",
    "1e308,1e308,1e308,1e308,1,1,1,1,x",    # finite coordinates whose sum overflows: the careful path decides
    "1,2,3,4,5,6,7,eight,x", "1,2,3,4,5,6,7,8", "1,2,3", "1_000,2,3,4,5,6,7,8,x", "\u0661,2,3,4,5,6,7,8,x",
    "1,2,3,4,5,6,7,8,x\u2028y",             # a Unicode line separator inside a transcription
])
def test_fast_parse_equals_line_by_line_on_tricky_lines(line):
    from swift_ocr.formats.icdar import parse_icdar_text

    for text in (line, "\n\n" + line + "\r\n", "1,1,5,1,5,5,1,5,ok\r" + line):
        assert _outcome(lambda t: parse_icdar_text(t, "gt.txt"), text) == _outcome(_careful, text), text


def test_fast_parse_equals_line_by_line_on_generated_lines():
    from hypothesis import given, settings, strategies as st

    from swift_ocr.formats.icdar import parse_icdar_text

    field = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                      st.sampled_from(["", " 7 ", "1e400", "-0", "0x10", "1_0", "###", "\"a,b\"", "\t3"]),
                      st.text(max_size=6))
    line = st.lists(field, min_size=1, max_size=11).map(",".join)

    @settings(max_examples=400, deadline=None)
    @given(st.lists(line, min_size=1, max_size=4), st.sampled_from(["\n", "\r\n", "\r"]))
    def check(lines, newline):
        text = newline.join(lines)
        assert _outcome(lambda t: parse_icdar_text(t, "gt.txt"), text) == _outcome(_careful, text)

    check()
