#!/usr/bin/env bash
# Merge a DeepSeek-OCR LoRA checkpoint (sft_lora.sh / sft_lora_det.sh) into its base model with ms-swift 4.x:
#   swift export --adapters $ADAPTERS --merge_lora true --output_dir $MERGED_DIR --model_kwargs '{"CROP_MODE": ...}'
# The base model, model_type, template and dtype come from the checkpoint's args.json (written by `swift sft`); so does
# the resolution mode (its model_kwargs; resolution.sh). ms-swift copies that args.json into the merged model, where
# infer.sh finds the mode again.
#
# Environment variables (default in brackets):
#   ADAPTERS (required; CHECKPOINT is accepted too)  the LoRA checkpoint dir printed by sft_lora.sh
#   MERGED_DIR [ms-swift default: ${ADAPTERS}-merged]   where the merged model goes (--output_dir)
#   EXIST_OK [false]      true: overwrite an existing MERGED_DIR (--exist_ok true); false: fail
#   RESOLUTION_MODE [as recorded in the checkpoint's args.json, else gundam]
#   MODEL []  MODEL_TYPE []  TEMPLATE []  TORCH_DTYPE []   override what args.json says (only passed when set)
#   CUSTOM_REGISTER_PATH []  passed as --custom_register_path (none: not passed)
#   DRY_RUN [false]  only print the swift command;  EXTRA_ARGS []  appended verbatim;  SWIFT [swift]  the launcher
#     (DeepSeek-OCR's environment: transformers==4.46.3, see sft_lora.sh)
#
# Output: the `swift export` command line, ms-swift's log, then on the last line of stdout
#   MERGED=/abs/path/to/merged/model   (a full model dir: pass it as MODEL to infer.sh)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"
# shellcheck source-path=SCRIPTDIR source=resolution.sh
. "$SWIFT_OCR_RECIPES_DIR/deepseek_ocr/resolution.sh"

so_merge_settings sft_lora.sh   # ADAPTERS, MERGED_DIR, EXIST_OK, CUSTOM_REGISTER_PATH (../common.sh)

so_resolve_swift
so_extra_args
so_deepseek_resolution   # -> SO_MODEL_KWARGS_ARGS (resolution.sh)

so_merge "${SO_MODEL_KWARGS_ARGS[@]}"
