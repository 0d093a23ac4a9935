"""``swift-ocr report`` without a browser: character diffs, row matching, the rows shown in detail, the training
log reader, the command's errors, and large result sets (checked in Chromium too when it is installed)."""
from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from swift_ocr.cli.main import main
from swift_ocr.errors import OcrFormatError
from swift_ocr.eval.report import build_report, default_names
from swift_ocr.eval.report.diff import char_diff, diff_counts, diff_html
from swift_ocr.eval.report.match import match_runs, select_rows, summarise
from swift_ocr.eval.report.train_log import read_train_log


def _cli(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


TEXT = st.text(alphabet=st.sampled_from(list("abcAB 12.-\n中国网络空间安全é") + ["\u0301"]), max_size=25)


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT)
def test_diff_marks_exactly_the_levenshtein_edits(ref, pred):
    pieces = char_diff(ref, pred)
    assert "".join(r for _, r, _ in pieces) == ref
    assert "".join(p for _, _, p in pieces) == pred
    assert all(len(r) == len(p) for tag, r, p in pieces if tag == "replace")
    assert diff_counts(pieces).edits == Levenshtein.distance(ref, pred)


def test_diff_html_escapes_and_marks_each_kind():
    out = diff_html("kitten <b>", "sitting <b>&")
    assert "<b>" not in out and "&lt;b&gt;" in out and "&amp;" in out
    # k -> s and e -> i are substitutions, g and & are two separate insertions
    assert out.count('class="sub"') == 2 and out.count("<ins title=") == 2
    assert '<ins title="inserted (1)">&amp;</ins>' in out
    assert diff_counts(char_diff("abc", "ac")).deletions == 1


class _Run:
    def __init__(self, keys, errors):
        self.keys, self.errors = keys, np.array(errors, dtype=float)


def test_rows_matched_by_key_and_occurrence():
    a = _Run([("i1", "x"), ("i2", "y"), ("i1", "x"), ("i3", "z")], [0.5, 0.1, 0.2, 0.0])
    b = _Run([("i1", "x"), ("i4", "w"), ("i1", "x"), ("i2", "y")], [0.4, 0.3, 0.6, 0.1])
    t = match_runs([a, b])
    assert t.index.tolist() == [[0, 0], [1, 3], [2, 2], [3, -1], [-1, 1]]
    assert np.isnan(t.errors[3, 1]) and np.isnan(t.errors[4, 0])
    imp = t.improvement(1)
    assert imp[0] == pytest.approx(0.1) and imp[2] == pytest.approx(-0.4) and imp[1] == 0
    s = summarise(t, ["a", "b"])
    assert (s[1].improved, s[1].regressed, s[1].unchanged, s[1].only_here, s[1].missing) == (1, 1, 1, 1, 1)
    assert (s[0].rows, s[0].perfect, s[0].with_errors) == (4, 1, 3)


def test_rows_in_detail_are_the_most_improved_regressed_and_worst():
    errors_a = [0.9, 0.0, 0.5, 0.5, 0.2, 0.0, 0.7]
    errors_b = [0.1, 0.3, 0.5, 0.0, 0.6, 0.0, 0.7]
    keys = [(str(i), "t") for i in range(7)]
    t = match_runs([_Run(keys, errors_a), _Run(keys, errors_b)])
    picked = select_rows(t, ["a", "b"], limit=1)
    # improved most: row 0 (0.8); regressed most: row 4 (0.4); worst a: row 0; worst b: row 6 (ties: earlier row)
    assert picked == {0: ["most improved: b", "worst: a"], 4: ["most regressed: b"], 6: ["worst: b"]}
    assert select_rows(t, ["a", "b"], limit=7) == {r: [] for r in range(7)}
    assert select_rows(t, ["a", "b"], limit=None) == {r: [] for r in range(7)}


def test_default_names():
    assert default_names(["x/base.jsonl", "y/tuned.jsonl"]) == ["base", "tuned"]
    assert default_names(["x/result.jsonl", "y/result.jsonl"]) == ["x/result", "y/result"]


