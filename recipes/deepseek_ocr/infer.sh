#!/usr/bin/env bash
# Batch OCR (rec) or grounded text detection (det) with DeepSeek-OCR over an ms-swift jsonl, with ms-swift 4.x
# `swift infer`; score with `swift-ocr eval rec --results RESULT_PATH` or `swift-ocr eval det --results RESULT_PATH
# --model-family deepseek_ocr`.
#
# Three ways to pick the model:
#   MODEL=<merged dir>                 the MERGED=... line of merge.sh (or any full model dir / hub id)
#   ADAPTERS=<checkpoint>              a LoRA checkpoint; base model, model_type, template come from its args.json
#   neither                            the untuned base model deepseek-ai/DeepSeek-OCR (a zero-shot baseline)
# The resolution mode is the one recorded in args.json of ADAPTERS or of a merged MODEL (resolution.sh), so the model
# runs in the mode it was trained in; RESOLUTION_MODE overrides it (with a warning when it differs).
#
# Throughput (GPU): INFER_BACKEND [transformers] with MAX_BATCH_SIZE [8] rows per generate call. ms-swift's
# deepseek_ocr model needs transformers==4.46.3 (its remote code), and vLLM's DeepSeek-OCR support (vllm>=0.11.1)
# needs a newer transformers, so the two do not share an environment: INFER_BACKEND=vllm only works in a vLLM
# environment where ms-swift's template can load (not tested here). The settings that matter:
#   RESOLUTION_MODE   image tokens per page: tiny 73, small 111, base 273, large 421, gundam 273 + 100-910 for
#                     2-9 crops (resolution.sh); must be the training mode
#   MAX_NEW_TOKENS    the answer's length cap (a receipt: ~1000 tokens)
#   MAX_BATCH_SIZE    rows per generate call (GPU memory: bf16 3B-MoE weights ~7 GB, plus the KV cache)
#
# Environment variables (default in brackets):
#   VAL_DATASET (required unless LOAD_DATA_ARGS=true)  jsonl(s), space separated or one per line
#   MODEL [deepseek-ai/DeepSeek-OCR when ADAPTERS is empty]  ADAPTERS []  MERGE_LORA [false]
#   MODEL_TYPE [deepseek_ocr]  TEMPLATE [deepseek_ocr]  (with ADAPTERS: only passed when set)
#   RESOLUTION_MODE [as recorded in args.json of ADAPTERS or of a local MODEL, else gundam]
#   RESULT_PATH [output/infer_result/<timestamp>.jsonl]   OVERWRITE [false]
#   MAX_NEW_TOKENS [4096]  TEMPERATURE [0]  INFER_BACKEND [transformers]  MAX_BATCH_SIZE [8]
#   VLLM_* (with INFER_BACKEND=vllm: so_vllm_args in ../common.sh)
#   KEEP_COLUMNS [true]  TORCH_DTYPE []  VAL_DATASET_SAMPLE []  LOAD_DATA_ARGS [false]
#   CUSTOM_REGISTER_PATH []  passed as --custom_register_path
#   NPROC_PER_NODE [] NNODES [] NODE_RANK [] MASTER_ADDR [] MASTER_PORT []  data parallel over GPUs / machines
#   DRY_RUN [false]  only print the swift command;  EXTRA_ARGS []  appended verbatim;  SWIFT [swift]  the launcher
#     (DeepSeek-OCR's environment: transformers==4.46.3, see sft_lora.sh)
#
# Output: the `swift infer` command line after "+ ", ms-swift's log, then on the last line of stdout
#   RESULT_PATH=/abs/path.jsonl
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"
# shellcheck source-path=SCRIPTDIR source=resolution.sh
. "$SWIFT_OCR_RECIPES_DIR/deepseek_ocr/resolution.sh"

KEEP_COLUMNS=${KEEP_COLUMNS:-true}
CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-}
INFER_BACKEND=${INFER_BACKEND:-transformers}
MAX_BATCH_SIZE=${MAX_BATCH_SIZE:-8}

so_resolve_swift
so_extra_args
so_deepseek_resolution   # -> SO_MODEL_KWARGS_ARGS (resolution.sh)
so_vllm_args             # -> SO_VLLM_ARGS, MERGE_LORA (../common.sh)
family_args=("${SO_MODEL_KWARGS_ARGS[@]}" "${SO_VLLM_ARGS[@]}")
so_is_true "$KEEP_COLUMNS" && family_args+=(--remove_unused_columns false)
[[ -n "$CUSTOM_REGISTER_PATH" ]] && family_args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
so_infer deepseek-ai/DeepSeek-OCR deepseek_ocr deepseek_ocr "${family_args[@]}"
