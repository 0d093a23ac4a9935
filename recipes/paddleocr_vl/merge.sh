#!/usr/bin/env bash
# Merge a PaddleOCR-VL LoRA checkpoint (sft_lora.sh / sft_lora_det.sh) into its base model with ms-swift 4.x:
#   swift export --adapters $ADAPTERS --merge_lora true [--output_dir $MERGED_DIR]
# The base model, model_type, template and dtype come from the checkpoint's args.json (written by `swift sft`), so only
# ADAPTERS is needed. The swift-ocr plugin is passed so that the template named there (paddle_ocr_1_5_compat) exists.
#
# Environment variables (default in brackets):
#   ADAPTERS (required; CHECKPOINT is accepted too)  the LoRA checkpoint dir printed by sft_lora.sh
#   MERGED_DIR [ms-swift default: ${ADAPTERS}-merged]   where the merged model goes (--output_dir)
#   EXIST_OK [false]      true: overwrite an existing MERGED_DIR (--exist_ok true); false: fail
#   MODEL []  MODEL_TYPE []  TEMPLATE []  TORCH_DTYPE []   override what args.json says (only passed when set)
#   CUSTOM_REGISTER_PATH [swift_ocr/msswift/_plugin/swift_ocr_plugin.py of this checkout]  (none: not passed)
#   DRY_RUN [false]  only print the swift command;  EXTRA_ARGS []  appended verbatim;  SWIFT [swift]  the launcher
#
# Output: the `swift export` command line, ms-swift's log, then on the last line of stdout
#   MERGED=/abs/path/to/merged/model   (a full model dir: pass it as MODEL to infer.sh)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

so_merge_settings sft_lora.sh --plugin   # ADAPTERS, MERGED_DIR, EXIST_OK, CUSTOM_REGISTER_PATH (../common.sh)

so_resolve_swift
so_extra_args

# shellcheck disable=SC2119  # no extra swift args
so_merge
