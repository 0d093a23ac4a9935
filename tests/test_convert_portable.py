"""Issue 15: ``convert --relative-paths`` writes image paths relative to the output file's folder, and ms-swift 4.6
resolves them after the folder moved to another place, run from another working directory: its dataset loading
keeps the paths as written, and its template loads a relative image path against the working directory, then
``$ROOT_IMAGE_DIR`` (``swift/template/vision_utils.py``, ``_check_path``). Checked through ms-swift's own
``load_dataset`` and a real template encode with the tiny random GOT model; and ``swift-ocr validate`` follows the same
rule. Also the progress bar of ``convert`` (shown on a terminal only)."""
from __future__ import annotations

import json
import os
import shutil

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from swift_ocr.cli.main import main  # noqa: E402


def _rows(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


@pytest.fixture(scope="module")
def got_dir(tmp_path_factory):
    from swift_ocr.tiny.models import build_tiny_model

    return build_tiny_model("got_ocr2_hf", tmp_path_factory.mktemp("tiny") / "tiny-random-got", seed=0)


def test_relative_paths_train_after_moving_the_folder(tmp_path, shared_data, monkeypatch, capsys, got_dir):
    import torch
    from PIL import UnidentifiedImageError
    from swift.dataset import load_dataset
    from swift.model import get_model_processor
    from swift.template import get_template

    here = tmp_path / "machine_a" / "out"
    assert main(["convert", "--format", "icdar", "--input", str(shared_data / "icdar2015"), "--task", "line",
                 "--model-family", "got", "--val-ratio", "0.2", "--relative-paths", "--output",
                 str(here / "train.jsonl"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["relative_to"] == str(here)
    rows = _rows(here / "train.jsonl") + _rows(here / "train.val.jsonl")
    assert rows and all(not os.path.isabs(p) and p.startswith("train_images/") for r in rows for p in r["images"])
    # the same bytes as an absolute conversion, but for the image paths
    assert main(["convert", "--format", "icdar", "--input", str(shared_data / "icdar2015"), "--task", "line",
                 "--model-family", "got", "--val-ratio", "0.2", "--output", str(here / "abs.jsonl")]) == 0
    capsys.readouterr()
    absolute = (here / "abs.jsonl").read_text(encoding="utf-8").replace(str(here / "abs_images") + "/",
                                                                        "train_images/")
    assert absolute == (here / "train.jsonl").read_text(encoding="utf-8")

    there = tmp_path / "machine_b" / "data"
    there.parent.mkdir()
    shutil.move(str(here), str(there))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _, processor = get_model_processor(str(got_dir), model_type="got_ocr2_hf", torch_dtype=torch.float32,
                                       load_model=False)
    template = get_template(processor, template_type="got_ocr2_hf")
    template.set_mode("train")
    train, _ = load_dataset([str(there / "train.jsonl")], load_from_cache_file=False, seed=0)
    row = train[0]
    assert row["images"][0]["path"].startswith("train_images/")  # ms-swift keeps the path as written
    monkeypatch.delenv("ROOT_IMAGE_DIR", raising=False)
    # relative to the working directory only: not found there, ms-swift takes the path for base64 and fails to read
    # what it decodes
    with pytest.raises(UnidentifiedImageError):
        template.encode(row)
    monkeypatch.setenv("ROOT_IMAGE_DIR", str(there))
    encoded = template.encode(row)
    assert len(encoded["input_ids"]) > 0 and encoded["labels"][-1] != -100
    # swift-ocr validate resolves them as ms-swift does
    assert main(["validate", str(there / "train.jsonl"), "--model-family", "got", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == len(_rows(there / "train.jsonl"))


def test_progress_bar_only_on_a_terminal(tmp_path, shared_data):
    """On a pseudo-terminal ``convert`` and ``validate`` draw a tqdm bar on stderr (items, items/s, rejections or
    problems so far); piped, or with ``--quiet``, stderr stays empty."""
    import fcntl
    import pty
    import struct
    import subprocess
    import sys
    import termios

    args = [sys.executable, "-m", "swift_ocr.cli.main", "convert", "--format", "icdar", "--input",
            str(shared_data / "icdar2015"), "--output", str(tmp_path / "x.jsonl"), "--workers", "1"]

    def on_terminal(extra, args=args):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
        proc = subprocess.Popen(args + extra, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
                                env={**os.environ, "HF_HUB_OFFLINE": "1"})
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        assert proc.wait() == 0
        os.close(master)
        return out.decode("utf-8", "replace")

    shown = on_terminal([])
    assert "convert: 100%" in shown and "10/10" in shown and "item/s" in shown and "rejected 2" in shown
    assert on_terminal(["--quiet"]) == ""
    piped = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert piped.returncode == 0 and piped.stderr == ""
    validate = [sys.executable, "-m", "swift_ocr.cli.main", "validate", str(tmp_path / "x.jsonl"), "--model-family",
                "got"]
    shown = on_terminal([], validate)
    assert "validate: " in shown and "8row" in shown and "row/s" in shown and "problems 0" in shown
    assert on_terminal(["--quiet"], validate) == ""
