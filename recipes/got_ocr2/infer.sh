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
#   VAL_DATASET (required unless LOAD_DATA_ARGS=true)  jsonl(s), space separated
#   MODEL [stepfun-ai/GOT-OCR-2.0-hf when ADAPTERS is empty]  ADAPTERS []  MERGE_LORA [false]
#   MODEL_TYPE [got_ocr2_hf]  TEMPLATE [got_ocr2_hf]  (with ADAPTERS: only passed when set)
#   RESULT_PATH [output/infer_result/<timestamp>.jsonl]   OVERWRITE [false] (ms-swift appends to an
#                         existing file, so an existing RESULT_PATH is an error unless OVERWRITE=true)
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
# Output: the `swift infer` command line, ms-swift's log, then on the last line of stdout
#   RESULT_PATH=/abs/path.jsonl
# Each result row is the input row plus "response" (the model's text) and "labels" (the reference:
# the input's last assistant message); "messages" ends with the predicted assistant turn.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

ADAPTERS=${ADAPTERS:-}
LOAD_DATA_ARGS=${LOAD_DATA_ARGS:-false}
VAL_DATASET=${VAL_DATASET:-}
if [[ -z "$VAL_DATASET" ]] && ! { so_is_true "$LOAD_DATA_ARGS" && [[ -n "$ADAPTERS" ]]; }; then
    so_die "set VAL_DATASET to an ms-swift jsonl (or ADAPTERS=... LOAD_DATA_ARGS=true)"
fi
RESULT_PATH=$(so_abspath "${RESULT_PATH:-output/infer_result/$(date +%Y%m%d-%H%M%S).jsonl}")
OVERWRITE=${OVERWRITE:-false}
MAX_NEW_TOKENS=${MAX_NEW_TOKENS:-4096}
TEMPERATURE=${TEMPERATURE:-0}
INFER_BACKEND=${INFER_BACKEND:-transformers}
MAX_BATCH_SIZE=${MAX_BATCH_SIZE:-1}
MERGE_LORA=${MERGE_LORA:-false}
CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-}

if [[ -e "$RESULT_PATH" ]]; then
    so_is_true "$OVERWRITE" || so_die "$RESULT_PATH exists and swift infer would append to it; set OVERWRITE=true or another RESULT_PATH"
    rm -f -- "$RESULT_PATH"
fi

so_resolve_swift
so_extra_args

args=(infer)
if [[ -n "$ADAPTERS" ]]; then
    [[ -f "$ADAPTERS/adapter_config.json" ]] || so_die "$ADAPTERS: no adapter_config.json, not a LoRA checkpoint"
    args+=(--adapters "$(so_abspath "${ADAPTERS%/}")")
    [[ -n "${MODEL:-}" ]] && args+=(--model "$MODEL")
    [[ -n "${MODEL_TYPE:-}" ]] && args+=(--model_type "$MODEL_TYPE")
    [[ -n "${TEMPLATE:-}" ]] && args+=(--template "$TEMPLATE")
    so_is_true "$MERGE_LORA" && args+=(--merge_lora true)
    so_is_true "$LOAD_DATA_ARGS" && args+=(--load_data_args true)
else
    args+=(--model "${MODEL:-stepfun-ai/GOT-OCR-2.0-hf}"
        --model_type "${MODEL_TYPE:-got_ocr2_hf}" --template "${TEMPLATE:-got_ocr2_hf}")
fi
if [[ -n "$VAL_DATASET" ]]; then
    read -r -a val_words <<<"$VAL_DATASET"
    args+=(--val_dataset "${val_words[@]}")
fi
args+=(--result_path "$RESULT_PATH"
    --infer_backend "$INFER_BACKEND" --max_batch_size "$MAX_BATCH_SIZE"
    --max_new_tokens "$MAX_NEW_TOKENS" --temperature "$TEMPERATURE")
[[ -n "${TORCH_DTYPE:-}" ]] && args+=(--torch_dtype "$TORCH_DTYPE")
[[ -n "${VAL_DATASET_SAMPLE:-}" ]] && args+=(--val_dataset_sample "$VAL_DATASET_SAMPLE")
[[ -n "$CUSTOM_REGISTER_PATH" ]] && args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
args+=("${EXTRA[@]}")

start=$SECONDS
so_run "${SWIFT_CMD[@]}" "${args[@]}"
[[ -s "$RESULT_PATH" ]] || so_die "swift infer wrote no results to $RESULT_PATH"
so_log "swift infer finished in $((SECONDS - start)) s ($(wc -l <"$RESULT_PATH") rows)"
echo "RESULT_PATH=$RESULT_PATH"
