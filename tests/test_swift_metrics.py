"""``--eval_metric ocr`` / ``ocr_det`` (swift_ocr/msswift/metrics.py): the numbers ms-swift's trainer logs equal what
``swift-ocr eval rec --json`` / ``eval det --json`` print for the same predictions.

The predictions reach the metric the way ms-swift 4.6.0's ``Seq2SeqTrainer.prediction_step`` hands them to
transformers (each text pickled by ``swift.utils.Serializer.to_tensor``, a batch padded with 0 by ``pad_sequence``)
and transformers' evaluation loop gathers them (``EvalLoopContainer``, batches padded with -100). The offline side
reads a result file written as ms-swift writes one (tests/helpers/result_rows.py). Texts and boxes are real: the
receipts of ../shared/data/sroie, the word crops of rec_words, the Chinese lines of zh/.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import jiwer
import pytest
import torch
from torch.nn.utils.rnn import pad_sequence

from swift.metrics import eval_metrics_map
from swift.utils import Serializer
from transformers.trainer_pt_utils import EvalLoopContainer
from transformers.trainer_utils import EvalPrediction

from swift_ocr.msswift.plugin import register_all
from swift_ocr.msswift.metrics import (DET_KEYS, FAMILY_ENV, REC_KEYS, OcrDetMetrics, OcrMetrics, family_for_template,
                                     register_metrics, resolve_family)

BIN = Path(sys.executable).parent


def eval_prediction(preds, labels, batch_size=3) -> EvalPrediction:
    """What transformers' evaluation loop hands ``compute_metrics`` for ms-swift's generated texts."""
    all_preds = EvalLoopContainer(True, padding_index=-100)
    all_labels = EvalLoopContainer(True, padding_index=-100)
    for start in range(0, len(preds), batch_size):
        batch = slice(start, start + batch_size)
        all_preds.add(pad_sequence([Serializer.to_tensor(p) for p in preds[batch]], batch_first=True, padding_value=0))
        all_labels.add(pad_sequence([Serializer.to_tensor(r) for r in labels[batch]], batch_first=True,
                                    padding_value=0))
    return EvalPrediction(predictions=all_preds.get_arrays(), label_ids=all_labels.get_arrays())


def cli_json(*args) -> dict:
    proc = subprocess.run([str(BIN / "swift-ocr"), *args, "--json"], capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


ARGS = GENERATE = SimpleNamespace(predict_with_generate=True)  # the trainer's arguments the metrics read


# ------------------------------------------------------------------------------------------- registration


def test_registered_by_the_plugin():
    names = register_all()["metrics"]
    assert names == ["ocr", "ocr_det"]
    assert eval_metrics_map["ocr"] is OcrMetrics and eval_metrics_map["ocr_det"] is OcrDetMetrics
    assert register_metrics() == names  # idempotent


def test_refuses_a_name_taken_by_another_metric(monkeypatch):
    monkeypatch.setitem(eval_metrics_map, "ocr", eval_metrics_map["acc"])
    with pytest.raises(ValueError, match="already registered"):
        register_metrics()


@pytest.mark.parametrize("cls", [OcrMetrics, OcrDetMetrics])
def test_needs_predict_with_generate(cls):
    with pytest.raises(ValueError, match="--predict_with_generate true"):
        cls(SimpleNamespace(predict_with_generate=False), None)


@pytest.mark.parametrize("cls,metric,greater,message", [
    (OcrMetrics, "rouge-l", True, "does not compute 'rouge-l'"),  # ms-swift's default with --predict_with_generate
    (OcrMetrics, "cer", True, "lower is better, pass --greater_is_better false"),  # ms-swift's guess for 'cer'
    (OcrMetrics, "eval_accuracy", False, "higher is better"),
    (OcrDetMetrics, "loss", False, "does not compute 'loss'"),  # no eval_loss with --predict_with_generate
    (OcrDetMetrics, "hmean", False, "higher is better, pass --greater_is_better true"),
])
def test_best_model_arguments_are_checked_before_training(cls, metric, greater, message, monkeypatch):
    monkeypatch.setenv(FAMILY_ENV, "internvl")
    args = SimpleNamespace(predict_with_generate=True, metric_for_best_model=metric, greater_is_better=greater)
    with pytest.raises(ValueError, match=message):
        cls(args, None)


@pytest.mark.parametrize("cls,metric,greater", [(OcrMetrics, "cer", False), (OcrMetrics, "eval_ned", True),
                                                (OcrDetMetrics, "eval_hmean", True), (OcrDetMetrics, "recall", True)])
def test_best_model_arguments_accepted(cls, metric, greater, monkeypatch):
    monkeypatch.setenv(FAMILY_ENV, "internvl")
    cls(SimpleNamespace(predict_with_generate=True, metric_for_best_model=metric, greater_is_better=greater), None)


def test_token_ids_instead_of_texts_are_refused():
    logits = EvalPrediction(predictions=torch.zeros(2, 5, 7).numpy(), label_ids=torch.zeros(2, 5).numpy())
    token_ids = EvalPrediction(predictions=torch.ones(2, 5, dtype=torch.int64).numpy(),
                               label_ids=torch.full((2, 5), -100).numpy())
    for prediction in (logits, token_ids):
        with pytest.raises(ValueError, match="generated texts"):
            OcrMetrics(ARGS, None).compute_metrics(prediction)


# ------------------------------------------------------------------------------------------- ocr (recognition)


def rec_pairs(shared_data):
    """(prediction, reference) pairs: real references, predictions with the errors OCR models make."""
    words = json.loads((shared_data / "rec_words/labels.json").read_text(encoding="utf-8"))["data_list"]
    refs = [w["instances"][0]["text"] for w in words]
    zh = [line.split("\t")[1].replace("\\n", "\n")
          for line in (shared_data / "zh/gt.tsv").read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    sroie = [ln.split(",", 8)[8] for ln in (shared_data / "sroie/box/000.csv").read_text(encoding="utf-8-sig")
             .splitlines() if ln.strip()][:8]
    refs += zh + ["\n".join(sroie)]
    preds = []
    for i, ref in enumerate(refs):
        kind = i % 6
        if kind == 0:
            preds.append(ref)  # exact
        elif kind == 1:
            preds.append(ref.lower())  # case errors (case is kept by default)
        elif kind == 2:
            preds.append(ref[:-2])  # cut off
        elif kind == 3:  # full-width letters / punctuation and doubled spaces: NFKC + whitespace make them equal
            preds.append("  " + "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in ref) + " \n")
        elif kind == 4:
            preds.append("")  # nothing generated
        else:
            preds.append(ref[::-1] + " extra")
    return preds, refs


def test_ocr_equals_eval_rec_on_the_same_predictions(shared_data, write_swift_results, tmp_path):
    preds, refs = rec_pairs(shared_data)
    labels = list(refs)
    labels[1] = [{"type": "text", "text": refs[1]}]  # a reference given as content parts, as eval rec accepts
    metrics = OcrMetrics(ARGS, SimpleNamespace()).compute_metrics(eval_prediction(preds, labels))

    images = sorted((shared_data / "rec_words").glob("*.jpg"))
    result = write_swift_results(tmp_path / "predict.jsonl",
                                 [(images[i % len(images)], label, pred) for i, (pred, label) in
                                  enumerate(zip(preds, labels))])
    offline = cli_json("eval", "rec", "--results", str(result))
    assert set(metrics) == set(REC_KEYS)
    assert metrics == {k: offline[k] for k in REC_KEYS}  # identical, not approximately equal
    assert metrics["n"] == len(refs) and 0 < metrics["accuracy"] < 1

    # and what they are: jiwer on the NFKC + whitespace-normalised texts (the default normalisation)
    def norm(s):
        return " ".join(unicodedata.normalize("NFKC", s).split())

    assert metrics["cer"] == pytest.approx(jiwer.cer([norm(r) for r in refs], [norm(p) for p in preds]))
    assert metrics["wer"] == pytest.approx(jiwer.wer([norm(r) for r in refs], [norm(p) for p in preds]))
    assert metrics["accuracy"] == sum(norm(p) == norm(r) for p, r in zip(preds, refs)) / len(refs)


def test_ocr_leaves_out_undefined_rates():
    metrics = OcrMetrics(ARGS, SimpleNamespace()).compute_metrics(eval_prediction(["abc", ""], ["", "  "]))
    assert "cer" not in metrics and "wer" not in metrics  # no reference character: undefined, not 0 or inf
    assert metrics["n"] == 2 and metrics["accuracy"] == 0.5


def test_ocr_warns_when_references_exceed_max_new_tokens():
    class Tokenizer:  # one token per character
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": list(text)}

    trainer = SimpleNamespace(model=SimpleNamespace(generation_config=SimpleNamespace(max_new_tokens=4)),
                              template=SimpleNamespace(tokenizer=Tokenizer()))
    metric = OcrMetrics(ARGS, trainer)
    assert metric.warn_long_references(["abcd", "abcdefg", "abcdefgh"]) == 2
    assert metric.warn_long_references(["abc"]) == 0


# ------------------------------------------------------------------------------------------- ocr_det (detection)


@pytest.fixture(scope="module")
def sroie_det(shared_data, tmp_path_factory):
    """The SROIE val receipts converted for InternVL detection, tiled into strips: rows as the trainer sees them."""
    from swift.dataset.preprocessor import RowPreprocessor

    out = tmp_path_factory.mktemp("det")
    subprocess.run([str(BIN / "swift-ocr"), "convert", "--format", "icdar", "--input", str(shared_data / "sroie"),
                    "--task", "det", "--model-family", "internvl", "--max-boxes", "12", "--val-ratio", "0.1",
                    "--seed", "3", "--output", str(out / "train.jsonl")], check=True, capture_output=True)
    rows = [json.loads(line) for line in (out / "train.val.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        RowPreprocessor._cast_mm_data(row)  # images -> [{"bytes": None, "path": ...}], as in ms-swift's dataset
    assert len(rows) >= 4 and all("swift_ocr" in row for row in rows)  # tiles: offsets are exercised
    return rows


def det_responses(labels):
    """Model answers: exact, half the boxes, cut off inside an object, prose, boxes with a repeated object."""
    out = []
    for i, label in enumerate(labels):
        objects = label.split("\n")
        kind = i % 5
        if kind == 0:
            out.append(label)
        elif kind == 1:
            out.append("\n".join(objects[: len(objects) // 2]))
        elif kind == 2:
            out.append(label[: len(label) * 2 // 3])
        elif kind == 3:
            out.append("I cannot read this receipt.")
        else:
            out.append("\n".join(objects + objects[:2]))
    return out


def trainer_with(rows, template):
    """The parts of ms-swift's trainer the metric reads: the validation rows and the template's name."""
    import datasets
    return SimpleNamespace(eval_dataset=datasets.Dataset.from_list(rows),
                           template=SimpleNamespace(template_meta=SimpleNamespace(template_type=template)))


def offline_det(write_swift_results, path, rows, responses):
    items = [(row["images"][0]["path"], row["messages"][-1]["content"], resp, {"swift_ocr": row["swift_ocr"]})
             for row, resp in zip(rows, responses)]
    return cli_json("eval", "det", "--results", str(write_swift_results(path, items)), "--model-family", "internvl")


def test_ocr_det_equals_eval_det_on_the_same_predictions(sroie_det, write_swift_results, tmp_path, monkeypatch):
    monkeypatch.delenv(FAMILY_ENV, raising=False)
    labels = [row["messages"][-1]["content"] for row in sroie_det]
    responses = det_responses(labels)
    metric = OcrDetMetrics(GENERATE, trainer_with(sroie_det, "internvl_hf_ocr_det"))
    assert metric.family == "internvl"
    metrics = metric.compute_metrics(eval_prediction(responses, labels))
    offline = offline_det(write_swift_results, tmp_path / "predict.jsonl", sroie_det, responses)
    assert set(metrics) == set(DET_KEYS)
    assert metrics == {k: offline[k] for k in DET_KEYS}
    # the counts behind the scores, from the data: every label box is ground truth, tiles grouped per receipt
    assert metrics["n_gt"] == sum(label.count("<ref>") for label in labels)
    assert metrics["n_rows"] == len(sroie_det)
    assert metrics["n_images"] == len({row["swift_ocr"]["source_image"] for row in sroie_det})
    assert metrics["truncated"] >= 1 and metrics["duplicates"] >= 1 and metrics["responses_without_detections"] >= 1
    assert 0 < metrics["precision"] < 1 and 0 < metrics["recall"] < 1


def test_ocr_det_finds_rows_by_label_when_the_order_differs(sroie_det, write_swift_results, tmp_path, monkeypatch):
    monkeypatch.setenv(FAMILY_ENV, "internvl")  # the environment names the family (template says nothing)
    labels = [row["messages"][-1]["content"] for row in sroie_det]
    responses = det_responses(labels)
    metric = OcrDetMetrics(GENERATE, trainer_with(list(reversed(sroie_det)), "my_template"))
    metrics = metric.compute_metrics(eval_prediction(responses, labels))
    assert metrics == {k: v for k, v in offline_det(write_swift_results, tmp_path / "p.jsonl", sroie_det,
                                                        responses).items() if k in DET_KEYS}
    stranger = copy.deepcopy(labels)
    stranger[0] = "<ref>x</ref><box>[[1, 2, 3, 4]]</box>"
    with pytest.raises(ValueError, match="not the answer of any validation row"):
        metric.compute_metrics(eval_prediction(responses, stranger))


def test_family_from_template_or_environment(monkeypatch):
    assert [family_for_template(t) for t in ("internvl2", "internvl_hf_ocr_det", "got_ocr2_hf", "qwen2_5_vl",
                                             "qwen2_vl", "deepseek_ocr", "qwen3_vl", None)] == [
        "internvl", "internvl", "got", "qwen2_5_vl", "qwen2_vl", "deepseek_ocr", None, None]
    monkeypatch.delenv(FAMILY_ENV, raising=False)
    with pytest.raises(ValueError, match=FAMILY_ENV):
        resolve_family("qwen3_vl")
    monkeypatch.setenv(FAMILY_ENV, "got")
    assert resolve_family("internvl2") == "got"  # the environment wins
    monkeypatch.setenv(FAMILY_ENV, "tesseract")
    with pytest.raises(ValueError, match="not a detection codec family"):
        resolve_family("internvl2")
