#!/usr/bin/env bash
# Batch OCR (rec) or text spotting (det) with PaddleOCR-VL over an ms-swift jsonl, with ms-swift 4.x `swift infer`;
# score with `swift-ocr eval rec --results RESULT_PATH` or `swift-ocr eval det --results RESULT_PATH
# --model-family paddleocr_vl`.
#
# Three ways to pick the model:
#   MODEL=<merged dir>                 the MERGED=... line of merge.sh (or any full model dir / hub id)
#   ADAPTERS=<checkpoint>              a LoRA checkpoint; base model, model_type, template come from its args.json
#   neither                            the untuned base model PaddlePaddle/PaddleOCR-VL-1.5 (a zero-shot baseline)
#
# Throughput (GPU): INFER_BACKEND [vllm] -- vLLM (>= 0.11.1) runs PaddleOCRVLForConditionalGeneration and ms-swift
# hands it the template's prompt and images (pip install vllm; not run in CI). vLLM batches the whole VAL_DATASET
# itself; with ADAPTERS the LoRA is merged first (MERGE_LORA [true under vLLM]). The settings that matter:
#   MAX_NEW_TOKENS    the answer's length cap (a receipt: ~1000 tokens; spotting ~15 tokens per line)
#   VLLM_MAX_MODEL_LEN, VLLM_GPU_MEMORY_UTILIZATION, VLLM_MAX_NUM_SEQS, VLLM_LIMIT_MM_PER_PROMPT (so_vllm_args in
#                     ../common.sh; PaddleOCR-VL's own vLLM guide also turns prefix caching off for OCR:
#                     EXTRA_ARGS="--vllm_enable_prefix_caching false")
#   image tokens      set by the model's preprocessor_config.json (max_pixels), not by this script
# INFER_BACKEND=transformers (CPU, or no vLLM) batches MAX_BATCH_SIZE [16] rows per generate call (0.9B parameters).
# `--remove_unused_columns false` (KEEP_COLUMNS) keeps each row's "swift_ocr" field (tile geometry of the det task) in
# the results for `swift-ocr eval det`; the plugin's template keeps those columns away from `generate`.
#
# Environment variables (default in brackets):
#   VAL_DATASET (required unless LOAD_DATA_ARGS=true)  jsonl(s), space separated or one per line
#   MODEL [PaddlePaddle/PaddleOCR-VL-1.5 when ADAPTERS is empty]  ADAPTERS []  MERGE_LORA [true under vLLM, else false]
#   MODEL_TYPE [paddleocr_vl]  TEMPLATE [paddle_ocr_1_5_compat, the plugin's]  (with ADAPTERS: only passed when set)
#   RESULT_PATH [output/infer_result/<timestamp>.jsonl]   OVERWRITE [false]
#   MAX_NEW_TOKENS [4096]  TEMPERATURE [0]  INFER_BACKEND [vllm]  MAX_BATCH_SIZE [16]
#   VLLM_GPU_MEMORY_UTILIZATION [0.9]  VLLM_MAX_MODEL_LEN [8192]  VLLM_LIMIT_MM_PER_PROMPT [{"image": 1}]
#   VLLM_MAX_NUM_SEQS [256]  VLLM_TENSOR_PARALLEL_SIZE [1]
#   KEEP_COLUMNS [true]  TORCH_DTYPE []  VAL_DATASET_SAMPLE []  LOAD_DATA_ARGS [false]
#   CUSTOM_REGISTER_PATH [swift_ocr/msswift/_plugin/swift_ocr_plugin.py of this checkout]  (none: not passed)
#   NPROC_PER_NODE [] NNODES [] NODE_RANK [] MASTER_ADDR [] MASTER_PORT []  data parallel over GPUs / machines
#   DRY_RUN [false]  only print the swift command;  EXTRA_ARGS []  appended verbatim;  SWIFT [swift]  the launcher
#
# Output: the `swift infer` command line after "+ ", ms-swift's log, then on the last line of stdout
#   RESULT_PATH=/abs/path.jsonl
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

KEEP_COLUMNS=${KEEP_COLUMNS:-true}
CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-$SWIFT_OCR_PLUGIN}
INFER_BACKEND=${INFER_BACKEND:-vllm}
MAX_BATCH_SIZE=${MAX_BATCH_SIZE:-16}

so_resolve_swift
so_extra_args
so_vllm_args   # -> SO_VLLM_ARGS, MERGE_LORA (../common.sh)
family_args=("${SO_VLLM_ARGS[@]}")
so_is_true "$KEEP_COLUMNS" && family_args+=(--remove_unused_columns false)
[[ "${CUSTOM_REGISTER_PATH,,}" != none ]] && family_args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
so_log "INFER_BACKEND=$INFER_BACKEND"
so_infer PaddlePaddle/PaddleOCR-VL-1.5 paddleocr_vl paddle_ocr_1_5_compat "${family_args[@]}"
