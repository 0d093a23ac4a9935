#!/usr/bin/env bash
# LoRA fine-tuning of PaddleOCR-VL 1.5 / 1.6 (transformers-native PaddleOCRVLForConditionalGeneration, 0.9B: NaViT-style
# vision encoder + ERNIE-4.5-0.3B; ms-swift model_type `paddleocr_vl`, template `paddle_ocr_1_5`) with ms-swift 4.x
# `swift sft`: text recognition (rec, the default here; PaddleOCR-VL's prompt `OCR:`) or, through sft_lora_det.sh, text
# spotting (PaddleOCR-VL 1.5's `Spotting:` task: text followed by 4 corner points as <|LOC_n|> tokens on a 0-1000
# grid; swift_ocr/codecs/paddleocr_vl.py).
#
# Defaults follow ms-swift's own PaddleOCR-VL example (examples/models/paddle_ocr/train.sh): LoRA rank 8, alpha 32 on
# all-linear layers of the language model, vision encoder and projector frozen, bf16, lr 1e-4, warm-up 5 %,
# max_length 4096, per-device batch 16 on one GPU (here BATCH_SIZE 4 x GRAD_ACC for a total of 16 at any world size).
# The example also sets --padding_free true --attn_impl flash_attention_2 (PADDING_FREE=true ATTN_IMPL=
# flash_attention_2 here: needs flash-attn on a GPU; off by default so that the recipe runs anywhere).
#
# Template: `paddle_ocr_1_5_compat` of the swift-ocr plugin (passed as --custom_register_path by default), ms-swift's
# `paddle_ocr_1_5` made to train under transformers 5.19: ms-swift 4.6.0's own fails at the first step with
# "AttributeError: 'tuple' object has no attribute 'to'" (details: swift_ocr/msswift/templates.py). Same prompt format.
#
# Resolution: the model's own processor settings (PaddleOCRVLImageProcessor: sides multiples of 28, pixels within
# min_pixels..max_pixels of preprocessor_config.json, one image token per 28x28 pixels); ms-swift has no environment
# setting for them.
#
# Several GPUs / machines: as ../got_ocr2/sft_lora.sh (NPROC_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT;
# DeepSpeed ZeRO-2 and gradient accumulation from TOTAL_BATCH_SIZE when the world size is over 1: so_launch in
# ../common.sh).
#
# Data: ms-swift jsonl rows {"messages": [{"role": "user", "content": "<image>OCR:"}, {"role": "assistant", "content":
# "..."}], "images": ["/abs/path.jpg"]} (`swift-ocr convert --model-family paddleocr_vl`).
#
# Every setting is an environment variable (default in brackets):
#   DATASET (required)    training jsonl(s) / dataset specs: space separated, or one per line when a path holds
#                         spaces; a value that names an existing file is one path even with spaces
#   VAL_DATASET []        validation jsonl(s), same syntax; when empty SPLIT_DATASET_RATIO [0] of DATASET is held out
#   MODEL [PaddlePaddle/PaddleOCR-VL-1.5]  hub id or local dir (PaddlePaddle/PaddleOCR-VL-1.6 has the same structure)
#   MODEL_TYPE [paddleocr_vl]  TEMPLATE [paddle_ocr_1_5_compat] (the plugin's; see above)
#   OUTPUT_DIR [output/paddleocr_vl_lora]  ADD_VERSION [true] (false: checkpoints go straight into OUTPUT_DIR)
#   RESUME []             auto or a checkpoint folder (so_resume in ../common.sh)
#   TORCH_DTYPE [bfloat16] (use float32 on CPU)   NUM_TRAIN_EPOCHS [1]   MAX_STEPS [] (overrides epochs)
#   BATCH_SIZE [4] (per device)  EVAL_BATCH_SIZE [=BATCH_SIZE]  TOTAL_BATCH_SIZE [16] (the target global batch)
#   GRAD_ACC [TOTAL_BATCH_SIZE / (BATCH_SIZE x NNODES x NPROC_PER_NODE), at least 1]  LR [1e-4]  WARMUP_RATIO [0.05]
#   LORA_RANK [8]  LORA_ALPHA [32]  LORA_DROPOUT [0.05]
#   TARGET_MODULES [all-linear]  space-separated module names, each passed as one argument (never glob-expanded)
#   FREEZE_VIT [true]  FREEZE_ALIGNER [true]  MAX_LENGTH [4096; 8192 in sft_lora_det.sh]  GRADIENT_CHECKPOINTING [true]
#   PADDING_FREE [false]  ATTN_IMPL [ms-swift default]  (GPU with flash-attn: true / flash_attention_2)
#   SAVE_STEPS [500]  EVAL_STEPS [=SAVE_STEPS]  SAVE_TOTAL_LIMIT [2]  LOGGING_STEPS [5]  NUM_WORKERS [4]
#   EVAL_METRIC [ocr; ocr_det in sft_lora_det.sh]  ocr = eval_cer/wer/ned/accuracy, ocr_det = eval_precision/recall/
#                         hmean, none = loss only; only with a validation set (so_eval_metric in ../common.sh)
#   EVAL_MAX_NEW_TOKENS [4096]  METRIC_FOR_BEST_MODEL [cer; hmean]  GREATER_IS_BETTER [false; true]
#   SWIFT_OCR_FAMILY [paddleocr_vl in sft_lora_det.sh]  ocr_det: the detection codec family (the template name
#                         paddle_ocr_1_5 does not tell it)
#   SEED [42]  REPORT_TO [ms-swift default: tensorboard]  CHECK_MODEL [false]
#   NPROC_PER_NODE [] NNODES [] NODE_RANK [] MASTER_ADDR [] MASTER_PORT []  DEEPSPEED [zero2 when the world size > 1]
#   DDP_BACKEND [gloo on several CPU processes]  (so_launch / so_cpu_plugin in ../common.sh)
#   STREAMING [false]  SHUFFLE_BUFFER_SIZE []  LAZY_TOKENIZE []  DATASET_NUM_PROC []  (as ../got_ocr2/sft_lora.sh)
#   CUSTOM_REGISTER_PATH [swift_ocr/msswift/_plugin/swift_ocr_plugin.py of this checkout]  (none: not passed; then
#                         set TEMPLATE to one ms-swift has)
#   DRY_RUN [false]  only print the swift command;  EXTRA_ARGS []  appended verbatim;  SWIFT [swift]  the launcher
#
# CPU (tests, demos): MODEL=<dir from `swift-ocr tiny-model --arch paddleocr_vl`> TORCH_DTYPE=float32 BATCH_SIZE=1
# GRAD_ACC=1 NUM_WORKERS=0 (README.md here; tests/e2e/test_paddleocr_vl_recipe.py).
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
    so_die "set DATASET to an ms-swift jsonl (e.g. from \`swift-ocr convert --model-family paddleocr_vl\`)"
