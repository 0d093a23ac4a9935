#!/usr/bin/env bash
# LoRA fine-tuning of InternVL2-8B for text detection as text (`<ref>text</ref><box>[[x1, y1, x2, y2]]</box>`
# per line, 0-1000 coordinates: swift_ocr/codecs/internvl.py) with ms-swift 4.x `swift sft`.
#
# Defaults follow InternVL's own LoRA fine-tuning script for InternVL2-8B
# (OpenGVLab/InternVL internvl_chat/shell/internvl2.0/2nd_finetune/internvl2_8b_internlm2_7b_dynamic_res_2nd_finetune_lora.sh:
# LoRA rank 16 on the LLM (alpha = 2 x rank), vision backbone and MLP projector frozen, bf16, lr 4e-5, warm-up 3 %,
# 448 px tiles with max_dynamic_patch 6, total batch size 16) and OCRDetInternVL2 (github leeguandong/OCRDetInternVL2:
# InternVL2-8B, ms-swift, LoRA rank 16, query "请目标检测图像中的信息并给出边界框"). With NPROC_PER_NODE or NNODES set
# ms-swift launches torchrun; with more than one process (NNODES x NPROC_PER_NODE) this script adds DeepSpeed ZeRO-2
# (InternVL's script uses ZeRO-1) and derives the gradient accumulation from TOTAL_BATCH_SIZE. Several machines:
# run the same command on each with its own NODE_RANK (as in ../got_ocr2/sft_lora.sh; shared: so_launch in
# ../common.sh).
#
# Template: `internvl2_ocr_det` (swift_ocr/msswift/templates.py: ms-swift's `internvl2` with a text-detection system
# prompt), registered by the swift-ocr plugin, which this script passes as --custom_register_path by default.
#
# Data: ms-swift jsonl rows {"messages": [{"role": "user", "content": "<image>请目标检测图像中的信息并给出边界框"},
# {"role": "assistant", "content": "<ref>...</ref><box>[[...]]</box>\n..."}], "images": ["/abs/path.jpg"]}
# (swift-ocr's det task: swift_ocr/tasks/det.py).
#
# Every setting is an environment variable (default in brackets):
#   DATASET (required)    training jsonl(s): space separated, or one per line when a path holds spaces
#                         (DATASET=$'/data/my receipts/a.jsonl\n/data/b.jsonl'); a value that names an existing
#                         file is one path even with spaces
#   VAL_DATASET []        validation jsonl(s), same syntax; when empty SPLIT_DATASET_RATIO [0] of DATASET is held out
#   MODEL [OpenGVLab/InternVL2-8B]  hub id or local dir;  MODEL_TYPE [internvl_chat]  TEMPLATE [internvl2_ocr_det]
#   OUTPUT_DIR [output/internvl2_8b_lora_det]  ADD_VERSION [true] (false: checkpoints go straight into OUTPUT_DIR)
#   RESUME []             auto: continue from the latest complete checkpoint under OUTPUT_DIR (a new run when there
#                         is none), or a checkpoint folder: --resume_from_checkpoint, written into that checkpoint's
#                         run folder (whose logging.jsonl continues; see so_resume in ../common.sh). Rerun with the
#                         same settings after a crash or a kill: the run ends at the same step count
#   TORCH_DTYPE [bfloat16] (use float32 on CPU)   NUM_TRAIN_EPOCHS [1]   MAX_STEPS [] (overrides epochs)
#   BATCH_SIZE [1] (per device)  EVAL_BATCH_SIZE [=BATCH_SIZE]  TOTAL_BATCH_SIZE [16] (the target global batch)
#   GRAD_ACC [TOTAL_BATCH_SIZE / (BATCH_SIZE x NNODES x NPROC_PER_NODE), at least 1]
#   LR [4e-5]  WARMUP_RATIO [0.03]  WEIGHT_DECAY [0.01]
#   LORA_RANK [16]  LORA_ALPHA [2 x LORA_RANK]  LORA_DROPOUT [0.05]
#   TARGET_MODULES [all-linear]  space-separated module names, each passed as one argument (never glob-expanded)
#   FREEZE_VIT [true]  FREEZE_ALIGNER [true]  MAX_LENGTH [8192] (receipts: up to 7 tiles x 256 image tokens plus
#                         ~25 tokens per box; cap boxes per sample with the det task's max_boxes)
#   MAX_NUM [6]           tiles per image of the internvl2 template (exported as MAX_NUM, which ms-swift reads, and
#                         printed in front of the command; the transformers-native `internvl_hf` templates take it
#                         from the processor config instead)
#   GRADIENT_CHECKPOINTING [true]  SAVE_STEPS [500]  EVAL_STEPS [=SAVE_STEPS]  SAVE_TOTAL_LIMIT [2]
#   EVAL_METRIC [ocr_det] scored at each evaluation by the swift-ocr plugin (README "OCR metrics during training";
#                         so_eval_metric in ../common.sh): ocr_det = eval_precision, eval_recall, eval_hmean as
#                         `swift-ocr eval det` (ICDAR 2015, ground truth = the labels; tiles scored per tile);
#                         ocr = CER/WER as `swift-ocr eval rec`; none = ms-swift's loss-only evaluation. Only with a
#                         validation set; adds --predict_with_generate true (then ms-swift logs no eval_loss)
#   EVAL_MAX_NEW_TOKENS [4096]  tokens generated per validation answer (ms-swift's default, 64, cuts the box list
#                         short; the metric warns about references longer than this)
#   METRIC_FOR_BEST_MODEL [hmean; cer for ocr]  GREATER_IS_BETTER [true; false for ocr]
#   SWIFT_OCR_FAMILY []   the detection codec family [from TEMPLATE: internvl*, got_ocr2*, qwen2_vl*, qwen2_5_vl*,
#                         deepseek_ocr*]
#   LOGGING_STEPS [5]  NUM_WORKERS [4]  SEED [42]
#   REPORT_TO [ms-swift default: tensorboard] (space separated, e.g. "tensorboard wandb", or none)
#   CHECK_MODEL [false]   ms-swift's "is the local model the latest hub version" check (network)
#   NPROC_PER_NODE []     GPUs per node; NNODES [] machines (positive integers); NODE_RANK [] this machine's rank;
#   MASTER_ADDR [] MASTER_PORT [torchrun: 29500]  (all read by ms-swift's launcher; NNODES>1 needs NODE_RANK and
#                         MASTER_ADDR)
#   DEEPSPEED [zero2 when NNODES x NPROC_PER_NODE > 1, else none]  zero0 zero1 zero2 zero3 zero2_offload
#                         zero3_offload (ms-swift's built-in configs; any case), a DeepSpeed JSON file, or none
#                         (DeepSpeed needs GPUs: DEEPSPEED=none on CPU)
#   DDP_BACKEND [gloo with several processes and no GPU visible, else ms-swift's default]  --ddp_backend; with
#                         several processes and no GPU --use_cpu true and the swift-ocr plugin are added too
#                         (a CPU run: so_launch / so_cpu_plugin in ../common.sh)
#   CUSTOM_REGISTER_PATH [swift_ocr/msswift/_plugin/swift_ocr_plugin.py of this checkout]  (none: not passed)
#   DRY_RUN [false]  only print the swift command
#   EXTRA_ARGS []         appended verbatim (shell quoting rules)
#   SWIFT [swift]         the ms-swift launcher, e.g. SWIFT=.venv/bin/swift
#
# CPU (tests, demos): MODEL=<dir from `swift-ocr tiny-model --arch internvl_hf`> MODEL_TYPE=internvl
# TEMPLATE=internvl_hf_ocr_det TORCH_DTYPE=float32 GRAD_ACC=1 NUM_WORKERS=0 (see README.md here).
#
# Output: the `swift sft` command line after "+ " (with MAX_NUM and the launch variables; paste it into bash as is),
# ms-swift's log, then on the last two lines of stdout (on NODE_RANK 0 only)
#   RUN_DIR=/abs/OUTPUT_DIR/vN-YYYYmmdd-HHMMSS   (OUTPUT_DIR itself with ADD_VERSION=false)
#   CHECKPOINT=/abs/RUN_DIR/checkpoint-N          (the best LoRA adapter by METRIC_FOR_BEST_MODEL, else the last
#                                                  saved, as recorded in RUN_DIR/logging.jsonl; pass it as ADAPTERS)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

