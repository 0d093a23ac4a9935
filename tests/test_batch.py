"""The converter's batch fast path (swift_ocr.convert.outcome_fast) against the careful per-item path: the same outputs, byte for
byte, on the real data of ../shared/data, the data templates and generated odd items; and the fast path is really
taken for the ordinary items (else these comparisons would prove nothing)."""
import shutil
from pathlib import Path

import pytest

from swift_ocr.convert.api import ConvertOptions, convert
from swift_ocr.convert.outcome_fast import plain_lines
from swift_ocr.formats import open_source
from swift_ocr.families.prompts import build_query
from swift_ocr.tasks.core import TaskConfig

OPTION_SETS = [
    dict(task="rec", family="got"),
    dict(task="rec", family="got", val_ratio=0.3),
    dict(task="det", family="internvl"),
    dict(task="det", family="internvl", det_shape="quad", order="source"),
    dict(task="det", family="got", order="tb-rl"),
    dict(task="det", family="qwen2_vl"),
    dict(task="det", family="qwen2_5_vl"),
    dict(task="det", family="deepseek_ocr", max_boxes=3),  # long pages are tiled: the careful path
]


def _sources(shared_data: Path, data_templates: Path):
    return {"icdar2015": ("icdar", shared_data / "icdar2015"), "sroie": ("icdar", shared_data / "sroie"),
            "icdar_templates": ("icdar", data_templates / "icdar"),
            "wordbox_templates": ("wordbox", data_templates / "wordbox")}


def _convert_both(monkeypatch, tmp_path, fmt, root, read_options=None, **options):
    """Convert with and without the batch path; returns {batch: (report dict, {file name: text})}."""
    outs = {}
    for batch in (True, False):
        out = tmp_path / ("batch" if batch else "careful") / "x.jsonl"
        reader = open_source(fmt, input_path=str(root), **(read_options or {}))
        report = convert(reader, ConvertOptions(seed=3, workers=1, fast_path=batch, **options), str(out)).to_dict()
        report.pop("outputs")
        files = {p.name: p.read_text(encoding="utf-8").replace(str(out.parent), "OUT")
                 for p in sorted(out.parent.glob("x*.jsonl"))}
        outs[batch] = report, files
    return outs


def _plain_share(fmt, root, task: TaskConfig, **read_options) -> float:
    reader = open_source(fmt, input_path=str(root), **read_options)
    raw = [reader.read_raw(i) for i in range(len(reader.pairs))]
    lines = plain_lines(raw, task, build_query(task.instruction(), 1), None, reader.options)
    return sum(line is not None for line in lines) / len(lines)


@pytest.mark.parametrize("source", ["icdar2015", "sroie", "icdar_templates", "wordbox_templates"])
@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: "-".join(f"{v}" for v in o.values()))
def test_batch_path_writes_what_the_careful_path_writes(monkeypatch, tmp_path, shared_data, data_templates, source,
                                                        options):
    fmt, root = _sources(shared_data, data_templates)[source]
    outs = _convert_both(monkeypatch, tmp_path, fmt, root, **options)
    assert outs[True] == outs[False]
    assert outs[True][0]["train"] + outs[True][0]["val"] > 0


@pytest.mark.parametrize("read_options", [dict(check_images="header"), dict(nfkc=True), dict(check_images="decode")])
def test_batch_path_with_other_read_options(monkeypatch, tmp_path, shared_data, read_options):
    for task, family in (("rec", "got"), ("det", "internvl")):
        outs = _convert_both(monkeypatch, tmp_path / task, "icdar", shared_data / "icdar2015", read_options,
                             task=task, family=family)
        assert outs[True] == outs[False]


@pytest.mark.parametrize("source", ["icdar2015", "sroie", "wordbox_templates"])
def test_batch_path_takes_the_ordinary_items(shared_data, data_templates, source):
    fmt, root = _sources(shared_data, data_templates)[source]
    for task in (TaskConfig(task="rec"), TaskConfig(task="det", family="internvl")):
        assert _plain_share(fmt, root, task) > 0.5, task


