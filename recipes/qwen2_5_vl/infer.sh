#!/usr/bin/env bash
# Batch OCR (rec) or text spotting (det) with Qwen2.5-VL over an ms-swift jsonl, with ms-swift 4.x `swift infer`;
# score with `swift-ocr eval rec --results RESULT_PATH`, or `swift-ocr eval det --results RESULT_PATH
# --model-family qwen2_5_vl`, which parses each answer with the MAX_PIXELS / MIN_PIXELS bounds its row records
# (`swift-ocr convert --task det` writes them into the row's "swift_ocr" field, kept by KEEP_COLUMNS; rows without
# them: pass --max-pixels $MAX_PIXELS --min-pixels $MIN_PIXELS).
#
# Three ways to pick the model:
#   MODEL=<merged dir>                 the MERGED=... line of merge.sh (or any full model dir / hub id)
#   ADAPTERS=<checkpoint>              a LoRA checkpoint; base model, model_type, template come from its args.json
#   neither                            the untuned base model Qwen/Qwen2.5-VL-7B-Instruct (a zero-shot baseline)
#
# Throughput (GPU): INFER_BACKEND [vllm] -- ms-swift runs Qwen2.5-VL on vLLM (pip install vllm), which batches the whole
# VAL_DATASET itself (continuous batching; MAX_BATCH_SIZE is the transformers backend's). The settings that matter:
#   MAX_PIXELS        image tokens per page (1003520 px = at most 1280 tokens): the main cost of a page; must be what
#                     the model was trained with (read back from the checkpoint / merged model's args.json)
#   MAX_NEW_TOKENS    the answer's length cap (receipts: ~1000 tokens of text, ~30 tokens per spotted line)
#   VLLM_MAX_MODEL_LEN, VLLM_GPU_MEMORY_UTILIZATION, VLLM_MAX_NUM_SEQS, VLLM_LIMIT_MM_PER_PROMPT (so_vllm_args in
#                     ../common.sh); with ADAPTERS the LoRA is merged first (MERGE_LORA [true under vLLM]).
# INFER_BACKEND=transformers (no vLLM) batches MAX_BATCH_SIZE [8] rows per generate call.
#
# Dataset: `--val_dataset $VAL_DATASET`, loaded whole and in file order; `--remove_unused_columns false` keeps each
# row's "swift_ocr" field (tile geometry and resize bounds of the det task) for `swift-ocr eval det`.
#
# Environment variables (default in brackets):
#   VAL_DATASET (required unless LOAD_DATA_ARGS=true)  jsonl(s), space separated or one per line
#   MODEL [Qwen/Qwen2.5-VL-7B-Instruct when ADAPTERS is empty]  ADAPTERS []  MERGE_LORA [true under vLLM, else false]
#   MODEL_TYPE [qwen2_5_vl]  TEMPLATE [qwen2_5_vl]  (with ADAPTERS: only passed when set)
#   MAX_PIXELS MIN_PIXELS [as recorded in args.json of ADAPTERS or of a local MODEL, else 1003520 / 3136]
#   RESULT_PATH [output/infer_result/<timestamp>.jsonl]   OVERWRITE [false]
#   MAX_NEW_TOKENS [4096]  TEMPERATURE [0]  INFER_BACKEND [vllm]  MAX_BATCH_SIZE [8]
#   VLLM_GPU_MEMORY_UTILIZATION [0.9]  VLLM_MAX_MODEL_LEN [8192]  VLLM_LIMIT_MM_PER_PROMPT [{"image": 1}]
#   VLLM_MAX_NUM_SEQS [256]  VLLM_TENSOR_PARALLEL_SIZE [1]
#   KEEP_COLUMNS [true]  TORCH_DTYPE []  VAL_DATASET_SAMPLE []  LOAD_DATA_ARGS [false]
#   CUSTOM_REGISTER_PATH []  passed as --custom_register_path
#   NPROC_PER_NODE [] NNODES [] NODE_RANK [] MASTER_ADDR [] MASTER_PORT []  data parallel over GPUs / machines
#   DRY_RUN [false]  only print the swift command;  EXTRA_ARGS []  appended verbatim;  SWIFT [swift]  the launcher
#
# Output: the `swift infer` command line after "+ ", ms-swift's log, then on the last line of stdout
#   RESULT_PATH=/abs/path.jsonl
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

KEEP_COLUMNS=${KEEP_COLUMNS:-true}
CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-}
INFER_BACKEND=${INFER_BACKEND:-vllm}
MAX_BATCH_SIZE=${MAX_BATCH_SIZE:-8}

so_resolve_swift
so_extra_args
so_model_kwargs MAX_PIXELS=1003520 MIN_PIXELS=3136   # -> SO_MODEL_KWARGS_ARGS (../common.sh)
so_vllm_args                                         # -> SO_VLLM_ARGS, MERGE_LORA (../common.sh)
family_args=("${SO_MODEL_KWARGS_ARGS[@]}" "${SO_VLLM_ARGS[@]}")
so_is_true "$KEEP_COLUMNS" && family_args+=(--remove_unused_columns false)
[[ -n "$CUSTOM_REGISTER_PATH" ]] && family_args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
so_log "MAX_PIXELS=$MAX_PIXELS MIN_PIXELS=$MIN_PIXELS INFER_BACKEND=$INFER_BACKEND"
so_infer Qwen/Qwen2.5-VL-7B-Instruct qwen2_5_vl qwen2_5_vl "${family_args[@]}"
