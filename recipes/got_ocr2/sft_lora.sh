#!/usr/bin/env bash
# LoRA fine-tuning of GOT-OCR 2.0 (transformers-native GotOcr2ForConditionalGeneration, ms-swift model_type
# and template `got_ocr2_hf`) with ms-swift 4.x `swift sft`.
#
# LoRA goes on the Qwen2 decoder only (target all-linear of the language model); the SAM-style vision
# encoder and the projector stay frozen (--freeze_vit true --freeze_aligner true), as in the GOT paper's
# post-training stage and ms-swift's multimodal LoRA examples.
#
# Several GPUs / machines: ms-swift's own launcher starts torchrun when NPROC_PER_NODE or NNODES is set (it
# reads NPROC_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT from the environment; this script passes
# them through unchanged and prints them in front of the command). Run the same command on every node with its
# own NODE_RANK, e.g. on 2 nodes x 8 GPUs:
#   NPROC_PER_NODE=8 NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 DATASET=... sft_lora.sh
#   NPROC_PER_NODE=8 NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 DATASET=... sft_lora.sh
# With more than one process (world size NNODES x NPROC_PER_NODE) DeepSpeed ZeRO-2 is added (ms-swift's built-in
# config `zero2`; DEEPSPEED=zero3, zero2_offload, zero3_offload, zero0/zero1, a JSON file, or none), and the gradient
# accumulation is derived from the target global batch TOTAL_BATCH_SIZE (16 by default, whatever the world size).
# The launch checks and derivations are shared by every recipe: so_launch in ../common.sh.
# Datasets larger than memory: STREAMING=true (ms-swift --streaming true: rows are read and encoded on the fly,
# so MAX_STEPS is required, lazy tokenisation is off, no split of DATASET into a validation set, and with
# several GPUs rank 0 preprocesses for all of them).
#
# Data: ms-swift jsonl rows {"messages": [{"role": "user", "content": "<image>OCR: "},
# {"role": "assistant", "content": "..."}], "images": ["/abs/path.jpg"]} (see `swift-ocr convert`).
#
# Every setting is an environment variable (default in brackets):
#   DATASET (required)    training jsonl(s) / dataset specs: space separated, or one per line when a path holds
#                         spaces (DATASET=$'/data/my receipts/a.jsonl\n/data/b.jsonl'); a value that names an
#                         existing file is one path even with spaces
#   VAL_DATASET []        validation jsonl(s), same syntax; when empty SPLIT_DATASET_RATIO [0] of DATASET is held out
#   MODEL [stepfun-ai/GOT-OCR-2.0-hf]  hub id or local dir;  MODEL_TYPE [got_ocr2_hf]  TEMPLATE [got_ocr2_hf]
#   OUTPUT_DIR [output/got_ocr2_lora]  ADD_VERSION [true] (false: checkpoints go straight into OUTPUT_DIR)
#   RESUME []             auto: continue from the latest complete checkpoint under OUTPUT_DIR (a new run when there
#                         is none), or a checkpoint folder: --resume_from_checkpoint, written into that checkpoint's
#                         run folder (whose logging.jsonl continues; see so_resume in ../common.sh). Rerun with the
#                         same settings after a crash or a kill: the run ends at the same step count
#   TORCH_DTYPE [bfloat16] (use float32 on CPU)   NUM_TRAIN_EPOCHS [1]   MAX_STEPS [] (overrides epochs)
#   BATCH_SIZE [1] (per device)  EVAL_BATCH_SIZE [=BATCH_SIZE]  TOTAL_BATCH_SIZE [16] (the target global batch)
#   GRAD_ACC [TOTAL_BATCH_SIZE / (BATCH_SIZE x NNODES x NPROC_PER_NODE), at least 1]  LR [1e-4]  WARMUP_RATIO [0.05]
#   LORA_RANK [8]  LORA_ALPHA [32]  LORA_DROPOUT [0.05]
#   TARGET_MODULES [all-linear]  space-separated module names, each passed as one argument (never glob-expanded)
#   FREEZE_VIT [true]  FREEZE_ALIGNER [true]  MAX_LENGTH [4096]  GRADIENT_CHECKPOINTING [true]
#   SAVE_STEPS [500]  EVAL_STEPS [=SAVE_STEPS]  SAVE_TOTAL_LIMIT [2]  LOGGING_STEPS [5]  NUM_WORKERS [4]
#   EVAL_METRIC [ocr]     scored at each evaluation by the swift-ocr plugin (README "OCR metrics during training";
#                         so_eval_metric in ../common.sh): ocr = eval_cer, eval_wer, eval_ned (1-NED), eval_accuracy
#                         as `swift-ocr eval rec`; ocr_det = eval_precision/recall/hmean as `swift-ocr eval det`;
#                         none = ms-swift's loss-only evaluation. Only with a validation set; adds
#                         --predict_with_generate true (then ms-swift logs no eval_loss)
#   EVAL_MAX_NEW_TOKENS [4096]  tokens generated per validation answer (ms-swift's default, 64, cuts OCR text short
#                         and inflates CER; the metric warns about references longer than this)
#   METRIC_FOR_BEST_MODEL [cer; hmean for ocr_det]  GREATER_IS_BETTER [false; true for ocr_det]
#   SWIFT_OCR_FAMILY []   ocr_det: the detection codec family when the template name does not tell it
#   SEED [42]  REPORT_TO [ms-swift default: tensorboard] (space separated, e.g. "tensorboard wandb", or none)
#   CHECK_MODEL [false]   ms-swift's "is the local model the latest hub version" check (network)
#   NPROC_PER_NODE []     processes (GPUs) per node; NNODES [] machines (positive integers); NODE_RANK [] this
#                         machine's rank
#   MASTER_ADDR [] MASTER_PORT [torchrun: 29500]  rank-0 machine (all read by ms-swift's launcher; NNODES>1 needs
#                         NODE_RANK and MASTER_ADDR)
#   DEEPSPEED [zero2 when NNODES x NPROC_PER_NODE > 1, else none]  zero0 zero1 zero2 zero3 zero2_offload
#                         zero3_offload (ms-swift's built-in configs; any case), a DeepSpeed JSON file, or none
#                         (DeepSpeed needs GPUs: DEEPSPEED=none on CPU)
#   DDP_BACKEND [gloo with several processes and no GPU visible, else ms-swift's default]  --ddp_backend; with
#                         several processes and no GPU --use_cpu true and the swift-ocr plugin are added too
#                         (a CPU run: so_launch / so_cpu_plugin in ../common.sh)
#   STREAMING [false]     true: --streaming true (needs MAX_STEPS)  SHUFFLE_BUFFER_SIZE [ms-swift: 1000]
#   LAZY_TOKENIZE [ms-swift: true for multimodal models unless streaming]  DATASET_NUM_PROC [ms-swift: 1]
#                         processes for dataset preprocessing (the swift-ocr plugin's readers run there)
#   CUSTOM_REGISTER_PATH []  passed as --custom_register_path (e.g. $(swift-ocr plugin-path))
#   DRY_RUN [false]  only print the swift command
#   EXTRA_ARGS []         appended verbatim (shell quoting rules)
#   SWIFT [swift]         the ms-swift launcher, e.g. SWIFT=.venv/bin/swift
#
# Output: the `swift sft` command line after "+ " (with the environment it depends on; paste it into bash as is),
# ms-swift's log, then on the last two lines of stdout (on NODE_RANK 0 only)
#   RUN_DIR=/abs/OUTPUT_DIR/vN-YYYYmmdd-HHMMSS   (OUTPUT_DIR itself with ADD_VERSION=false)
#   CHECKPOINT=/abs/RUN_DIR/checkpoint-N          (the best LoRA adapter by METRIC_FOR_BEST_MODEL, else the last
#                                                  saved, as recorded in RUN_DIR/logging.jsonl; pass it as ADAPTERS)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

MODEL=${MODEL:-stepfun-ai/GOT-OCR-2.0-hf}
MODEL_TYPE=${MODEL_TYPE:-got_ocr2_hf}
TEMPLATE=${TEMPLATE:-got_ocr2_hf}
OUTPUT_DIR=${OUTPUT_DIR:-output/got_ocr2_lora}
# every other setting above, with the defaults shown (../common.sh)
so_lora_settings "an ms-swift jsonl (e.g. from \`swift-ocr convert\`)"

so_lora_sft_args   # -> SO_SFT_ARGS (../common.sh)
so_sft "${SO_SFT_ARGS[@]}"
