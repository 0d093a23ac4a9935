"""Read the ``logging.jsonl`` that ``swift sft`` writes into its output folder (ms-swift 4.6.0).

Format (ms-swift ``swift/trainers/patcher.py``, ``ProgressCallbackNew.on_log`` -> ``append_to_jsonl``): one JSON
object per ``Trainer.log`` call, e.g.::

    {"loss": 10.70454407, "grad_norm": 5.13, "learning_rate": 5e-05, "token_acc": 0.0036, "epoch": 0.5,
     "global_step/max_steps": "1/2", "elapsed_time": "6s", "remaining_time": "6s", "train_speed(s/it)": 5.57}
    {"eval_loss": 10.565, "eval_runtime": 13.6, "eval_samples_per_second": 0.221, "eval_token_acc": 0.0,
     "epoch": 1.0, "global_step/max_steps": "2/2", ...}

followed by a training summary (``train_runtime``, ``train_loss``) and, from ``swift/pipelines/train/sft.py``, a
final object with ``log_history`` and the checkpoints. The step of a record is the ``N`` of
``"global_step/max_steps": "N/M"`` (or an integer ``step`` / ``global_step``).

Series read: the training ``loss`` per step, and every numeric ``eval_*`` key of evaluation records except the
timing ones (``eval_runtime``, ``eval_samples_per_second``, ``eval_steps_per_second``): ``eval_loss``,
``eval_token_acc`` and OCR metrics computed during training (e.g. ``eval_cer``, ``eval_hmean``). Records without a
step, and non-finite values, are skipped (counted in :attr:`TrainLog.skipped`).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

__all__ = ["TrainLog", "read_train_log"]

_TIMING = {"eval_runtime", "eval_samples_per_second", "eval_steps_per_second"}

Series = List[Tuple[int, float]]


@dataclass
class TrainLog:
    """Curves of one training run.

    Attributes:
        path: the log file.
        train: ``{"loss": [(step, value), ...]}`` (empty when the log holds no training loss).
        eval: ``{"eval_loss": [(step, value), ...], "eval_cer": [...], ...}`` in file order.
        max_steps: the ``M`` of ``global_step/max_steps`` (None if absent).
        skipped: values that were not finite numbers.
    """

    path: str
    train: Dict[str, Series] = field(default_factory=dict)
    eval: Dict[str, Series] = field(default_factory=dict)
    max_steps: Optional[int] = None
    skipped: int = 0

    def __bool__(self) -> bool:
        return bool(self.train or self.eval)


def _step(rec: dict) -> Tuple[Optional[int], Optional[int]]:
    gs = rec.get("global_step/max_steps")
    if isinstance(gs, str) and "/" in gs:
        a, _, b = gs.partition("/")
        try:
            return int(a), int(b)
        except ValueError:
            pass
    for key in ("step", "global_step"):
        v = rec.get(key)
        if isinstance(v, int) and not isinstance(v, bool):
            return v, None
    return None, None


def _number(v) -> Optional[float]:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return None


def read_train_log(path) -> TrainLog:
    """Read a ``swift sft`` ``logging.jsonl`` into loss and evaluation curves (module docstring).

    Raises:
        OSError: the file cannot be read.
        OcrFormatError: a line is not valid JSON or not an object (``file:line: reason``).
    """
    from swift_ocr.errors import OcrFormatError

    source = os.fspath(path)
    log = TrainLog(path=source)
    with open(source, encoding="utf-8") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise OcrFormatError(source, line_no, f"invalid JSON: {exc.msg} at column {exc.colno}") from exc
            if not isinstance(rec, dict):
                raise OcrFormatError(source, line_no, f"expected a JSON object, got {type(rec).__name__}")
            step, max_steps = _step(rec)
            if step is None:
                continue
            if max_steps is not None:
                log.max_steps = max_steps
            for key, value in rec.items():
                if key == "loss":
                    target = log.train
                elif key.startswith("eval_") and key not in _TIMING:
                    target = log.eval
                else:
                    continue
                v = _number(value)
                if v is None:
                    continue
                if not math.isfinite(v):
                    log.skipped += 1
                    continue
                target.setdefault(key, []).append((step, v))
    return log
