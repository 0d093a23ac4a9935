"""``swift-ocr validate`` on image strings starting with ``http`` (issue 19, case 19).

Only ``http://`` and ``https://`` are URLs (a ``remote_image`` warning). A local path such as ``http_imgs/a.jpg`` is
not a URL, but ms-swift 4.6 would still try to download it (``load_file`` in swift/template/vision_utils.py tests
``startswith('http')``), so it is an error that says how to write it; ``./http_imgs/a.jpg`` is checked as a file.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from swift_ocr.cli.main import main


def _row(image: str) -> dict:
    return {"messages": [{"role": "user", "content": "<image>OCR: "},
                         {"role": "assistant", "content": "TAN WOON YANN"}], "images": [image]}


def _validate(tmp_path: Path, capsys, image: str):
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps(_row(image)) + "\n", encoding="utf-8")
    report = tmp_path / "problems.jsonl"
    rc = main(["validate", str(data), "--model-family", "got", "--json", "--report", str(report)])
    summary = json.loads(capsys.readouterr().out)
    problems = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()] \
        if report.exists() else []
    return rc, summary, problems


@pytest.fixture
def receipt_in_http_folder(shared_data, tmp_path, monkeypatch):
    """A real SROIE receipt at ``<cwd>/http_imgs/a.jpg``, the current directory being tmp_path."""
    (tmp_path / "http_imgs").mkdir()
    shutil.copy(shared_data / "sroie" / "img" / "000.jpg", tmp_path / "http_imgs" / "a.jpg")
    monkeypatch.chdir(tmp_path)
    return "http_imgs/a.jpg"


def test_local_path_starting_with_http_is_no_url_but_an_error(tmp_path, capsys, receipt_in_http_folder):
    rc, summary, problems = _validate(tmp_path, capsys, receipt_in_http_folder)
    assert rc == 1 and summary["errors"] == 1 and summary["warnings"] == 0
    assert [(p["kind"], p["severity"]) for p in problems] == [("missing_image", "error")]
    message = problems[0]["message"]
    assert "http_imgs/a.jpg" in message and "'./http_imgs/a.jpg'" in message and "URL" in message
    assert "remote_image" not in summary["problems"]


def test_the_same_file_written_with_dot_slash_is_checked_as_a_file(tmp_path, capsys, receipt_in_http_folder):
    rc, summary, problems = _validate(tmp_path, capsys, "./" + receipt_in_http_folder)
    assert rc == 0 and summary["errors"] == 0 and summary["warnings"] == 0 and problems == []


@pytest.mark.parametrize("url", ["http://example.com/receipt.jpg", "https://example.com/a.jpg",
                                 "  https://example.com/b.jpg"])
def test_http_and_https_urls_are_remote_images(tmp_path, capsys, url):
    rc, summary, problems = _validate(tmp_path, capsys, url)
    assert rc == 0 and summary["warnings"] == 1 and summary["errors"] == 0
    assert [(p["kind"], p["severity"]) for p in problems] == [("remote_image", "warning")]


def test_the_rule_is_ms_swifts(receipt_in_http_folder):
    """What the test above calls an error is what ms-swift 4.6 cannot load (no network is touched: requests
    refuses the scheme-less URL before connecting)."""
    requests = pytest.importorskip("requests")
    from swift.template.vision_utils import load_file

    with pytest.raises(requests.exceptions.MissingSchema):
        load_file(receipt_in_http_folder)
    assert load_file("./" + receipt_in_http_folder).read(3) == b"\xff\xd8\xff"  # a JPEG
