#!/usr/bin/env bash
# swift-ocr CPU demo: data_templates -> `swift-ocr convert` -> LoRA `swift sft` on a TINY RANDOM UNTRAINED GOT-OCR2
# -> `swift export --merge_lora true` -> `swift infer` on the val split -> `swift-ocr eval rec`.
# It proves the pipeline runs; the metric numbers of an untrained random model say nothing about OCR quality.
# Run through `make demo` (which installs everything first). Output goes to $DEMO_DIR (default output/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
DEMO_DIR=${DEMO_DIR:-output/demo}
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
R=recipes/got_ocr2

echo "== 1/5 convert data_templates/icdar (rendered receipts, forms, signs) to ms-swift jsonl"
swift-ocr convert --format icdar --input data_templates/icdar --task rec --model-family got \
    --val-ratio 0.34 --seed 0 --output "$DEMO_DIR/data/templates.jsonl"

echo "== 2/5 build a tiny random-weight untrained GOT-OCR2 and LoRA-train it for a few steps (CPU, float32)"
swift-ocr tiny-model --arch got_ocr2_hf --output "$DEMO_DIR/tiny-random-untrained-got_ocr2_hf"
CKPT=$(MODEL="$DEMO_DIR/tiny-random-untrained-got_ocr2_hf" DATASET="$DEMO_DIR/data/templates.jsonl" \
    VAL_DATASET="$DEMO_DIR/data/templates.val.jsonl" OUTPUT_DIR="$DEMO_DIR/sft" ADD_VERSION=false \
    CUSTOM_REGISTER_PATH="$(swift-ocr plugin-path)" TORCH_DTYPE=float32 MAX_STEPS=${MAX_STEPS:-4} \
    BATCH_SIZE=1 GRAD_ACC=1 NUM_WORKERS=0 SAVE_STEPS=${MAX_STEPS:-4} LOGGING_STEPS=1 LR=1e-3 \
    bash $R/sft_lora.sh | tail -n 1 | sed -n 's/^CHECKPOINT=//p')
echo "adapter: $CKPT"

echo "== 3/5 merge the LoRA adapter into the model"
MERGED=$(ADAPTERS="$CKPT" bash $R/merge.sh | tail -n 1 | sed -n 's/^MERGED=//p')
echo "merged: $MERGED"

echo "== 4/5 infer on the val split"
RESULT=$(MODEL="$MERGED" VAL_DATASET="$DEMO_DIR/data/templates.val.jsonl" RESULT_PATH="$DEMO_DIR/result.jsonl" \
    MAX_NEW_TOKENS=${MAX_NEW_TOKENS:-32} bash $R/infer.sh | tail -n 1 | sed -n 's/^RESULT_PATH=//p')

echo "== 5/5 OCR metrics"
swift-ocr eval rec --results "$RESULT" --per-sample "$DEMO_DIR/per_sample.jsonl" \
    --note "tiny random untrained model (pipeline demo) - these numbers are NOT OCR quality"
