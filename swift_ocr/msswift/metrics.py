"""OCR evaluation metrics for ``swift sft``: ``--eval_metric ocr`` and ``--eval_metric ocr_det`` (ms-swift 4.6).

Registered into ms-swift's ``swift.metrics.eval_metrics_map`` by :func:`register_metrics` (called from
:func:`swift_ocr.msswift.plugin.register_all`, so any ``swift sft --custom_register_path $(swift-ocr plugin-path)`` run can
pick them). How ms-swift 4.6.0 runs them (``swift/trainers/mixin.py`` ``create_loss_and_eval_metric``,
``swift/trainers/seq2seq_trainer.py`` ``prediction_step``, ``swift/metrics/nlg.py``):

* ``eval_metrics_map[NAME]`` is a class; the trainer builds it once as ``cls(args, trainer)`` and hands its
  ``compute_metrics`` to transformers' ``Trainer``, which calls it at the end of every evaluation with an
  ``EvalPrediction`` for the whole validation set (all ranks gathered, dataset order).
* With ``--predict_with_generate true`` each validation row is answered by ms-swift's own ``TransformersEngine``
  (greedy unless ``--temperature`` says otherwise, at most the model's ``generation_config.max_new_tokens`` =
  ``--max_new_tokens`` tokens, **default 64**: too short for a page of OCR text, a truncated answer inflates CER).
  ``predictions[i]`` is the generated text and ``label_ids[i]`` the row's final assistant message
  (``remove_response(messages)``), both pickled into ``uint8`` tensors by ``swift.utils.Serializer`` and padded
  (with 0, and with -100 across batches: the length prefix of the pickle makes the padding irrelevant). The same
  rows are appended to ``<output_dir>/predict.jsonl`` as ``{"response", "labels", **row}``; ms-swift moves that file
  into the checkpoint folder saved next (``checkpoint-N/predict.jsonl``), so with ``eval_steps == save_steps`` it
  holds exactly the rows scored for that checkpoint.
* transformers prefixes every key with ``eval_`` (``cer`` -> ``eval_cer``) and keeps the best checkpoint by
  ``--metric_for_best_model``; ms-swift writes it as ``best_model_checkpoint`` on the last line of
  ``<run dir>/logging.jsonl``. ms-swift's defaults do not fit: without ``--metric_for_best_model`` it picks
  ``rouge-l`` (which these metrics do not return: transformers then raises a KeyError), and it guesses
  ``greater_is_better`` true for every metric but the loss. Pass ``--metric_for_best_model cer --greater_is_better
  false`` (``ocr``) or ``--metric_for_best_model hmean --greater_is_better true`` (``ocr_det``). Both metrics check
  these two arguments when the trainer builds them and raise ``ValueError`` before training starts otherwise.

``ocr`` returns ``cer``, ``wer``, ``ned`` (= 1-NED), ``accuracy`` and ``n``: the numbers ``swift-ocr eval rec --json``
prints for the same predictions, computed by the same code (:func:`swift_ocr.eval.results.parse_row`, then
:func:`swift_ocr.eval.metrics.rec.score_pairs` with the default normalisation: NFKC, whitespace runs -> one space, case
kept). Units and definitions: :mod:`swift_ocr.eval.metrics.rec`. A rate that is undefined (no reference character at
all) is left out of the result, with a warning.

``ocr_det`` returns ``precision``, ``recall``, ``hmean`` (ICDAR 2015 protocol, IoU > 0.5, ground truth = the
labels) and the counts ``n_images``, ``n_gt``, ``n_det``, ``n_matched``, ``unparsed``, ``truncated``,
``duplicates``, ``responses_without_detections``, ``extra_text``, ``n_rows``: the numeric fields of
``swift-ocr eval det --json --model-family FAMILY`` on the same rows, computed by the same code
(:func:`swift_ocr.eval.det_results.load_det_images`, :func:`swift_ocr.eval.det_scoring.score` /
:func:`~swift_ocr.eval.det_scoring.summary`). Detection text must be parsed with the family's codec and the size of
each row's image, so the metric rebuilds the rows ms-swift writes to ``predict.jsonl`` from the trainer's
validation dataset (matched by position and checked against the label text) and scores them as that file.
The family is the environment variable ``SWIFT_OCR_FAMILY`` (a registered family,
:func:`swift_ocr.families.family_names`), else inferred from the trainer's template name (``--template``;
:func:`family_for_template`). The codec is the family's for ms-swift's environment
(:meth:`swift_ocr.families.base.ModelFamily.codec_for_env`; ``qwen2_5_vl`` coordinates are scored with ms-swift's
resize, :meth:`swift_ocr.codecs.qwen2_5_vl.Qwen25VLCodec.for_ms_swift`, from ``MAX_PIXELS`` / ``MIN_PIXELS``): pass the
same ``--min-pixels`` / ``--max-pixels`` to ``swift-ocr eval det`` to get the same numbers offline. Tiles: ``swift sft`` drops the extra ``swift_ocr`` column of tiled rows (ms-swift's
``--remove_unused_columns`` default), so during training each tile is scored as its own image, in
``predict.jsonl`` and offline alike; ``swift infer --remove_unused_columns false`` keeps it and ``eval det`` then
scores whole pages.

Both metrics need ``--predict_with_generate true`` (without it ms-swift hands over logits, not text) and raise
``ValueError`` when built without it. Importing this module imports ms-swift (only the plugin and tests do).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from swift.metrics import eval_metrics_map
from swift.metrics.base import EvalMetrics
from swift.utils import Serializer, check_json_format, get_logger, remove_response

from swift_ocr.msswift.registry import register_classes

logger = get_logger()

__all__ = ["FAMILY_ENV", "REC_KEYS", "DET_KEYS", "OcrMetrics", "OcrDetMetrics", "decode_eval_prediction",
           "family_for_template", "resolve_family", "register_metrics"]

#: Environment variable naming the detection codec family of ``--eval_metric ocr_det``.
FAMILY_ENV = "SWIFT_OCR_FAMILY"
#: Keys ``ocr`` returns (those of ``swift-ocr eval rec --json``).
REC_KEYS = ("cer", "wer", "ned", "accuracy", "n")
#: Keys ``ocr_det`` returns (the numeric fields of ``swift-ocr eval det --json``).
DET_KEYS = ("precision", "recall", "hmean", "n_images", "n_gt", "n_det", "n_matched", "unparsed", "truncated",
            "duplicates", "responses_without_detections", "extra_text", "n_rows")

def family_for_template(template: Optional[str]) -> Optional[str]:
    """The detection codec family of an ms-swift template name, or None when it names none: the family whose
    template prefixes match it longest (:func:`swift_ocr.families.family_for_template`; e.g. ``internvl*`` ->
    ``internvl``, ``got_ocr2*`` -> ``got``). Other templates (``qwen3_vl``, ...) give None: name the family with
    :data:`FAMILY_ENV`.
    """
    from swift_ocr.families import family_for_template as lookup

    return lookup(template)


def resolve_family(template: Optional[str], environ: Optional[Dict[str, str]] = None) -> str:
    """The family ``ocr_det`` scores with: ``$SWIFT_OCR_FAMILY`` when set, else :func:`family_for_template`.

    Raises:
        ValueError: ``SWIFT_OCR_FAMILY`` is not a known family, or it is unset and the template names none.
    """
    from swift_ocr.families import family_names

    env = os.environ if environ is None else environ
    family = (env.get(FAMILY_ENV) or "").strip()
    if family:
        if family not in family_names():
            raise ValueError(f"{FAMILY_ENV}={family!r} is not a detection codec family; known: "
                             f"{', '.join(family_names())}")
        return family
    family = family_for_template(template)
    if family is None:
        raise ValueError(f"--eval_metric ocr_det: cannot tell the detection codec family from --template {template!r}; "
                         f"set {FAMILY_ENV} to one of {', '.join(family_names())}")
    return family


def decode_eval_prediction(eval_prediction) -> Tuple[List[Any], List[Any]]:
    """``(predictions, labels)`` of a ``predict_with_generate`` ``EvalPrediction``: one object per validation row,
    unpickled with ``swift.utils.Serializer.from_tensor`` as ms-swift's ``NlgMetrics`` does (the generated text, and
    the reference: a string, or whatever the row's last assistant ``content`` was, None without one).

    Raises:
        ValueError: the arrays are not 2-D ``uint8`` rows of equal count (``--predict_with_generate`` is off: ms-swift
            then hands over logits / token ids).
    """
    preds, labels = eval_prediction.predictions, eval_prediction.label_ids
    serialised = all(getattr(a, "ndim", None) == 2 and getattr(a, "dtype", None) == np.uint8 for a in (preds, labels))
    if not serialised or preds.shape[0] != labels.shape[0]:
        raise ValueError("swift-ocr metrics need the generated texts of --predict_with_generate true; got arrays of "
                         f"shape {getattr(preds, 'shape', None)} and {getattr(labels, 'shape', None)}")
    return ([Serializer.from_tensor(preds[i]) for i in range(preds.shape[0])],
            [Serializer.from_tensor(labels[i]) for i in range(labels.shape[0])])


class _GeneratedTextMetrics(EvalMetrics):
    """Common checks of the two metrics (generated text needed, a best-model metric they return, in the right
    direction; warn on references longer than the generation budget)."""

    name = ""
    example = ""
    #: metric name -> True when higher is better (the names ``--metric_for_best_model`` may take)
    directions: Dict[str, bool] = {}

    def __init__(self, args, trainer):
        super().__init__(args, trainer)
        if not getattr(args, "predict_with_generate", False):
            raise ValueError(f"--eval_metric {self.name} scores generated text: add --predict_with_generate true")
        self.check_best_model_args(getattr(args, "metric_for_best_model", None),
                                   getattr(args, "greater_is_better", None))
        self.evaluations = 0
        self._ref_tokens: Dict[str, int] = {}  # reference -> token count (the references repeat every evaluation)

    def check_best_model_args(self, metric: Optional[str], greater_is_better: Optional[bool]) -> None:
        """Refuse, before training starts, a ``--metric_for_best_model`` this metric does not return (ms-swift's
        default with ``--predict_with_generate`` is ``rouge-l``: transformers would raise a KeyError at the first
        evaluation) or a ``--greater_is_better`` pointing the wrong way (ms-swift and transformers guess true for
        every metric but the loss, so ``--metric_for_best_model cer`` alone would keep the worst checkpoint).

        Raises:
            ValueError: naming the arguments to pass.
        """
        if metric is None:
            return
        key = metric[len("eval_"):] if metric.startswith("eval_") else metric
        if key not in self.directions:
            raise ValueError(f"--eval_metric {self.name} does not compute {metric!r} (--metric_for_best_model); "
                             f"choose one of {', '.join(self.directions)}, e.g. {self.example}")
        if greater_is_better is not None and bool(greater_is_better) != self.directions[key]:
            raise ValueError(f"--metric_for_best_model {metric}: {'higher' if self.directions[key] else 'lower'} is "
                             f"better, pass --greater_is_better {str(self.directions[key]).lower()}")

    def _max_new_tokens(self) -> Optional[int]:
        config = getattr(getattr(self.trainer, "model", None), "generation_config", None)
        value = getattr(config, "max_new_tokens", None)
        return value if isinstance(value, int) and value > 0 else None

    def warn_long_references(self, refs: Sequence[str]) -> int:
        """Log a warning when references have more tokens than the generation budget (``--max_new_tokens``): those
        answers are cut off and their errors counted. Returns how many references are too long (0 when the
        tokenizer or the budget is unknown)."""
        limit = self._max_new_tokens()
        tokenizer = getattr(getattr(self.trainer, "template", None), "tokenizer", None)
        if limit is None or tokenizer is None:
            return 0
        try:
            for r in refs:
                if r not in self._ref_tokens:
                    self._ref_tokens[r] = len(tokenizer(r, add_special_tokens=False)["input_ids"])
            lengths = [self._ref_tokens[r] for r in refs]
        except Exception as exc:  # a tokenizer quirk must not stop training: the check is advice only
            logger.warning(f"swift-ocr {self.name}: could not count reference tokens ({exc})")
            return 0
        too_long = sum(n > limit for n in lengths)
        if too_long:
            logger.warning(
                f"swift-ocr {self.name}: {too_long} of {len(refs)} validation references are longer than "
                f"max_new_tokens={limit} tokens (longest {max(lengths)}): their answers are cut off and the scores "
                f"count the missing text as errors. Raise --max_new_tokens (recipes: EVAL_MAX_NEW_TOKENS).")
        return too_long

    def preprocess_logits_for_metrics(self, logits, labels):
        """Identity (the generated texts arrive already serialised)."""
        return logits


class OcrMetrics(_GeneratedTextMetrics):
    """``--eval_metric ocr``: CER, WER, 1-NED, exact-match accuracy of the generated text against the labels, as
    ``swift-ocr eval rec --json`` (module docstring). Rates are fractions (0.25 = 25 %); ``cer``/``wer`` lower is
    better, ``ned``/``accuracy`` higher is better."""

    name = "ocr"
    directions = {"cer": False, "wer": False, "ned": True, "accuracy": True}
    example = "--metric_for_best_model cer --greater_is_better false"

    def compute_metrics(self, eval_prediction) -> Dict[str, float]:
        """``{'cer', 'wer', 'ned', 'accuracy', 'n'}`` of one evaluation (undefined rates left out, with a warning).

        Raises:
            ValueError: not generated text (see :func:`decode_eval_prediction`).
            OcrFormatError: a row without a reference (``labels`` None) or with unsupported content parts, as
                ``swift-ocr eval rec`` reports it.
        """
        from swift_ocr.eval.metrics.rec import score_pairs
        from swift_ocr.eval.results import parse_row

        preds, labels = decode_eval_prediction(eval_prediction)
        self.evaluations += 1
        source = f"<evaluation {self.evaluations} of swift sft --eval_metric ocr>"
        rows = [parse_row({"response": p, "labels": r}, source, i + 1) for i, (p, r) in enumerate(zip(preds, labels))]
        refs = [row.ref for row in rows]
        self.warn_long_references(refs)
        metrics = score_pairs([row.pred for row in rows], refs).overall.metrics()
        undefined = [k for k, v in metrics.items() if v is None]
        if undefined:
            logger.warning(f"swift-ocr ocr: {', '.join(undefined)} undefined (no reference text) and left out")
        return {k: v for k, v in metrics.items() if v is not None}


class OcrDetMetrics(_GeneratedTextMetrics):
    """``--eval_metric ocr_det``: ICDAR 2015 precision / recall / Hmean of the generated detection text against the
    labels, parsed with the family codec, as ``swift-ocr eval det --json`` (module docstring). Scores are fractions
    in [0, 1], higher is better."""

    name = "ocr_det"
    directions = {"hmean": True, "precision": True, "recall": True}
    example = "--metric_for_best_model hmean --greater_is_better true"

    def __init__(self, args, trainer):
        super().__init__(args, trainer)
        meta = getattr(getattr(trainer, "template", None), "template_meta", None)
        self.template_name = getattr(meta, "template_type", None) or getattr(args, "template", None)
        self.family = resolve_family(self.template_name)
        self.codec = _codec(self.family)
        self.cli_args = argparse.Namespace(iou=0.5, spotting=None, model_family=self.family, gt=None, note=None)

    def rows(self, preds: Sequence[Any], labels: Sequence[Any]) -> List[dict]:
        """The rows ms-swift writes to ``predict.jsonl`` for this evaluation: ``{"response", "labels", **row}`` with
        ``row`` the validation dataset's row of each prediction.

        Rows are taken by position (transformers evaluates the validation set in order and gathers it in order) and
        each one's final assistant message must equal the label handed over; otherwise the rows are looked up by
        their label text.

        Raises:
            ValueError: no validation dataset, or a label that no validation row has.
        """
        dataset = getattr(self.trainer, "eval_dataset", None)
        if dataset is None or not hasattr(dataset, "__len__"):
            raise ValueError("--eval_metric ocr_det needs the trainer's validation dataset (rows with images)")

        def row_and_label(i: int) -> Tuple[dict, Any]:
            row = dict(dataset[i])
            messages = copy.deepcopy(row.get("messages") or [])
            label = remove_response(messages)
            return row, label

        n = len(preds)
        if len(dataset) == n:
            pairs = [row_and_label(i) for i in range(n)]
            if all(label == ref for (_, label), ref in zip(pairs, labels)):
                return [{"response": p, "labels": r, **row} for p, r, (row, _) in zip(preds, labels, pairs)]
        by_label: Dict[str, List[dict]] = {}
        for i in range(len(dataset)):
            row, label = row_and_label(i)
            by_label.setdefault(json.dumps(label, sort_keys=True), []).append(row)
        out = []
        for i, (p, r) in enumerate(zip(preds, labels)):
            found = by_label.get(json.dumps(r, sort_keys=True))
            if not found:
                raise ValueError(f"--eval_metric ocr_det: prediction {i + 1}'s label is not the answer of any "
                                 f"validation row: {r!r:.80}")
            row = found.pop(0) if len(found) > 1 else found[0]
            out.append({"response": p, "labels": r, **row})
        return out

    def compute_metrics(self, eval_prediction) -> Dict[str, float]:
        """The numeric fields of ``swift-ocr eval det --json`` (:data:`DET_KEYS`) for one evaluation.

        Raises:
            ValueError: not generated text, or the rows cannot be matched to the validation set.
            OcrFormatError: a row without an image file, or labels that do not parse with the family's codec
                (wrong ``SWIFT_OCR_FAMILY`` / template), as ``swift-ocr eval det`` reports them.
        """
        from swift_ocr.eval.det_scoring import score, summary
        from swift_ocr.eval.det_results import load_det_images

        preds, labels = decode_eval_prediction(eval_prediction)
        self.evaluations += 1
        rows = self.rows(preds, labels)
        self.warn_long_references([r for r in labels if isinstance(r, str)])
        with tempfile.TemporaryDirectory(prefix="swift_ocr_det_eval_") as tmp:
            path = os.path.join(tmp, f"evaluation-{self.evaluations}.jsonl")
            with open(path, "w", encoding="utf-8") as fh:  # as swift.utils.JsonlWriter writes predict.jsonl
                for row in check_json_format(rows):
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            items = load_det_images(path, self.codec, family=self.family)
        result = score(items, self.cli_args)
        summ = summary(result, items, self.cli_args)
        return {k: summ[k] for k in DET_KEYS if k in summ}


def _codec(family: str):
    """The codec ``ocr_det`` parses with: the family's codec matching ms-swift's image handling under this process's
    environment (:meth:`swift_ocr.families.base.ModelFamily.codec_for_env`; qwen2_5_vl: ``MAX_PIXELS`` /
    ``MIN_PIXELS``)."""
    from swift_ocr.families import get_family

    return get_family(family).codec_for_env()


METRICS = {"ocr": OcrMetrics, "ocr_det": OcrDetMetrics}


def register_metrics() -> List[str]:
    """Add ``ocr`` and ``ocr_det`` to ``swift.metrics.eval_metrics_map``; returns the names. Registering again is a
    no-op.

    Raises:
        ValueError: a name is already taken by a metric that is not ours.
    """
    return register_classes(eval_metrics_map, METRICS, "eval metric")
