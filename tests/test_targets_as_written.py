"""Issue 15, part 2: training targets keep the user's text exactly as the label file writes it (no NFKC, no NFC),
through ``swift-ocr convert`` (API and CLI) and the ms-swift plugin preprocessor; NFKC is an explicit opt-in
(``--nfkc``, dataset option ``nfkc=1``); the metrics still normalise both sides when scoring (``eval rec``)."""
import json
import os
import unicodedata

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from swift_ocr.cli.main import main as cli_main  # noqa: E402
from swift_ocr.convert.api import ConvertOptions, convert  # noqa: E402
from swift_ocr.formats import open_source  # noqa: E402

#: the label of the issue: full-width comma, parentheses and digits, an ideographic full stop, a circled digit
TEXT = "强力去污，符合国标（２０２６）。①"
#: what NFKC makes of it (the target the converter used to write)
NFKC_TEXT = "强力去污,符合国标(2026)。1"


@pytest.fixture()
def dataset(tmp_path, shared_data):
    """An ICDAR 2015 folder with the real poster of ../shared/data/zh (323x430, its line 强力去污符合国标) and a label
    with the issue's text, plus a full-width ``＃＃＃`` do-not-care line."""
    root = tmp_path / "zh"
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    os.symlink(shared_data / "zh" / "ch_en_num.jpg", root / "imgs" / "poster.jpg")
    label = f"20,150,300,150,300,190,20,190,{TEXT}\n30,200,290,200,290,230,30,230,＃＃＃\n"
    (root / "gts" / "gt_poster.txt").write_bytes(label.encode("utf-8"))
    return root


def _targets(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["messages"][-1]["content"] for line in fh]


def test_nfkc_changes_the_issue_text():
    # the premise: NFKC does rewrite this label (so the tests below can fail)
    assert unicodedata.normalize("NFKC", TEXT) == NFKC_TEXT != TEXT


def test_convert_api_keeps_the_text(dataset, tmp_path):
    out = tmp_path / "api.jsonl"
    report = convert(open_source("icdar", input_path=str(dataset)), ConvertOptions(family="got"), str(out))
    (target,) = _targets(out)
    assert target.encode("utf-8") == TEXT.encode("utf-8")  # byte-identical; the ＃＃＃ line is no target
    assert report.fixes.get("nfkc_texts", 0) == 0
    # an explicit option still normalises, and counts it
    report = convert(open_source("icdar", input_path=str(dataset), nfkc=True), ConvertOptions(family="got"),
                     str(tmp_path / "nfkc.jsonl"))
    # counted per region whose text changed: the text line and the ＃＃＃ marker (-> ###, still do-not-care)
    assert _targets(tmp_path / "nfkc.jsonl") == [NFKC_TEXT] and report.fixes["nfkc_texts"] == 2


@pytest.mark.parametrize("task", ["rec", "line", "det"])
def test_convert_cli_keeps_the_text(dataset, tmp_path, capsys, task):
    out = tmp_path / f"{task}.jsonl"
    extra = ["--model-family", "internvl"] if task == "det" else []
    assert cli_main(["convert", "--format", "icdar", "--input", str(dataset), "--task", task, "--output", str(out),
                     "--json", *extra]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["fixes"]["nfkc_texts"] == 0
    (target,) = _targets(out)
    if task == "det":  # the text inside the family's box markup, as written
        assert f"<ref>{TEXT}</ref>" in target and NFKC_TEXT not in target and "###" not in target
    else:
        assert target.encode("utf-8") == TEXT.encode("utf-8")


def test_cli_nfkc_is_opt_in(dataset, tmp_path, capsys):
    for flag, expected in ((["--no-nfkc"], TEXT), (["--nfkc"], NFKC_TEXT)):
        out = tmp_path / "o.jsonl"
        assert cli_main(["convert", "--format", "icdar", "--input", str(dataset), "--output", str(out), *flag]) == 0
        assert _targets(out) == [expected], flag
    capsys.readouterr()


def test_plugin_preprocessor_keeps_the_text(dataset):
    from swift_ocr.msswift.datasets import OcrPreprocessor

    row = {"image_path": str(dataset / "imgs" / "poster.jpg"), "label_path": str(dataset / "gts" / "gt_poster.txt"),
           "list_file": "", "line": 0}
    for options, expected in (({}, TEXT), ({"nfkc": "0"}, TEXT), ({"nfkc": "1"}, NFKC_TEXT)):
        for task in ("rec", "line"):
            pre = OcrPreprocessor("icdar", {"family": "got", "task": task, **options})
            (out,) = pre.preprocess(dict(row))
            assert out["messages"][-1]["content"].encode("utf-8") == expected.encode("utf-8"), (options, task)


def test_eval_rec_still_normalises(dataset, tmp_path, capsys, write_swift_results):
    """The model writing the NFKC form of the kept target scores CER 0 (both sides NFKC-normalised, as documented
    in swift_ocr/eval/metrics/rec.py); ``--no-nfkc`` compares code points as written."""
    image = dataset / "imgs" / "poster.jpg"
    results = write_swift_results(tmp_path / "rec.jsonl", [(image, TEXT, NFKC_TEXT)])

    def cer(*extra):
        assert cli_main(["eval", "rec", "--results", str(results), "--json", *extra]) == 0
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])["cer"]

    assert cer() == 0.0
    # without normalisation: ， （ ２ ０ ２ ６ ） ① are 8 substitutions in 17 characters
    assert len(TEXT) == len(NFKC_TEXT) == 17
    assert sum(a != b for a, b in zip(TEXT, NFKC_TEXT)) == 8
    assert cer("--no-nfkc") == pytest.approx(8 / 17)