def _odd_folder(root: Path, shared_data: Path) -> dict:
    """ICDAR items that are each plain, or not, for one reason; {stem: plain for (rec, internvl det)}."""
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    photo = shared_data / "icdar2015" / "imgs" / "img_1.jpg"  # 1280x720
    ok = "377,117,463,117,465,130,378,130,Genaxis Theatre\n"
    items = {
        "plain": (ok, (True, True)),
        "chinese_nfkc": (ok + "10,10,100,10,100,40,10,40,新加坡\n", (True, True)),
        "fullwidth": (ok + "10,10,100,10,100,40,10,40,ＴＯＴＡＬ\n", (True, True)),  # kept as written (NFKC opt-in)
        "ref_tag": (ok + "10,10,100,10,100,40,10,40,a</ref>b\n", (True, False)),  # internvl cannot carry it
        "empty_text": (ok + "10,10,100,10,100,40,10,40, \n", (True, False)),  # det: empty transcription
        "only_dont_care": ("10,10,100,10,100,40,10,40,###\n", (False, False)),  # rec: empty target
        "dont_care_too": (ok + "10,10,100,10,100,40,10,40,###\n", (True, True)),
        "concave": (ok + "10,10,100,10,50,20,10,40,dent\n", (False, False)),  # shapely decides
        "clipped": (ok + "-1,10,100,10,100,40,-1,40,edge\n", (False, False)),
    }
    for stem, (label, _) in items.items():
        shutil.copy(photo, root / "imgs" / f"{stem}.jpg")
        (root / "gts" / f"gt_{stem}.txt").write_text(label, encoding="utf-8")
    return {stem: plain for stem, (_, plain) in items.items()}


def test_batch_path_on_odd_items(monkeypatch, tmp_path, shared_data):
    expected = _odd_folder(tmp_path / "odd", shared_data)
    reader = open_source("icdar", input_path=str(tmp_path / "odd"))
    raw = [reader.read_raw(i) for i in range(len(reader.pairs))]
    stems = [Path(reader.pairs[i].image).stem for i in range(len(reader.pairs))]
    for k, task in enumerate((TaskConfig(task="rec"), TaskConfig(task="det", family="internvl"))):
        lines = plain_lines(raw, task, build_query(task.instruction(), 1), None, reader.options)
        assert {s: line is not None for s, line in zip(stems, lines)} == {s: p[k] for s, p in expected.items()}
    for task, family in (("rec", "got"), ("det", "internvl"), ("det", "qwen2_5_vl")):
        outs = _convert_both(monkeypatch, tmp_path / task / family, "icdar", tmp_path / "odd", task=task,
                             family=family)
        assert outs[True] == outs[False]
    # with the opt-in NFKC the full-width item is changed, so it is left to the careful path (which counts it)
    reader = open_source("icdar", input_path=str(tmp_path / "odd"), nfkc=True)
    raw = [reader.read_raw(i) for i in range(len(reader.pairs))]
    task = TaskConfig(task="rec")
    lines = plain_lines(raw, task, build_query(task.instruction(), 1), None, reader.options)
    assert {s for s, line in zip(stems, lines) if line is None} == {s for s, p in expected.items() if not p[0]} | {
        "fullwidth"}
    outs = _convert_both(monkeypatch, tmp_path / "nfkc", "icdar", tmp_path / "odd", dict(nfkc=True))
    assert outs[True] == outs[False] and outs[True][0]["fixes"]["nfkc_texts"] == 1


def test_batch_path_leaves_failed_reads_and_fixed_samples_to_the_careful_path(shared_data):
    reader = open_source("icdar", input_path=str(shared_data / "icdar2015"))
    sample = reader.read_raw(0)
    task = TaskConfig(task="rec")
    query = build_query(task.instruction(), 1)
    assert plain_lines([sample], task, query, None, reader.options)[0] is not None
    sample.fixes["gb18030_files"] += 1
    assert plain_lines([None, sample], task, query, None, reader.options) == [None, None]
    assert plain_lines([reader.read_raw(0)], TaskConfig(task="line"), query, None, reader.options) == [None]


