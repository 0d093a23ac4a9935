#!/usr/bin/env bash
# LoRA fine-tuning of DeepSeek-OCR for text detection as text: sft_lora.sh with detection defaults.
#
# Targets: one object per line in DeepSeek-OCR's grounding format, on a 0-999 grid of the original image
# (swift_ocr/codecs/deepseek_ocr.py; upstream deepseek-ai/DeepSeek-OCR DeepSeek-OCR-vllm):
#   <|ref|>TAN WOON YANN<|/ref|><|det|>[[156, 25, 704, 63]]<|/det|>
# Boxes are relative to the page, so they do not depend on RESOLUTION_MODE; the image tokens (and MAX_LENGTH) do.
#
# Defaults that differ from sft_lora.sh (every other setting, documented there, is the same):
#   OUTPUT_DIR [output/deepseek_ocr_lora_det]  MAX_LENGTH [8192] (gundam: up to 273 + 9 crops' 910 image tokens plus
#                         ~25 tokens per box)
#   EVAL_METRIC [ocr_det] eval_precision / eval_recall / eval_hmean as `swift-ocr eval det` at each evaluation
#
# Output: as sft_lora.sh (RUN_DIR=..., CHECKPOINT=...).
set -euo pipefail
export OUTPUT_DIR=${OUTPUT_DIR:-output/deepseek_ocr_lora_det}
export MAX_LENGTH=${MAX_LENGTH:-8192}
export EVAL_METRIC=${EVAL_METRIC:-ocr_det}
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sft_lora.sh"
