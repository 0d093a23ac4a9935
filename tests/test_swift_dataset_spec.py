"""Issue 20.2: a prompt inside a ``swift-ocr/<format>:<path>?prompt=...`` dataset spec reaches the rows intact.

ms-swift's dataset syntax splits a spec at ``/`` and strips each piece, and HTML-form decoding would turn ``+`` into
a space; the plugin percent-decodes values (``+`` stays a plus sign) and refuses what the syntax cannot carry. Each
prompt goes through real ms-swift ``load_dataset`` on real SROIE receipts and must equal ``convert --prompt``.
"""
from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from swift.dataset import load_dataset  # noqa: E402
from swift.utils import import_external_file  # noqa: E402

from swift_ocr.cli.main import main  # noqa: E402
from swift_ocr.msswift.plugin import plugin_path  # noqa: E402
from swift_ocr.msswift.datasets import dataset_spec, parse_spec, quote_option  # noqa: E402

PROMPTS = ["OCR with format: ", "Read the text / numbers", "total+tax", "50% off #1 & more", " leading space"]


@pytest.fixture(scope="module", autouse=True)
def plugin():
    import_external_file(plugin_path())


def _user_turns(rows):
    return [r["messages"][0]["content"] for r in rows]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_the_plugin_route_gives_the_prompt_of_convert(tmp_path, shared_data, capsys, prompt):
    sroie = shared_data / "sroie"
    out = tmp_path / "out.jsonl"
    assert main(["convert", "--format", "icdar", "--input", str(sroie), "--model-family", "got", "--prompt", prompt,
                 "--output", str(out)]) == 0
    capsys.readouterr()
    converted = [json.loads(line) for line in open(out, encoding="utf-8")]
    spec = dataset_spec("icdar", str(sroie), family="got", prompt=prompt) + "#5"
    ds, _ = load_dataset([spec], load_from_cache_file=False, seed=0)
    assert len(ds) == 5
    assert set(_user_turns(ds)) == set(_user_turns(converted)) == {"<image>" + prompt}


def test_hand_written_percent_encoding_and_plus_sign():
    assert parse_spec("d?family=got&prompt=OCR%20with%20format:%20")[1]["prompt"] == "OCR with format: "
    assert parse_spec("d?family=got&prompt=total+tax")[1]["prompt"] == "total+tax"
    assert parse_spec("d?family=got&prompt=%E5%90%88%E8%AE%A1")[1]["prompt"] == "合计"
    assert quote_option("OCR: ") == "OCR%3A%20"


@pytest.mark.parametrize("spec,match", [
    ("d?family=got&prompt=Read the text/numbers", "%2F"),  # the spaces around '/' may be gone already
    ("d?family=got&prompt=50% off", "%25"),
    ("d?family=got&family=internvl", "twice"),
])
def test_specs_the_syntax_cannot_carry_are_refused(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_spec(spec)


def test_a_raw_slash_prompt_is_refused_through_ms_swift(shared_data):
    with pytest.raises(ValueError, match="%2F"):
        load_dataset([f"swift-ocr/icdar:{shared_data}/sroie?family=got&prompt=Read the text / numbers"],
                     load_from_cache_file=False)
