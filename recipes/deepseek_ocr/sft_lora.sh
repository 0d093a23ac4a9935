#!/usr/bin/env bash
# LoRA fine-tuning of DeepSeek-OCR (ms-swift model_type and template `deepseek_ocr`, remote code) with ms-swift 4.x
# `swift sft`: text recognition (rec, the default here; prompt `<image>Free OCR.`) or, through sft_lora_det.sh,
# grounded text (`<|ref|>TEXT<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|>` per line on a 0-999 grid:
# swift_ocr/codecs/deepseek_ocr.py).
#
# Defaults follow ms-swift's own DeepSeek-OCR example (examples/models/deepseek_ocr/train.sh): LoRA rank 8, alpha 32 on
# all-linear layers of the language model (DeepSeek-3B-MoE), the vision encoders (SAM-base and CLIP-large) frozen
# (FREEZE_VIT) and the projector too (FREEZE_ALIGNER), bf16, lr 1e-4, warm-up 5 %, max_length 4096, total batch 16.
#
# Resolution: RESOLUTION_MODE [gundam] (tiny, small, base, large, gundam: resolution.sh), ONE setting: passed as
# --model_kwargs, recorded by `swift sft` in args.json of the run folder and of every checkpoint, and reused from there
# by merge.sh and infer.sh. A resumed run (RESUME) reuses its checkpoint's mode.
#
# Environment: ms-swift's deepseek_ocr model requires transformers==4.46.3 and easydict (its remote code does not run on
# transformers 5): use a separate environment for it and point SWIFT at its launcher (SWIFT=/path/to/env/bin/swift;
# see README.md "DeepSeek-OCR").
#
# Several GPUs / machines: as ../got_ocr2/sft_lora.sh (NPROC_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT;
# DeepSpeed ZeRO-2 and gradient accumulation from TOTAL_BATCH_SIZE when the world size is over 1: so_launch in
# ../common.sh).
#
# Data: ms-swift jsonl rows {"messages": [{"role": "user", "content": "<image>Free OCR."}, {"role": "assistant",
# "content": "..."}], "images": ["/abs/path.jpg"]} (`swift-ocr convert --model-family deepseek_ocr`).
#
# Every setting is an environment variable (default in brackets):
#   DATASET (required)    training jsonl(s) / dataset specs: space separated, or one per line when a path holds
#                         spaces; a value that names an existing file is one path even with spaces
#   VAL_DATASET []        validation jsonl(s), same syntax; when empty SPLIT_DATASET_RATIO [0] of DATASET is held out
#   MODEL [deepseek-ai/DeepSeek-OCR]  hub id or local dir;  MODEL_TYPE [deepseek_ocr]  TEMPLATE [deepseek_ocr]
#   RESOLUTION_MODE [gundam; a resumed run: its checkpoint's]  tiny small base large gundam (resolution.sh)
#   OUTPUT_DIR [output/deepseek_ocr_lora]  ADD_VERSION [true] (false: checkpoints go straight into OUTPUT_DIR)
#   RESUME []             auto or a checkpoint folder (so_resume in ../common.sh)
#   TORCH_DTYPE [bfloat16]  NUM_TRAIN_EPOCHS [1]   MAX_STEPS [] (overrides epochs)
#   BATCH_SIZE [1] (per device)  EVAL_BATCH_SIZE [=BATCH_SIZE]  TOTAL_BATCH_SIZE [16] (the target global batch)
#   GRAD_ACC [TOTAL_BATCH_SIZE / (BATCH_SIZE x NNODES x NPROC_PER_NODE), at least 1]  LR [1e-4]  WARMUP_RATIO [0.05]
#   LORA_RANK [8]  LORA_ALPHA [32]  LORA_DROPOUT [0.05]
#   TARGET_MODULES [all-linear]  space-separated module names, each passed as one argument (never glob-expanded)
#   FREEZE_VIT [true]  FREEZE_ALIGNER [true]  MAX_LENGTH [4096; 8192 in sft_lora_det.sh]  GRADIENT_CHECKPOINTING [true]
#   SAVE_STEPS [500]  EVAL_STEPS [=SAVE_STEPS]  SAVE_TOTAL_LIMIT [2]  LOGGING_STEPS [5]  NUM_WORKERS [4]
#   EVAL_METRIC [ocr; ocr_det in sft_lora_det.sh]  ocr = eval_cer/wer/ned/accuracy, ocr_det = eval_precision/recall/
#                         hmean, none = loss only; only with a validation set (so_eval_metric in ../common.sh)
#   EVAL_MAX_NEW_TOKENS [4096]  METRIC_FOR_BEST_MODEL [cer; hmean]  GREATER_IS_BETTER [false; true]
#   SWIFT_OCR_FAMILY []   ocr_det: the detection codec family when the template name does not tell it
#   SEED [42]  REPORT_TO [ms-swift default: tensorboard]  CHECK_MODEL [false]
#   NPROC_PER_NODE [] NNODES [] NODE_RANK [] MASTER_ADDR [] MASTER_PORT []  DEEPSPEED [zero2 when the world size > 1]
#   DDP_BACKEND [gloo on several CPU processes]  (so_launch / so_cpu_plugin in ../common.sh)
#   STREAMING [false]  SHUFFLE_BUFFER_SIZE []  LAZY_TOKENIZE []  DATASET_NUM_PROC []  (as ../got_ocr2/sft_lora.sh)
#   CUSTOM_REGISTER_PATH []  passed as --custom_register_path (added automatically for EVAL_METRIC)
#   DRY_RUN [false]  only print the swift command;  EXTRA_ARGS []  appended verbatim;  SWIFT [swift]  the launcher
#
# CPU: DeepSeek-OCR does not run on the CPU test machine (remote code pinned to transformers 4.46.3, no
# transformers-native class, weights from the hub; docs/families.md).
#
# Output: the `swift sft` command line after "+ " (paste it into bash as is), ms-swift's log, then on the last two
# lines of stdout (NODE_RANK 0 only)
#   RUN_DIR=/abs/OUTPUT_DIR/vN-YYYYmmdd-HHMMSS
#   CHECKPOINT=/abs/RUN_DIR/checkpoint-N          (pass it as ADAPTERS to merge.sh / infer.sh)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"
# shellcheck source-path=SCRIPTDIR source=resolution.sh
. "$SWIFT_OCR_RECIPES_DIR/deepseek_ocr/resolution.sh"

MODEL=${MODEL:-deepseek-ai/DeepSeek-OCR}
MODEL_TYPE=${MODEL_TYPE:-deepseek_ocr}
TEMPLATE=${TEMPLATE:-deepseek_ocr}
OUTPUT_DIR=${OUTPUT_DIR:-output/deepseek_ocr_lora}
# every other setting above, with the defaults shown (../common.sh)
so_lora_settings "an ms-swift jsonl (e.g. from \`swift-ocr convert --model-family deepseek_ocr\`)"
# -> BASE_SIZE IMAGE_SIZE CROP_MODE, SO_MODEL_KWARGS_ARGS (resolution.sh); a resumed run reads its checkpoint's mode
ADAPTERS=${SO_RESUME_ARGS[1]:-} so_deepseek_resolution

so_lora_sft_args   # -> SO_SFT_ARGS, with SO_MODEL_KWARGS_ARGS (../common.sh)
so_sft "${SO_SFT_ARGS[@]}"
