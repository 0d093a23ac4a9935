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

MODEL=${MODEL:-PaddlePaddle/PaddleOCR-VL-1.5}
MODEL_TYPE=${MODEL_TYPE:-paddleocr_vl}
TEMPLATE=${TEMPLATE:-paddle_ocr_1_5_compat}
OUTPUT_DIR=${OUTPUT_DIR:-output/paddleocr_vl_lora}
BATCH_SIZE=${BATCH_SIZE:-4}
PADDING_FREE=${PADDING_FREE:-false}
ATTN_IMPL=${ATTN_IMPL:-}
# every other setting above, with the defaults shown (../common.sh); the template is the plugin's
so_lora_settings "an ms-swift jsonl (e.g. from \`swift-ocr convert --model-family paddleocr_vl\`)" --plugin

so_is_true "$PADDING_FREE" && SO_LORA_FAMILY_ARGS+=(--padding_free true)
[[ -n "$ATTN_IMPL" ]] && SO_LORA_FAMILY_ARGS+=(--attn_impl "$ATTN_IMPL")
so_lora_sft_args   # -> SO_SFT_ARGS, with SO_LORA_FAMILY_ARGS (../common.sh)
so_sft "${SO_SFT_ARGS[@]}"
