#!/usr/bin/env bash
# LoRA fine-tuning of Qwen2.5-VL (ms-swift model_type and template `qwen2_5_vl`) for OCR with ms-swift 4.x `swift sft`:
# text recognition (rec, the default here) or, through sft_lora_det.sh, text spotting as JSON
# (`{"bbox_2d": [x1, y1, x2, y2], "text_content": "..."}`, absolute pixels of the resized image:
# swift_ocr/codecs/qwen2_5_vl.py).
#
# Defaults follow ms-swift's own Qwen2.5-VL LoRA example (examples/train/predict_with_generate/train.sh: LoRA rank 8,
# alpha 32 on all-linear layers of the language model, vision tower frozen, bf16, lr 1e-4, warm-up 5 %, total batch 16,
# MAX_PIXELS=1003520). The projector (merger) stays frozen too (FREEZE_ALIGNER, ms-swift's default).
#
# Resolution: MAX_PIXELS / MIN_PIXELS bound the pixels of every image after Qwen's smart resize (sides multiples of 28,
# one image token per 28x28 pixels: 1003520 px = at most 1280 tokens). They are ONE setting from conversion to
# scoring: detection targets are written in pixels of the resized image, so export MAX_PIXELS / MIN_PIXELS once for
# every step: `swift-ocr convert --task det --model-family qwen2_5_vl` reads the same variables (unset: ms-swift's
# default 12845056, not this recipe's 1003520) and records the bounds in each row, `swift-ocr validate` reports rows
# written for other bounds (resize_mismatch), the script passes them as
# `--model_kwargs '{"MAX_PIXELS": ..., "MIN_PIXELS": ...}'` (ms-swift exports them to its processor:
# swift/model/models/qwen.py compat_qwen_vl_utils) which `swift sft` records in args.json of the run folder and of
# every checkpoint; merge.sh and infer.sh read them back from there (so_model_kwargs in ../common.sh), and
# `swift-ocr eval det` maps the answers back to the page with the bounds each row records.
#
# Several GPUs / machines: as ../got_ocr2/sft_lora.sh (NPROC_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT;
# DeepSpeed ZeRO-2 and gradient accumulation from TOTAL_BATCH_SIZE when the world size is over 1: so_launch in
# ../common.sh).
#
# Data: ms-swift jsonl rows {"messages": [{"role": "user", "content": "<image>..."}, {"role": "assistant", "content":
# "..."}], "images": ["/abs/path.jpg"]} (`swift-ocr convert --model-family qwen2_5_vl`).
# Needs: ms-swift 4.6 with transformers>=4.49, qwen_vl_utils>=0.0.6 (which imports torchvision) and decord.
#
# Every setting is an environment variable (default in brackets):
#   DATASET (required)    training jsonl(s) / dataset specs: space separated, or one per line when a path holds
#                         spaces; a value that names an existing file is one path even with spaces
#   VAL_DATASET []        validation jsonl(s), same syntax; when empty SPLIT_DATASET_RATIO [0] of DATASET is held out
#   MODEL [Qwen/Qwen2.5-VL-7B-Instruct]  hub id or local dir;  MODEL_TYPE [qwen2_5_vl]  TEMPLATE [qwen2_5_vl]
#   MAX_PIXELS [1003520]  MIN_PIXELS [3136]  image pixel bounds after the resize (see above; passed as --model_kwargs)
#   OUTPUT_DIR [output/qwen2_5_vl_lora]  ADD_VERSION [true] (false: checkpoints go straight into OUTPUT_DIR)
#   RESUME []             auto or a checkpoint folder (so_resume in ../common.sh)
#   TORCH_DTYPE [bfloat16] (use float32 on CPU)   NUM_TRAIN_EPOCHS [1]   MAX_STEPS [] (overrides epochs)
#   BATCH_SIZE [1] (per device)  EVAL_BATCH_SIZE [=BATCH_SIZE]  TOTAL_BATCH_SIZE [16] (the target global batch)
#   GRAD_ACC [TOTAL_BATCH_SIZE / (BATCH_SIZE x NNODES x NPROC_PER_NODE), at least 1]  LR [1e-4]  WARMUP_RATIO [0.05]
#   LORA_RANK [8]  LORA_ALPHA [32]  LORA_DROPOUT [0.05]
#   TARGET_MODULES [all-linear]  space-separated module names, each passed as one argument (never glob-expanded)
#   FREEZE_VIT [true]  FREEZE_ALIGNER [true]  MAX_LENGTH [4096; 8192 in sft_lora_det.sh]  GRADIENT_CHECKPOINTING [true]
#   SAVE_STEPS [500]  EVAL_STEPS [=SAVE_STEPS]  SAVE_TOTAL_LIMIT [2]  LOGGING_STEPS [5]  NUM_WORKERS [4]
#   EVAL_METRIC [ocr; ocr_det in sft_lora_det.sh]  ocr = eval_cer/wer/ned/accuracy, ocr_det = eval_precision/recall/
#                         hmean (scored with the same MAX_PIXELS / MIN_PIXELS), none = loss only; only with a validation
#                         set (so_eval_metric in ../common.sh)
#   EVAL_MAX_NEW_TOKENS [4096]  METRIC_FOR_BEST_MODEL [cer; hmean]  GREATER_IS_BETTER [false; true]
#   SWIFT_OCR_FAMILY []   ocr_det: the detection codec family when the template name does not tell it
#   SEED [42]  REPORT_TO [ms-swift default: tensorboard]  CHECK_MODEL [false]
#   NPROC_PER_NODE [] NNODES [] NODE_RANK [] MASTER_ADDR [] MASTER_PORT []  DEEPSPEED [zero2 when the world size > 1]
#   DDP_BACKEND [gloo on several CPU processes]  (so_launch / so_cpu_plugin in ../common.sh)
#   STREAMING [false]  SHUFFLE_BUFFER_SIZE []  LAZY_TOKENIZE []  DATASET_NUM_PROC []  (as ../got_ocr2/sft_lora.sh)
#   CUSTOM_REGISTER_PATH []  passed as --custom_register_path (added automatically for EVAL_METRIC)
#   DRY_RUN [false]  only print the swift command;  EXTRA_ARGS []  appended verbatim;  SWIFT [swift]  the launcher
#
# CPU: Qwen2.5-VL does not run on the CPU test machine (ms-swift's template calls qwen_vl_utils, which imports
# torchvision; docs/families.md).
#
# Output: the `swift sft` command line after "+ " (paste it into bash as is), ms-swift's log, then on the last two
# lines of stdout (NODE_RANK 0 only)
#   RUN_DIR=/abs/OUTPUT_DIR/vN-YYYYmmdd-HHMMSS
#   CHECKPOINT=/abs/RUN_DIR/checkpoint-N          (pass it as ADAPTERS to merge.sh / infer.sh)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

