#!/usr/bin/env bash
# LoRA fine-tuning of Qwen2.5-VL for text detection as text (text spotting): sft_lora.sh with detection defaults.
#
# Targets: one JSON list per image, as Qwen2.5-VL answers its cookbook's spotting prompt,
#   ```json
#   [{"bbox_2d": [x1, y1, x2, y2], "text_content": "TAN WOON YANN"}, ...]
#   ```
# in absolute pixels of the image after Qwen's smart resize within MAX_PIXELS / MIN_PIXELS (swift_ocr/codecs/
# qwen2_5_vl.py). One setting: export MAX_PIXELS / MIN_PIXELS before `swift-ocr convert --task det --model-family
# qwen2_5_vl`, which reads the same variables (unset: ms-swift's default 12845056, not this recipe's 1003520) and
# records the bounds in each row (`swift-ocr validate` reports rows written for other bounds: resize_mismatch); train,
# infer and score with them: sft_lora.sh records them in the run folder, merge.sh / infer.sh reuse them and
# `swift-ocr eval det` reads them from the rows.
#
# Defaults that differ from sft_lora.sh (every other setting, documented there, is the same):
#   OUTPUT_DIR [output/qwen2_5_vl_lora_det]  MAX_LENGTH [8192] (up to 1280 image tokens plus ~30 tokens per box)
#   EVAL_METRIC [ocr_det] eval_precision / eval_recall / eval_hmean as `swift-ocr eval det` at each evaluation
#
# Output: as sft_lora.sh (RUN_DIR=..., CHECKPOINT=...).
set -euo pipefail
export OUTPUT_DIR=${OUTPUT_DIR:-output/qwen2_5_vl_lora_det}
export MAX_LENGTH=${MAX_LENGTH:-8192}
export EVAL_METRIC=${EVAL_METRIC:-ocr_det}
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sft_lora.sh"
