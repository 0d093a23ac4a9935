"""Issue 19, case 16: a lone surrogate in a dataset row (``"\\ud800"`` is valid JSON; no UTF-8 encodes it) through the
real ``swift-ocr validate`` CLI, on real SROIE receipts of ../shared/data."""
from __future__ import annotations

import json

from swift_ocr.cli.main import main


def test_lone_surrogate_in_target_is_checked_and_duplicates_still_found(shared_data, tmp_path, capsys):
    img = shared_data / "sroie" / "img"
    rows = []
    for stem in ("000", "001"):
        lines = (shared_data / "sroie" / "box" / f"{stem}.csv").read_text(encoding="utf-8").splitlines()
        text = "\n".join(line.split(",", 8)[8] for line in lines if line.strip())
        rows.append({"messages": [{"role": "user", "content": "<image>OCR: "},
                                  {"role": "assistant", "content": text + "\ud800"}],
                     "images": [str(img / f"{stem}.jpg")]})
    rows.append(rows[0])  # an exact duplicate of row 1, surrogate included
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report = tmp_path / "report.jsonl"

    code = main(["validate", str(data), "--model-family", "got", "--task", "rec", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    found = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    dup = [p for p in found if p["kind"] == "duplicate"]
    assert [(p["line"], p["message"]) for p in dup] == [(3, f"same images and messages as {data}:1")]
    # the two distinct rows (differing texts, same surrogate) are not taken for duplicates
    assert all(p["line"] != 2 for p in dup)
    code = main(["validate", str(data), "--model-family", "got", "--task", "rec", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert payload["rows"] == 3 and payload["problems"].get("duplicate") == 1