def test_texts_are_checked_joined_as_one_by_one():
    """_plain_texts (the texts joined by NULs, checked once) answers as _plain_text on every text, for each NFKC
    setting: combining marks and Hangul jamo that would compose across the joint, compatibility characters,
    full-width punctuation, NULs inside texts, lone surrogates."""
    import itertools
    import random

    from swift_ocr.convert.outcome_fast import _plain_text, _plain_texts

    parts = ["abc", "", "e", "\u0301", "e\u0301", "\u00e9", "\u1100", "\u1161", "\u11a8", "\uac00", "ﬁ", "Ａ",
             "，", "收据", "\u00a0", "\x00", "a\x00\u0301", "\ud800", "x\udfff", "\u212b", "\u0344", "\u0f73"]
    rng = random.Random(11)
    cases = [list(c) for c in itertools.product(parts, repeat=2)]
    cases += [[rng.choice(parts) + rng.choice(parts) for _ in range(rng.randint(1, 5))] for _ in range(3000)]
    for texts in cases:
        for nfkc in (True, False):
            assert _plain_texts(texts, nfkc) == all(_plain_text(t, nfkc) for t in texts), (texts, nfkc)


def test_chunks_are_read_as_items_one_by_one(shared_data, tmp_path):
    """read_raw_range: each item's sample as read_raw gives it, or the error read_raw raises, in order."""
    from swift_ocr.errors import OcrFormatError

    root = tmp_path / "icdar"
    shutil.copytree(shared_data / "icdar2015", root)
    labels = sorted((root / "gts").iterdir())
    labels[1].write_bytes(b"1,2,3\n")  # malformed line
    labels[3].write_bytes(b"")  # empty label file
    reader = open_source("icdar", input_path=str(root))
    n = len(reader.pairs)

    def one(i):
        try:
            return reader.read_raw(i)
        except OcrFormatError as e:
            return e

    def same(a, b):
        if isinstance(a, OcrFormatError):
            return type(a) is type(b) and (a.kind, a.source, a.line, str(a)) == (b.kind, b.source, b.line, str(b))
        return a == b

    got = reader.read_raw_range(0, n)
    assert len(got) == n and sum(isinstance(x, OcrFormatError) for x in got) == 2
    assert all(same(a, one(i)) for i, a in enumerate(got))
    assert all(same(a, one(i)) for i, a in enumerate(reader.read_raw_range(2, 5), 2))
    assert reader.read_raw_range(4, 4) == []


@pytest.mark.parametrize("options", [dict(task="det", family="internvl"), dict(task="det", family="qwen2_5_vl")],
                         ids=["internvl", "qwen2_5_vl"])
def test_grid_values_past_the_numeral_table_are_written_by_percent_d(monkeypatch, tmp_path, shared_data, options):
    """A chunk whose largest grid value exceeds MAX_NUMERAL is written with the %d template (the SROIE receipts'
    values go up to 1000 on InternVL's grid and to the image width in Qwen2.5-VL's pixels): same bytes."""
    import swift_ocr.convert.outcome_fast as batch

    monkeypatch.setattr(batch, "MAX_NUMERAL", 200)
    outs = _convert_both(monkeypatch, tmp_path, "icdar", shared_data / "sroie", **options)
    assert outs[True] == outs[False] and outs[True][0]["train"] > 0


def test_decimal_fields_become_string_fields_and_percent_signs_stay():
    from swift_ocr.convert.outcome_fast import _decimal_fields_as_strings, _numerals

    templates = {"[%d, %d, %d, %d] %s": True, "%s<%%d>[%d,%d,%d,%d]": False, "%s%%%d%%%%d %d%d%d": False,
                 "100%% %s %d,%d,%d,%d%%": False}
    for template, text_last in templates.items():
        converted = _decimal_fields_as_strings(template)
        for values in [(0, 1, 999, 1000), (7, 12345, 3, 0)]:
            strings = tuple(_numerals(max(values))[list(values)])
            args, str_args = ((*values, "t"), (*strings, "t")) if text_last else (("t", *values), ("t", *strings))
            assert converted % str_args == template % args
    assert _numerals(10 ** 9) is None