def test_train_log_as_ms_swift_writes_it(tmp_path):
    log = tmp_path / "logging.jsonl"
    rows = [
        {"loss": 2.5, "grad_norm": 1.0, "learning_rate": 1e-4, "token_acc": 0.1, "epoch": 0.5,
         "global_step/max_steps": "1/3", "elapsed_time": "1s", "remaining_time": "2s", "train_speed(s/it)": 1.0},
        {"eval_loss": 2.0, "eval_cer": 0.8, "eval_hmean": 0.1, "eval_runtime": 3.0, "eval_samples_per_second": 1.0,
         "eval_steps_per_second": 1.0, "epoch": 1.0, "global_step/max_steps": "2/3"},
        {"loss": float("nan"), "global_step/max_steps": "3/3"},
        {"train_runtime": 9.0, "train_loss": 2.2, "global_step/max_steps": "3/3"},
        {"model_parameter_info": "x", "global_step": 3, "log_history": [{"loss": 2.5, "step": 1}]},
    ]
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    got = read_train_log(log)
    assert got.train == {"loss": [(1, 2.5)]}
    assert got.eval == {"eval_loss": [(2, 2.0)], "eval_cer": [(2, 0.8)], "eval_hmean": [(2, 0.1)]}
    assert (got.max_steps, got.skipped) == (3, 1)
    log.write_text(json.dumps(rows[0]) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(OcrFormatError, match=r"logging.jsonl:2"):
        read_train_log(log)


def _row(image: str, ref: str, pred: str) -> str:
    return json.dumps({"response": pred, "labels": ref, "logprobs": None,
                       "messages": [{"role": "user", "content": "<image>Read"},
                                    {"role": "assistant", "content": pred}],
                       "images": [{"bytes": None, "path": image}]}, ensure_ascii=False) + "\n"


@pytest.fixture()
def words(shared_data):
    data = json.loads((shared_data / "rec_words" / "labels.json").read_text(encoding="utf-8"))["data_list"]
    return [(str(shared_data / "rec_words" / d["img_path"]), d["instances"][0]["text"]) for d in data]


def test_command_errors_exit_2(words, tmp_path, capsys):
    res = tmp_path / "a.jsonl"
    res.write_text("".join(_row(i, r, r) for i, r in words), encoding="utf-8")
    out = tmp_path / "r.html"
    cases = [
        (["--results", res, res, "--name", "only-one"], "1 names for 2 results"),
        (["--results", res, res, "--name", "x", "x"], "must differ"),
        (["--results", tmp_path / "missing.jsonl"], "missing.jsonl"),
        (["--results", res, "--gt", tmp_path], "--model-family"),
        (["--results", res, "--limit", "-1"], "limit"),
    ]
    for argv, message in cases:
        code, _, err = _cli(["report", *argv, "--output", out], capsys)
        assert code == 2 and message in err, (argv, err)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_row(*words[0], "x") + "{not json\n", encoding="utf-8")
    code, _, err = _cli(["report", "--results", res, bad, "--output", out], capsys)
    assert code == 2 and "bad.jsonl:2" in err
    assert not out.exists() and list(tmp_path.glob(".r.html*")) == []


def test_lone_surrogates_and_markup_in_results(words, tmp_path, capsys):
    image, ref = words[0]
    res = tmp_path / "s.jsonl"
    res.write_text(json.dumps({"response": "\ud800<script>alert(1)</script>", "labels": ref,
                               "images": [image]}) + "\n", encoding="utf-8")
    out = tmp_path / "s.html"
    code, _, err = _cli(["report", "--results", res, "--output", out], capsys)
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    assert "\\ud800" in text and "<script>alert" not in text and "&lt;script&gt;" in text


def test_link_images_relative_to_the_report(words, tmp_path, capsys):
    res = tmp_path / "a.jsonl"
    res.write_text("".join(_row(i, r, r[::-1]) for i, r in words), encoding="utf-8")
    out = tmp_path / "sub" / "r.html"
    code, _, err = _cli(["report", "--results", res, "--output", out, "--link-images"], capsys)
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    srcs = [s.split('"')[0] for s in text.split('<img src="')[1:] if not s.startswith("data:")]
    assert len(srcs) == len(words)
    for src in srcs:
        assert not src.startswith("/") and (out.parent / src).resolve().is_file()


