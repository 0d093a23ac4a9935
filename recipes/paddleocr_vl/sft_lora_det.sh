#!/usr/bin/env bash
# LoRA fine-tuning of PaddleOCR-VL 1.5 for text spotting (detection as text): sft_lora.sh with detection defaults.
#
# Targets: PaddleOCR-VL 1.5's `Spotting:` answer, one text line per line: the text, then its 4 corner points (x1, y1,
# ..., x4, y4, clockwise from top-left) as <|LOC_n|> tokens on a 0-1000 grid of the page (swift_ocr/codecs/
# paddleocr_vl.py; upstream: PaddleX paddlex/inference/pipelines/paddleocr_vl/uilts.py, post_process_for_spotting):
#   TAN WOON YANN<|LOC_156|><|LOC_25|><|LOC_704|><|LOC_25|><|LOC_704|><|LOC_63|><|LOC_156|><|LOC_63|>
#
# Defaults that differ from sft_lora.sh (every other setting, documented there, is the same):
#   OUTPUT_DIR [output/paddleocr_vl_lora_det]  MAX_LENGTH [8192] (a page's image tokens plus ~15 tokens per line)
#   EVAL_METRIC [ocr_det] eval_precision / eval_recall / eval_hmean as `swift-ocr eval det` at each evaluation
#   SWIFT_OCR_FAMILY [paddleocr_vl] the codec ocr_det decodes with (printed in front of the command)
#
# Output: as sft_lora.sh (RUN_DIR=..., CHECKPOINT=...).
set -euo pipefail
export OUTPUT_DIR=${OUTPUT_DIR:-output/paddleocr_vl_lora_det}
export MAX_LENGTH=${MAX_LENGTH:-8192}
export EVAL_METRIC=${EVAL_METRIC:-ocr_det}
export SWIFT_OCR_FAMILY=${SWIFT_OCR_FAMILY:-paddleocr_vl}
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sft_lora.sh"
