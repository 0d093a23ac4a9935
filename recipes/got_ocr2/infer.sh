#!/usr/bin/env bash
# Batch OCR inference with GOT-OCR2 over an ms-swift jsonl, with ms-swift 4.x `swift infer`.
#
# Three ways to pick the model:
#   MODEL=<merged dir>                 the MERGED=... line of merge.sh (or any full model dir / hub id)
#   ADAPTERS=<checkpoint>              a LoRA checkpoint; base model, model_type, template come from its args.json
#   neither                            the untuned base model stepfun-ai/GOT-OCR-2.0-hf (a zero-shot baseline)
#
# Dataset: `--val_dataset $VAL_DATASET` — ms-swift loads a --val_dataset whole (split ratio 1.0) and in file
# order (val_dataset_shuffle defaults to false), so result row i is input row i. (`--dataset` would instead
# be split by --split_dataset_ratio, 0 by default in ms-swift 4.x, which means no dataset at all and the
# interactive prompt.) With ADAPTERS and LOAD_DATA_ARGS=true the validation data of the training run is
# used instead (--load_data_args true).
#
# Environment variables (default in brackets):
#   VAL_DATASET (required unless LOAD_DATA_ARGS=true)  jsonl(s), space separated, or one per line when a path
#                         holds spaces; a value that names an existing file is one path even with spaces
#   MODEL [stepfun-ai/GOT-OCR-2.0-hf when ADAPTERS is empty]  ADAPTERS []  MERGE_LORA [false]
#   MODEL_TYPE [got_ocr2_hf]  TEMPLATE [got_ocr2_hf]  (with ADAPTERS: only passed when set)
#   RESULT_PATH [output/infer_result/<timestamp>.jsonl]   OVERWRITE [false] (ms-swift appends to an
#                         existing file, so an existing RESULT_PATH is an error unless OVERWRITE=true; it is
#                         deleted only once every check passed, right before swift infer runs, never on DRY_RUN)
#   MAX_NEW_TOKENS [4096]  TEMPERATURE [0]  INFER_BACKEND [transformers]  MAX_BATCH_SIZE [1]
#   TORCH_DTYPE []  VAL_DATASET_SAMPLE []  LOAD_DATA_ARGS [false]
#   CUSTOM_REGISTER_PATH []  passed as --custom_register_path
#   NPROC_PER_NODE [] NNODES [] NODE_RANK [] MASTER_ADDR [] MASTER_PORT []  several GPUs/machines: ms-swift's
#                         launcher starts torchrun and shards VAL_DATASET over the processes (data parallel);
#                         rows may then come back out of input order, which swift-ocr eval rec does not mind
#                         (it scores each row's own response against its own labels)
#   DRY_RUN [false]  only print the swift command
#   EXTRA_ARGS []  appended verbatim (shell quoting rules);  SWIFT [swift]  the ms-swift launcher
#
# Output: the `swift infer` command line after "+ " (paste it into bash as is), ms-swift's log, then on the last
# line of stdout
#   RESULT_PATH=/abs/path.jsonl
# Each result row is the input row plus "response" (the model's text) and "labels" (the reference:
# the input's last assistant message); "messages" ends with the predicted assistant turn.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-}

so_resolve_swift
so_extra_args
family_args=()
[[ -n "$CUSTOM_REGISTER_PATH" ]] && family_args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
so_infer stepfun-ai/GOT-OCR-2.0-hf got_ocr2_hf got_ocr2_hf "${family_args[@]}"