so_list val_list VAL_DATASET
SPLIT_DATASET_RATIO=${SPLIT_DATASET_RATIO:-0}
MODEL=${MODEL:-PaddlePaddle/PaddleOCR-VL-1.5}
MODEL_TYPE=${MODEL_TYPE:-paddleocr_vl}
TEMPLATE=${TEMPLATE:-paddle_ocr_1_5_compat}
OUTPUT_DIR=$(so_abspath "${OUTPUT_DIR:-output/paddleocr_vl_lora}")
ADD_VERSION=${ADD_VERSION:-true}
so_resume   # RESUME=auto|<checkpoint>: OUTPUT_DIR becomes the checkpoint's run folder, ADD_VERSION false
TORCH_DTYPE=${TORCH_DTYPE:-bfloat16}
NUM_TRAIN_EPOCHS=${NUM_TRAIN_EPOCHS:-1}
MAX_STEPS=${MAX_STEPS:-}
BATCH_SIZE=${BATCH_SIZE:-4}
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
PADDING_FREE=${PADDING_FREE:-false}
ATTN_IMPL=${ATTN_IMPL:-}
SAVE_STEPS=${SAVE_STEPS:-500}
EVAL_STEPS=${EVAL_STEPS:-$SAVE_STEPS}
SAVE_TOTAL_LIMIT=${SAVE_TOTAL_LIMIT:-2}
LOGGING_STEPS=${LOGGING_STEPS:-5}
NUM_WORKERS=${NUM_WORKERS:-4}
SEED=${SEED:-42}
so_words report_to REPORT_TO
CHECK_MODEL=${CHECK_MODEL:-false}
CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-$SWIFT_OCR_REPO_ROOT/swift_ocr/msswift/_plugin/swift_ocr_plugin.py}
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

args=(sft
    --model "$MODEL" --model_type "$MODEL_TYPE" --template "$TEMPLATE"
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
so_is_true "$PADDING_FREE" && args+=(--padding_free true)
[[ -n "$ATTN_IMPL" ]] && args+=(--attn_impl "$ATTN_IMPL")
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
[[ "${CUSTOM_REGISTER_PATH,,}" != none ]] && args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
args+=("${EXTRA[@]}")

so_sft "${args[@]}"
