"""Issue 19, case 16: lone surrogates in result texts (``"\\ud800"`` is valid JSON; no UTF-8 encodes it) through the
real ``swift-ocr eval rec`` CLI, on the real word crops and labels of ../shared/data/rec_words."""
from __future__ import annotations

import json

from swift_ocr.cli.main import main


def test_lone_surrogates_are_written_losslessly_and_printed(shared_data, tmp_path, capsys):
    root = shared_data / "rec_words"
    data = json.loads((root / "labels.json").read_text(encoding="utf-8"))["data_list"]
    rows, preds = [], []
    for k, item in enumerate(data):
        ref = item["instances"][0]["text"]
        pred = ref + "\ud800" if k == 0 else ("\udcff" + ref if k == 1 else ref)  # 1 extra character each
        preds.append(pred)
        rows.append({"response": pred, "labels": ref, "logprobs": None,
                     "images": [{"bytes": None, "path": str(root / item["img_path"])}]})
    path = tmp_path / "result.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")  # \ud800 escaped: valid UTF-8
    out_file = tmp_path / "out" / "per_sample.jsonl"

    assert main(["eval", "rec", "--results", str(path), "--per-sample", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "\\ud800" in out and "\\udcff" in out  # worst rows printed, the surrogates escaped
    records = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(rows)  # no row lost
    assert [r["pred"] for r in records] == preds  # read back exactly (all the predictions are NFKC-stable)
    assert [r["char_edits"] for r in records[:3]] == [1, 1, 0]
    assert [f.name for f in out_file.parent.iterdir()] == ["per_sample.jsonl"]  # no temp file left

    assert main(["eval", "rec", "--results", str(path), "--json", "--note", "note \udcff"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["note"] == "note \udcff" and payload["n"] == len(rows)