dataset_list=() val_list=() target_modules=() report_to=()
so_list dataset_list DATASET
((${#dataset_list[@]} > 0)) ||
    so_die "set DATASET to an ms-swift jsonl (e.g. from \`swift-ocr convert --model-family qwen2_5_vl\`)"
so_list val_list VAL_DATASET
SPLIT_DATASET_RATIO=${SPLIT_DATASET_RATIO:-0}
MODEL=${MODEL:-Qwen/Qwen2.5-VL-7B-Instruct}
MODEL_TYPE=${MODEL_TYPE:-qwen2_5_vl}
TEMPLATE=${TEMPLATE:-qwen2_5_vl}
OUTPUT_DIR=$(so_abspath "${OUTPUT_DIR:-output/qwen2_5_vl_lora}")
ADD_VERSION=${ADD_VERSION:-true}
so_resume   # RESUME=auto|<checkpoint>: OUTPUT_DIR becomes the checkpoint's run folder, ADD_VERSION false
TORCH_DTYPE=${TORCH_DTYPE:-bfloat16}
NUM_TRAIN_EPOCHS=${NUM_TRAIN_EPOCHS:-1}
MAX_STEPS=${MAX_STEPS:-}
so_launch 16   # BATCH_SIZE, TOTAL_BATCH_SIZE [16], GRAD_ACC, DEEPSPEED, checks of NPROC_PER_NODE / NNODES / ...
EVAL_BATCH_SIZE=${EVAL_BATCH_SIZE:-$BATCH_SIZE}
LR=${LR:-1e-4}
WARMUP_RATIO=${WARMUP_RATIO:-0.05}
LORA_RANK=${LORA_RANK:-8}
LORA_ALPHA=${LORA_ALPHA:-32}
LORA_DROPOUT=${LORA_DROPOUT:-0.05}
TARGET_MODULES=${TARGET_MODULES:-all-linear}
so_words target_modules TARGET_MODULES
((${#target_modules[@]} > 0)) || so_die "TARGET_MODULES is blank"
FREEZE_VIT=${FREEZE_VIT:-true}
FREEZE_ALIGNER=${FREEZE_ALIGNER:-true}
MAX_LENGTH=${MAX_LENGTH:-4096}
GRADIENT_CHECKPOINTING=${GRADIENT_CHECKPOINTING:-true}
SAVE_STEPS=${SAVE_STEPS:-500}
EVAL_STEPS=${EVAL_STEPS:-$SAVE_STEPS}
SAVE_TOTAL_LIMIT=${SAVE_TOTAL_LIMIT:-2}
LOGGING_STEPS=${LOGGING_STEPS:-5}
NUM_WORKERS=${NUM_WORKERS:-4}
SEED=${SEED:-42}
so_words report_to REPORT_TO
CHECK_MODEL=${CHECK_MODEL:-false}
CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-}
STREAMING=${STREAMING:-false}
SHUFFLE_BUFFER_SIZE=${SHUFFLE_BUFFER_SIZE:-}
LAZY_TOKENIZE=${LAZY_TOKENIZE:-}
DATASET_NUM_PROC=${DATASET_NUM_PROC:-}
if so_is_true "$STREAMING"; then
    [[ -n "$MAX_STEPS" ]] ||
        so_die "STREAMING=true: set MAX_STEPS (a streamed dataset has no length, ms-swift needs --max_steps)"
    so_is_true "${LAZY_TOKENIZE:-false}" && so_die "STREAMING=true and LAZY_TOKENIZE=true are incompatible in ms-swift"
fi

so_has_val=false   # a validation set: VAL_DATASET, or SPLIT_DATASET_RATIO > 0
if ((${#val_list[@]} > 0)) || ! [[ "$SPLIT_DATASET_RATIO" =~ ^0*\.?0*$ ]]; then so_has_val=true; fi
so_eval_metric ocr "$so_has_val"   # EVAL_METRIC ... -> SO_EVAL_ARGS (../common.sh)

so_resolve_swift
so_extra_args
# -> SO_MODEL_KWARGS_ARGS (../common.sh); a resumed run reads them from its checkpoint's args.json
ADAPTERS=${SO_RESUME_ARGS[1]:-} so_model_kwargs MAX_PIXELS=1003520 MIN_PIXELS=3136
so_posint MAX_PIXELS "$MAX_PIXELS"
so_posint MIN_PIXELS "$MIN_PIXELS"

args=(sft
    --model "$MODEL" --model_type "$MODEL_TYPE" --template "$TEMPLATE"
    "${SO_MODEL_KWARGS_ARGS[@]}"
    --dataset "${dataset_list[@]}"
    --tuner_type lora
    --target_modules "${target_modules[@]}"
    --lora_rank "$LORA_RANK" --lora_alpha "$LORA_ALPHA" --lora_dropout "$LORA_DROPOUT"
    --freeze_llm false --freeze_vit "$FREEZE_VIT" --freeze_aligner "$FREEZE_ALIGNER"
    --torch_dtype "$TORCH_DTYPE"
    --num_train_epochs "$NUM_TRAIN_EPOCHS"
    --per_device_train_batch_size "$BATCH_SIZE" --per_device_eval_batch_size "$EVAL_BATCH_SIZE"
    --gradient_accumulation_steps "$GRAD_ACC"
    --learning_rate "$LR" --warmup_ratio "$WARMUP_RATIO"
    --max_length "$MAX_LENGTH"
    --gradient_checkpointing "$GRADIENT_CHECKPOINTING"
    --save_steps "$SAVE_STEPS" --eval_steps "$EVAL_STEPS" --save_total_limit "$SAVE_TOTAL_LIMIT"
    --logging_steps "$LOGGING_STEPS"
    --dataloader_num_workers "$NUM_WORKERS"
    --seed "$SEED"
    --check_model "$CHECK_MODEL"
    --output_dir "$OUTPUT_DIR" --add_version "$ADD_VERSION")
if ((${#val_list[@]} > 0)); then
    args+=(--val_dataset "${val_list[@]}")
else
    args+=(--split_dataset_ratio "$SPLIT_DATASET_RATIO")
fi
[[ -n "$MAX_STEPS" ]] && args+=(--max_steps "$MAX_STEPS")
args+=("${SO_RESUME_ARGS[@]}")
args+=("${SO_DEEPSPEED_ARGS[@]}" "${SO_DDP_ARGS[@]}")
args+=("${SO_EVAL_ARGS[@]}")
if so_is_true "$STREAMING"; then
    args+=(--streaming true)
    [[ -n "$SHUFFLE_BUFFER_SIZE" ]] && args+=(--shuffle_buffer_size "$SHUFFLE_BUFFER_SIZE")
fi
[[ -n "$LAZY_TOKENIZE" ]] && args+=(--lazy_tokenize "$LAZY_TOKENIZE")
[[ -n "$DATASET_NUM_PROC" ]] && args+=(--dataset_num_proc "$DATASET_NUM_PROC")
((${#report_to[@]} > 0)) && args+=(--report_to "${report_to[@]}")
[[ -n "$CUSTOM_REGISTER_PATH" ]] && args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
args+=("${EXTRA[@]}")

so_log "MAX_PIXELS=$MAX_PIXELS MIN_PIXELS=$MIN_PIXELS (image pixel bounds after Qwen's smart resize)"
so_sft "${args[@]}"