MODEL=${MODEL:-OpenGVLab/InternVL2-8B}
MODEL_TYPE=${MODEL_TYPE:-internvl_chat}
TEMPLATE=${TEMPLATE:-internvl2_ocr_det}
OUTPUT_DIR=${OUTPUT_DIR:-output/internvl2_8b_lora_det}
LR=${LR:-4e-5}
WARMUP_RATIO=${WARMUP_RATIO:-0.03}
LORA_RANK=${LORA_RANK:-16}
so_posint LORA_RANK "$LORA_RANK"
LORA_ALPHA=${LORA_ALPHA:-$((2 * LORA_RANK))}
MAX_LENGTH=${MAX_LENGTH:-8192}
export MAX_NUM=${MAX_NUM:-6}
so_posint MAX_NUM "$MAX_NUM"
SO_CMD_ENV+=(MAX_NUM)
EVAL_METRIC=${EVAL_METRIC:-ocr_det}
# every other setting above, with the defaults shown (../common.sh); no STREAMING / LAZY_TOKENIZE / DATASET_NUM_PROC
so_lora_settings "an ms-swift jsonl of detection samples (swift-ocr's det task)" \
    --weight-decay 0.01 --plugin --no-streaming

so_lora_sft_args   # -> SO_SFT_ARGS (../common.sh)
so_log "MAX_NUM=$MAX_NUM (tiles per image, internvl2 templates)"
so_sft "${SO_SFT_ARGS[@]}"
