"""ms-swift trainer callbacks for debugging data-parallel OCR runs: ``swift sft --callbacks swift_ocr_seen``.

Registered into ms-swift's ``swift.callbacks.callbacks_map`` by :func:`register_callbacks` (called from
:func:`swift_ocr.msswift.plugin.register_all`, so any ``swift sft --custom_register_path $(swift-ocr plugin-path)`` run can
turn them on with ``--callbacks NAME``; ms-swift 4.6 builds each as ``cls(training_args, trainer)`` on every rank,
``swift/trainers/mixin.py`` ``_get_callbacks``).

``swift_ocr_seen`` (:class:`SeenSamplesCallback`)
    a per-rank record of the samples each process actually trained on: one jsonl file per rank,
    ``rank<R>.jsonl`` (``R`` the global rank, ``--callbacks`` builds it on every node), in the folder
    ``$SWIFT_OCR_SEEN_LOG`` when set, else ``<run dir>/swift_ocr_seen/``. Every training micro-batch a rank runs
    (the ``inputs`` of ``Trainer.training_step``, after ms-swift's sampler sharded the dataset or its streaming
    dispatcher scattered rank 0's batches) appends one line per sample::

        {"rank": 1, "world_size": 2, "step": 3, "target": "<the sample's answer text>", "tokens": "<sha1>"}

    ``step`` is the optimizer step the micro-batch counts towards (1-based, ``global_step + 1``), ``target`` the
    trained answer decoded from the sample's ``labels`` (the tokens that are not ``-100``, without the end-of-turn
    tokens: the transcription or detection text, which names the sample), ``tokens`` a SHA-1 of the sample's
    ``input_ids`` and ``labels`` (padding dropped) that tells two samples with the same answer apart. Evaluation
    batches are not recorded. Reading the files of all ranks together answers "did every sample of the epoch
    reach exactly one rank?". What to expect from ms-swift 4.6: its ``BatchSamplerShard`` (map-style datasets) deals
    ``N // world_size`` samples to each rank, so when the ``N`` training rows do not divide by ``world_size`` the
    last ``N % world_size`` rows (in the order ms-swift loaded them, after its ``--dataset_shuffle``) are left out of
    every epoch; with ``--packing true`` / ``--padding_free true`` one line stands for a whole packed sequence.
    Lines are appended with one ``O_APPEND`` write each; a folder given by ``$SWIFT_OCR_SEEN_LOG`` is appended to
    across runs (the default folder is new with each versioned run directory). At the start of training each rank
    also logs accelerate's ``distributed_type`` and the model's wrapper, and warns when several processes train with
    ``distributed_type NO`` (no gradient all-reduce: each rank trains its own copy).

Importing this module imports ms-swift (only the plugin and the tests do).
"""
from __future__ import annotations

import hashlib
import os
from typing import Any, Dict, List

from swift.callbacks import TrainerCallback, callbacks_map
from swift.utils import get_logger

from swift_ocr.io_utils import append_line
from swift_ocr.msswift.registry import register_classes

logger = get_logger()
SEEN_CALLBACK = "swift_ocr_seen"
#: Folder for the per-rank files of ``swift_ocr_seen`` (default: ``<run dir>/swift_ocr_seen``).
SEEN_LOG_ENV = "SWIFT_OCR_SEEN_LOG"
IGNORE_INDEX = -100


def seen_rows(inputs: Dict[str, Any], tokenizer) -> List[Dict[str, str]]:
    """``{"target", "tokens"}`` for each sample of one collated training batch (``input_ids`` and ``labels``
    tensors of shape ``[batch, length]``): the answer decoded from the labels that are not ``-100`` and a SHA-1 of
    the sample's non-padding ``input_ids`` plus its labels. The end-of-turn tokens that close the answer (special
    or blank tokens at its end) are left out of ``target``; special tokens inside it (InternVL's ``<ref>`` /
    ``<box>``) are kept. A batch without ``labels`` gives no rows."""
    labels = inputs.get("labels")
    input_ids = inputs.get("input_ids")
    if labels is None:
        return []
    mask = inputs.get("attention_mask")
    special = set(getattr(tokenizer, "all_special_ids", ()) or ())
    rows = []
    for i in range(labels.shape[0]):
        label_row = labels[i]
        answer = label_row[label_row != IGNORE_INDEX].tolist()
        digest = hashlib.sha1()
        if input_ids is not None and input_ids.dim() == labels.dim():
            ids = input_ids[i]
            if mask is not None and mask.dim() == labels.dim():
                ids = ids[mask[i].bool()]
            digest.update(repr(ids.tolist()).encode())
        digest.update(repr(answer).encode())
        end = len(answer)
        # the end-of-turn tokens the template appends (e.g. ``<|im_end|>`` and a newline)
        while end and (answer[end - 1] in special or not tokenizer.decode(answer[end - 1:end]).strip()):
            end -= 1
        rows.append({"target": tokenizer.decode(answer[:end]), "tokens": digest.hexdigest()})
    return rows


class SeenSamplesCallback(TrainerCallback):
    """``--callbacks swift_ocr_seen``: write the samples each rank trains on to ``rank<R>.jsonl`` (module
    docstring). It wraps the trainer's ``training_step`` (transformers' callbacks are not shown the batches)."""

    def __init__(self, args, trainer):
        super().__init__(args, trainer)
        self.rank = int(args.process_index)
        self.world_size = int(args.world_size)
        folder = os.environ.get(SEEN_LOG_ENV) or os.path.join(args.output_dir, "swift_ocr_seen")
        os.makedirs(folder, exist_ok=True)
        self.path = os.path.join(os.path.abspath(folder), f"rank{self.rank}.jsonl")
        self.tokenizer = trainer.template.tokenizer
        step = trainer.training_step

        def training_step(model, inputs, *rest, **kwargs):
            self.record(inputs)
            return step(model, inputs, *rest, **kwargs)

        trainer.training_step = training_step
        logger.info(f"swift-ocr: rank {self.rank} records the samples it trains on in {self.path}")

    def on_train_begin(self, args, state, control, **kwargs):
        """Log how the ranks are connected; warn when several processes train without a gradient all-reduce
        (accelerate sees no distributed setup, so every rank would keep its own weights)."""
        accelerator = getattr(self.trainer, "accelerator", None)
        kind = str(getattr(accelerator, "distributed_type", "unknown")).rsplit(".", 1)[-1]
        wrapped = type(getattr(self.trainer, "model_wrapped", None)).__name__
        logger.info(f"swift-ocr: rank {self.rank}/{self.world_size}: accelerate distributed_type {kind}, "
                    f"model wrapped as {wrapped}")
        if self.world_size > 1 and kind == "NO":
            logger.warning(f"swift-ocr: {self.world_size} processes but accelerate's distributed_type is NO: "
                           "gradients are not synchronised between ranks")

    def record(self, inputs: Dict[str, Any]) -> None:
        """Append one line per sample of a training micro-batch to this rank's file."""
        step = self.trainer.state.global_step + 1
        for row in seen_rows(inputs, self.tokenizer):
            append_line(self.path, {"rank": self.rank, "world_size": self.world_size, "step": step, **row})


CALLBACKS = {SEEN_CALLBACK: SeenSamplesCallback}


def register_callbacks() -> List[str]:
    """Add ``swift_ocr_seen`` to ``swift.callbacks.callbacks_map``; returns the names. Registering again is a no-op.

    Raises:
        ValueError: a name is already taken by a callback that is not ours.
    """
    return register_classes(callbacks_map, CALLBACKS, "callback")
