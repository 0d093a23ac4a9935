#!/usr/bin/env bash
# Batch text detection with an InternVL2 model over an ms-swift jsonl of detection samples, with ms-swift 4.x
# `swift infer`; score the result with `swift-ocr eval det --results RESULT_PATH --model-family internvl`.
#
# Three ways to pick the model:
#   MODEL=<merged dir>                 the MERGED=... line of merge.sh (or any full model dir / hub id)
#   ADAPTERS=<checkpoint>              a LoRA checkpoint; base model, model_type, template come from its args.json
#   neither                            the untuned base model OpenGVLab/InternVL2-8B (a zero-shot baseline)
#
# Dataset: `--val_dataset $VAL_DATASET`, loaded whole and in file order, so result row i is input row i.
# `--remove_unused_columns false` is passed by default so that each row's extra "swift_ocr" field (tile size,
# offset and source image of tiled pages: swift_ocr/tasks/det.py) reaches the result file, where
# `swift-ocr eval det` maps tile boxes back to their page; ms-swift drops unknown columns otherwise.
#
# Environment variables (default in brackets):
#   VAL_DATASET (required unless LOAD_DATA_ARGS=true)  jsonl(s), space separated, or one per line when a path
#                         holds spaces; a value that names an existing file is one path even with spaces
#   MODEL [OpenGVLab/InternVL2-8B when ADAPTERS is empty]  ADAPTERS []  MERGE_LORA [false]
#   MODEL_TYPE [internvl_chat]  TEMPLATE [internvl2_ocr_det]  (with ADAPTERS: only passed when set)
#   RESULT_PATH [output/infer_result/<timestamp>.jsonl]   OVERWRITE [false] (ms-swift appends to an
#                         existing file, so an existing RESULT_PATH is an error unless OVERWRITE=true; it is
#                         deleted only once every check passed, right before swift infer runs, never on DRY_RUN)
#   MAX_NEW_TOKENS [4096]  TEMPERATURE [0]  INFER_BACKEND [transformers]  MAX_BATCH_SIZE [1]
#   MAX_NUM [6]           tiles per image of the internvl2 templates (exported and printed in front of the
#                         command; must match training)
#   KEEP_COLUMNS [true]   false: let ms-swift drop extra columns (no --remove_unused_columns false)
#   TORCH_DTYPE []  VAL_DATASET_SAMPLE []  LOAD_DATA_ARGS [false]
#   CUSTOM_REGISTER_PATH [swift_ocr/msswift/_plugin/swift_ocr_plugin.py of this checkout]  (none: not passed)
#   DRY_RUN [false]  only print the swift command
#   EXTRA_ARGS []  appended verbatim (shell quoting rules);  SWIFT [swift]  the ms-swift launcher
#
# Output: the `swift infer` command line after "+ " (with MAX_NUM; paste it into bash as is), ms-swift's log, then
# on the last line of stdout
#   RESULT_PATH=/abs/path.jsonl
# Each result row is the input row plus "response" (the model's text) and "labels" (the reference:
# the input's last assistant message).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

KEEP_COLUMNS=${KEEP_COLUMNS:-true}
export MAX_NUM=${MAX_NUM:-6}
so_posint MAX_NUM "$MAX_NUM"
SO_CMD_ENV+=(MAX_NUM)
CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-$SWIFT_OCR_PLUGIN}

so_resolve_swift
so_extra_args
family_args=()
so_is_true "$KEEP_COLUMNS" && family_args+=(--remove_unused_columns false)
[[ "${CUSTOM_REGISTER_PATH,,}" != none ]] && family_args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
so_log "MAX_NUM=$MAX_NUM (tiles per image, internvl2 templates)"
so_infer OpenGVLab/InternVL2-8B internvl_chat internvl2_ocr_det "${family_args[@]}"
