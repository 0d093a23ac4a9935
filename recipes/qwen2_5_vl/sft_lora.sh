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

MODEL=${MODEL:-Qwen/Qwen2.5-VL-7B-Instruct}
MODEL_TYPE=${MODEL_TYPE:-qwen2_5_vl}
TEMPLATE=${TEMPLATE:-qwen2_5_vl}
OUTPUT_DIR=${OUTPUT_DIR:-output/qwen2_5_vl_lora}
# every other setting above, with the defaults shown (../common.sh)
so_lora_settings "an ms-swift jsonl (e.g. from \`swift-ocr convert --model-family qwen2_5_vl\`)"
# -> SO_MODEL_KWARGS_ARGS (../common.sh); a resumed run reads them from its checkpoint's args.json
ADAPTERS=${SO_RESUME_ARGS[1]:-} so_model_kwargs MAX_PIXELS=1003520 MIN_PIXELS=3136
so_posint MAX_PIXELS "$MAX_PIXELS"
so_posint MIN_PIXELS "$MIN_PIXELS"

so_lora_sft_args   # -> SO_SFT_ARGS, with SO_MODEL_KWARGS_ARGS (../common.sh)
so_log "MAX_PIXELS=$MAX_PIXELS MIN_PIXELS=$MIN_PIXELS (image pixel bounds after Qwen's smart resize)"
so_sft "${SO_SFT_ARGS[@]}"