def test_large_result_set_summary_and_limited_detail(words, tmp_path, capsys, request):
    """4,000 rows: every row is counted in the summary, only the --limit most improved / regressed / worst rows are
    shown in detail, and the page stays small (and opens in Chromium when it is installed)."""
    rng = random.Random(7)
    base, tuned = [], []
    for k in range(4000):
        image, ref = words[k % len(words)]
        ref = f"{ref} {k}"
        edit = lambda s, n: "".join(c if rng.random() > n else "#" for c in s)  # noqa: E731
        base.append(_row(image, ref, edit(ref, 0.3)))
        tuned.append(_row(image, ref, edit(ref, 0.15)))
    paths = []
    for name, rows in (("base", base), ("tuned", tuned)):
        p = tmp_path / f"{name}.jsonl"
        p.write_text("".join(rows), encoding="utf-8")
        paths.append(p)
    per = {}
    for p in paths:
        code, _, err = _cli(["eval", "rec", "--results", p, "--json", "--per-sample", p.with_suffix(".ps")], capsys)
        assert code == 0, err
        per[p.stem] = [json.loads(x) for x in p.with_suffix(".ps").read_text().splitlines()]
    limit = 15
    out = tmp_path / "large.html"
    t0 = time.perf_counter()
    result = build_report(paths, out, names=["base", "tuned"], limit=limit)
    build_s = time.perf_counter() - t0
    err_b = np.array([r["char_edits"] / max(r["ref_chars"], 1) for r in per["base"]])
    err_t = np.array([r["char_edits"] / max(r["ref_chars"], 1) for r in per["tuned"]])
    imp = err_b - err_t

    def top(values, mask):
        rows = np.flatnonzero(mask)
        return set(rows[np.lexsort((rows, -values[rows]))][:limit].tolist())

    expected = (top(imp, imp > 0) | top(-imp, imp < 0) | top(err_b, err_b > 0) | top(err_t, err_t > 0))
    text = out.read_text(encoding="utf-8")
    shown = {int(s.split('"')[0]) for s in text.split('<tr class="row" data-idx="')[1:]}
    assert shown == expected and result.n_detail == len(expected) and result.n_rows == 4000
    summary_row = text.split('<tr data-run="tuned"><th>tuned</th>')[-1]
    for key, value in (("improved", int((imp > 0).sum())), ("regressed", int((imp < 0).sum())),
                       ("unchanged", int((imp == 0).sum()))):
        assert f'data-key="{key}" data-value="{value}"' in summary_row
    assert len(text.encode("utf-8")) < 1_500_000
    assert build_s < 60
    try:
        browser = request.getfixturevalue("browser")
    except pytest.skip.Exception:
        return
    t0 = time.perf_counter()
    doc = browser.parse(browser.dump_dom(Path(out).as_uri()))
    assert time.perf_counter() - t0 < 60
    assert doc.find("body").attrs.get("data-sorted") == "improved:1"
    assert len(doc.find("tbody", id="rows").find_all("tr", cls="row")) == len(expected)


def test_python_m_swift_ocr_report_answers_help():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "swift_ocr", "report", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: swift-ocr report"), proc.stderr


def test_three_runs_each_with_its_eval_values_and_deltas_against_the_first(words, tmp_path, capsys):
    paths = []
    for k, name in enumerate("abc"):
        p = tmp_path / f"{name}.jsonl"
        p.write_text("".join(_row(i, r, r[: len(r) - k] + "#" * (k % 2)) for i, r in words), encoding="utf-8")
        paths.append(p)
    out = tmp_path / "three.html"
    code, _, err = _cli(["report", "--results", *paths, "--name", "first", "second", "third", "--output", out], capsys)
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    payloads = []
    for p in paths:
        code, stdout, err = _cli(["eval", "rec", "--results", p, "--json"], capsys)
        payloads.append(json.loads(stdout))
    for name, payload in zip(("first", "second", "third"), payloads):
        for key, value in payload.items():
            cell = text.split(f'<td class="metric" data-run="{name}" data-metric="{key}" data-value="')[1]
            assert json.loads(cell.split('"')[0]) == value
            if name != "first" and value != payloads[0][key]:
                delta = cell.split('<span class="delta')[1].split('data-value="')[1].split('"')[0]
                assert json.loads(delta) == pytest.approx(value - payloads[0][key], abs=1e-15)
    assert text.count("<figure>") == 3  # the distribution, and each later run against the first
