"""``swift-ocr report`` opened in a real browser (headless Chromium): the rendered DOM must show the values
``swift-ocr eval rec --json`` / ``eval det --json`` print for each file, the per-sample values and diffs of
``--per-sample`` / ``--per-image``, and the script must sort and filter the rows.

Data: real references (rec_words words, zh/gt.tsv Chinese lines, SROIE receipt lines, ICDAR 2015 boxes) with
predictions made here by deterministic edits. Expected numbers come from ``swift-ocr eval`` on the same files,
never from the report.
"""
from __future__ import annotations

import base64
import io
import json
import math
import random
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from swift_ocr.cli.main import main
from swift_ocr.codecs import get_codec
from swift_ocr.sample import Region


def _cli(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _eval_rec(path: Path, capsys, tmp_path: Path):
    """(``eval rec --json`` object, ``--per-sample`` records by line) of ``path``."""
    per = tmp_path / f"{path.stem}.per_sample.jsonl"
    code, out, err = _cli(["eval", "rec", "--results", path, "--json", "--per-sample", per], capsys)
    assert code == 0, err
    records = [json.loads(line) for line in per.read_text(encoding="utf-8").splitlines()]
    return json.loads(out), {r["line"]: r for r in records}


def _edit(text: str, n: int, rng: random.Random) -> str:
    """``text`` with ``n`` random character edits (substitution, deletion, insertion)."""
    chars = list(text)
    for _ in range(n):
        op = rng.choice("sdi") if chars else "i"
        pos = rng.randrange(len(chars) + (op == "i")) if chars or op == "i" else 0
        cjk = any("\u4e00" <= c <= "\u9fff" for c in text)
        new = rng.choice("错字的" if cjk else "xqZ#7")
        if op == "s":
            chars[pos] = new if chars[pos] != new else "%"
        elif op == "d":
            del chars[pos]
        else:
            chars.insert(pos, new)
    return "".join(chars)


def _references(shared_data: Path, result_rows):
    """(image, reference) pairs: rec_words words, zh lines (one with line breaks), SROIE receipt lines."""
    words = json.loads((shared_data / "rec_words" / "labels.json").read_text(encoding="utf-8"))["data_list"]
    out = [(shared_data / "rec_words" / w["img_path"], w["instances"][0]["text"]) for w in words]
    for line in (shared_data / "zh" / "gt.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        image, text, _ = line.split("\t")
        out.append((shared_data / "zh" / image, text.replace("\\n", "\n")))
    for sample, _ in result_rows.sroie_samples(shared_data)[:4]:
        out.extend((Path(sample.images[0]), r.text) for r in sample.care_regions()[:3])
    return out


@pytest.fixture(scope="module")
def rec_case(tmp_path_factory, shared_data, result_rows):
    """Two recognition result files (base, tuned) over the same real references: tuned lists the rows in reverse
    order, lacks one row of base and has one row base lacks; one (image, reference) pair occurs twice."""
    tmp = tmp_path_factory.mktemp("report_rec")
    refs = _references(shared_data, result_rows)
    refs.append(refs[0])  # the same sample twice: paired by occurrence
    base, tuned = [], []
    for k, (image, ref) in enumerate(refs):
        rng = random.Random(k)
        n_base = 1 + k % 3
        n_tuned = (0, n_base + 2, 1, n_base)[k % 4]  # improved, regressed, mostly improved, unchanged count
        base.append((image, ref, _edit(ref, n_base, rng)))
        tuned.append((image, ref, _edit(ref, n_tuned, rng)))
    extra = (shared_data / "zh" / "short.png", "只在第二个文件里", "只在第二个文件")
    tuned = [extra] + tuned[::-1]
    del tuned[-2]  # tuned lacks refs[1]
    write = result_rows.write_swift_results
    paths = write(tmp / "base.jsonl", base), write(tmp / "tuned.jsonl", tuned)
    log = tmp / "logging.jsonl"
    log_rows = [
        {"loss": 10.70454407, "grad_norm": 5.13485479, "learning_rate": 5e-05, "token_acc": 0.00364964, "epoch": 0.5,
         "global_step/max_steps": "1/4", "elapsed_time": "6s", "remaining_time": "18s", "train_speed(s/it)": 5.57},
        {"eval_loss": 10.56538868, "eval_cer": 0.93, "eval_runtime": 13.6014, "eval_samples_per_second": 0.221,
         "eval_steps_per_second": 0.221, "eval_token_acc": 0.0, "epoch": 1.0, "global_step/max_steps": "2/4",
         "elapsed_time": "26s", "remaining_time": "20s", "train_speed(s/it)": 13.05},
        {"loss": 7.25, "grad_norm": 3.1, "learning_rate": 2.5e-05, "epoch": 1.5, "global_step/max_steps": "3/4"},
        {"eval_loss": 6.5, "eval_cer": 0.41, "eval_runtime": 12.0, "epoch": 2.0, "global_step/max_steps": "4/4"},
        {"train_runtime": 27.2, "train_loss": 8.9, "epoch": 2.0, "global_step/max_steps": "4/4"},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in log_rows), encoding="utf-8")
    return dict(tmp=tmp, paths=paths, n_refs=len(refs), log=log, log_rows=log_rows)


def _side(node, drop: str) -> str:
    """Text of a diff cell without the ``drop`` elements (``del``: the prediction, ``ins``: the reference)."""
    return "".join(c if isinstance(c, str) else ("" if c.tag == drop else _side(c, drop)) for c in node.children)


def _visible_rows(doc):
    return [tr for tr in doc.find("tbody", id="rows").find_all("tr", cls="row") if "hidden" not in tr.attrs]


def _errors(rec):
    return rec["char_edits"] / max(rec["ref_chars"], 1)


def test_rec_report_in_chromium(rec_case, browser, capsys, tmp_path):
    base_path, tuned_path = rec_case["paths"]
    report = rec_case["tmp"] / "report.html"
    code, out, err = _cli(["report", "--results", base_path, tuned_path, "--name", "base", "tuned",
                           "--train-log", rec_case["log"], "--output", report,
                           "--note", "tiny random model - not OCR quality"], capsys)
    assert code == 0, err
    assert [p.name for p in report.parent.iterdir() if p.name.startswith(".report")] == []  # no temp file left
    expected = {}
    per_sample = {}
    for name, path in (("base", base_path), ("tuned", tuned_path)):
        expected[name], per_sample[name] = _eval_rec(path, capsys, tmp_path)

    html_text = report.read_text(encoding="utf-8")
    doc = browser.parse(browser.dump_dom(report.as_uri()))

    # the page works offline: nothing is fetched from elsewhere
    for node in doc.iter():
        for attr in ("src", "href"):
            value = node.attrs.get(attr) or ""
            assert not value.startswith(("http:", "https:", "//")), (node.tag, value[:80])
    assert "<link" not in html_text and "<script src" not in html_text

    # metrics: exactly the values of `eval rec --json`, shown with 4 decimals, deltas against the first run
    for name, payload in expected.items():
        for key, value in payload.items():
            cell = doc.find("td", cls="metric", data_run=name, data_metric=key)
            assert json.loads(cell.attrs["data-value"]) == value, (name, key)
            shown = cell.find("span", cls="v").text()
            assert shown == (str(value) if isinstance(value, int) else f"{value:.4f}"), (name, key, shown)
            if name == "tuned":
                delta = json.loads(cell.find("span", cls="delta").attrs["data-value"])
                assert delta == pytest.approx(value - expected["base"][key], abs=1e-15)
    assert "not OCR quality" in doc.find(id="note").text()
    assert "NFKC" in doc.find(id="normalisation").text()

    # every row of both files once, matched by image and reference (the duplicate pair by occurrence)
    rows = doc.find("tbody", id="rows").find_all("tr", cls="row")
    assert len(rows) == rec_case["n_refs"] + 1  # base's rows plus the one only tuned has
    seen = {"base": set(), "tuned": set()}
    for tr in rows:
        keys = set()
        for cell in tr.find_all("td", cls="run"):
            run = cell.attrs["data-run"]
            if "missing" in cell.classes:
                continue
            rec = per_sample[run][int(cell.attrs["data-line"])]
            seen[run].add(rec["line"])
            keys.add((tuple(rec["images"]), rec["ref"]))
            cer = json.loads(cell.find("b", cls="cer").attrs["data-value"])
            assert cer == rec["cer"]
            assert int(cell.attrs["data-edits"]) == rec["char_edits"]
            text = cell.find("div", cls="text")
            # the diff holds the scored prediction and reference, and marks exactly char_edits characters
            assert _side(text, "del") == rec["pred"]
            assert _side(text, "ins") == rec["ref"]
            marked = sum(len(n.text()) for n in text.find_all("ins")) + sum(
                len(n.text()) for n in text.find_all("del") if "sub" not in n.parent.classes)
            assert marked == rec["char_edits"], (run, rec["line"])
            assert tr.find("td", cls="ref").find("div", cls="text").text() == rec["ref"]
        assert len(keys) == 1  # the runs' cells of one row are the same sample
    assert seen["base"] == set(per_sample["base"]) and seen["tuned"] == set(per_sample["tuned"])
    dup_rows = [tr for tr in rows if len(tr.find_all("td", cls="missing")) == 0
                and tr.find("td", cls="ref").text().startswith(per_sample["base"][1]["ref"])]
    lines = sorted((int(tr.find("td", data_run="base").attrs["data-line"]),
                    int(tr.find("td", data_run="tuned").attrs["data-line"])) for tr in dup_rows)
    first = per_sample["base"][1]
    tuned_dup_lines = sorted(r["line"] for r in per_sample["tuned"].values()
                             if (r["images"], r["ref"]) == (first["images"], first["ref"]))
    assert [b for b, _ in lines] == [1, rec_case["n_refs"]] and [t for _, t in lines] == tuned_dup_lines

    # the script ran and sorted by most improved (tuned vs base); rows missing from a run come last
    assert doc.find("body").attrs.get("data-sorted") == "improved:1"

    def scores(doc_, mode, k):
        out_ = []
        for tr in _visible_rows(doc_):
            e = {}
            for cell in tr.find_all("td", cls="run"):
                if "missing" not in cell.classes:
                    run_name = cell.attrs["data-run"]
                    e[run_name] = _errors(per_sample[run_name][int(cell.attrs["data-line"])])
            run = ("base", "tuned")[k]
            if mode == "worst":
                out_.append(e.get(run, math.nan))
            elif "base" in e and "tuned" in e:
                out_.append(e["base"] - e["tuned"] if mode == "improved" else e["tuned"] - e["base"])
            else:
                out_.append(math.nan)
        return out_

    def assert_sorted(values):
        known = [v for v in values if not math.isnan(v)]
        assert values[: len(known)] == known, "rows without a value must come last"
        assert known == sorted(known, reverse=True)
        assert known[0] > known[-1]  # a real ordering, not all equal

    assert_sorted(scores(doc, "improved", 1))
    for fragment, mode, k in (("#sort=regressed&run=1", "regressed", 1), ("#sort=worst&run=0", "worst", 0)):
        sorted_doc = browser.parse(browser.dump_dom(report.as_uri() + fragment))
        assert sorted_doc.find("body").attrs.get("data-sorted") == f"{mode}:{k}"
        assert len(_visible_rows(sorted_doc)) == len(rows)
        assert_sorted(scores(sorted_doc, mode, k))

    # filtering: a word and "rows with errors only"
    word = per_sample["base"][1]["ref"]
    filtered = browser.parse(browser.dump_dom(report.as_uri() + f"#q={word.lower()}&errors=1&run=1"))
    visible = _visible_rows(filtered)
    assert visible and all(word.lower() in tr.text().lower() for tr in visible)
    for tr in visible:
        cell = tr.find("td", data_run="tuned")
        assert "missing" not in cell.classes and per_sample["tuned"][int(cell.attrs["data-line"])]["char_edits"] > 0
    expect_n = sum(1 for r in per_sample["tuned"].values() if r["char_edits"] > 0 and
                   any(word.lower() in s.lower() for s in (r["ref"], r["pred"], *r["images"])))
    assert len(visible) >= expect_n

    # plots: PNG images; training curves and their values from the log
    pngs = [Image.open(io.BytesIO(base64.b64decode(f.find("img").attrs["src"].split(",", 1)[1])))
            for f in doc.find_all("figure")]
    assert len(pngs) == 3 and all(p.format == "PNG" and p.width > 200 for p in pngs)
    logged = [(int(r["global_step/max_steps"].split("/")[0]), r["eval_cer"]) for r in rec_case["log_rows"]
              if "eval_cer" in r]
    shown = [(int(tr.attrs["data-step"]), json.loads(tr.find("td", cls="count").attrs["data-value"]))
             for tr in doc.find_all("tr", data_key="eval_cer")]
    assert shown == logged
    assert len(doc.find_all("tr", data_key="loss")) == 2

    # a screenshot renders (the page is not blank)
    shot = rec_case["tmp"] / "report.png"
    browser.screenshot(report.as_uri(), str(shot), width=1280, height=2000)
    with Image.open(shot) as im:
        assert im.size == (1280, 2000)
        stat = ImageStat.Stat(im.convert("L"))
        assert stat.stddev[0] > 20  # text, tables, plots and thumbnails, not a blank page


def test_det_report_in_chromium(browser, shared_data, result_rows, tmp_path, capsys):
    """ICDAR 2015 ground truth; base: boxes shifted (some too far to match), tuned: small shifts, some boxes left
    out. The page shows `eval det --json`'s values and each image's P/R/Hmean of `--per-image`, with drawn images."""
    codec = get_codec("internvl")
    base, tuned = [], []
    for k, (sample, _) in enumerate(result_rows.icdar2015_samples(shared_data)):
        care = sample.care_regions()
        target = codec.encode(care, sample.image_size)

        def shifted(regions, dx):
            return [Region([(x + dx, y) for x, y in r.polygon], r.text) for r in regions]

        base.append((sample.images[0], target, codec.encode(shifted(care, 4.0 + 9 * k), sample.image_size)))
        tuned.append((sample.images[0], target, codec.encode(shifted(care[: len(care) - k % 2], 2.0),
                                                            sample.image_size)))
    paths = [result_rows.write_swift_results(tmp_path / f"{n}.jsonl", rows)
             for n, rows in (("base", base), ("tuned", tuned))]
    report = tmp_path / "det.html"
    code, _, err = _cli(["report", "--results", *paths, "--name", "base", "tuned", "--model-family", "internvl",
                         "--output", report], capsys)
    assert code == 0, err
    doc = browser.parse(browser.dump_dom(report.as_uri()))
    assert doc.find("body").attrs.get("data-sorted") == "improved:1"
    for name, path in zip(("base", "tuned"), paths):
        per_image = tmp_path / f"{name}.per_image.jsonl"
        code, out, err = _cli(["eval", "det", "--results", path, "--model-family", "internvl", "--json",
                               "--per-image", per_image], capsys)
        assert code == 0, err
        payload = json.loads(out)
        for key in ("precision", "recall", "hmean", "n_images", "n_gt", "n_det", "n_matched", "unparsed",
                    "duplicates", "responses_without_detections", "extra_text"):
            cell = doc.find("td", cls="metric", data_run=name, data_metric=key)
            assert json.loads(cell.attrs["data-value"]) == payload[key], (name, key)
        records = {",".join(map(str, r["lines"])): r for r in map(json.loads, per_image.read_text().splitlines())}
        cells = doc.find_all("td", cls="run", data_run=name)
        assert len(cells) == len(records) == payload["n_images"]
        for cell in cells:
            rec = records[cell.attrs["data-line"]]
            for key in ("precision", "recall", "hmean"):
                assert json.loads(cell.find("b", cls=key).attrs["data-value"]) == rec[key]
            assert cell.find("img").attrs["src"].startswith("data:image/jpeg;base64,")
    hmeans = [json.loads(tr.find("td", data_run="tuned").find("b", cls="hmean").attrs["data-value"])
              - json.loads(tr.find("td", data_run="base").find("b", cls="hmean").attrs["data-value"])
              for tr in _visible_rows(doc)]
    assert hmeans == sorted(hmeans, reverse=True) and hmeans[0] > hmeans[-1]
