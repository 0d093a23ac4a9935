#!/usr/bin/env bash
# Serve an InternVL2 detection model (base, merged or base + LoRA adapters) with ms-swift 4.x `swift deploy`: an
# OpenAI-compatible server (POST /v1/chat/completions, GET /v1/models) that
# `swift-ocr eval det --api URL --dataset VAL.jsonl --model-family internvl` scores.
#
# Three ways to pick the model (as infer.sh):
#   MODEL=<merged dir>                 the MERGED=... line of merge.sh (or any full model dir / hub id)
#   ADAPTERS=<checkpoint>              a LoRA checkpoint; base model, model_type, template come from its args.json
#   neither                            the untuned base model OpenGVLab/InternVL2-8B (the "before" baseline)
# Resolution: MAX_NUM tiles of 448x448 per image (ms-swift's internvl2 templates read MAX_NUM from the environment):
# serve with the MAX_NUM the model was trained and validated with.
# The swift-ocr plugin (template internvl2_ocr_det) is registered with --custom_register_path by default.
#
# Environment variables (default in brackets):
#   MODEL [OpenGVLab/InternVL2-8B when ADAPTERS is empty]  ADAPTERS []
#   MODEL_TYPE [internvl_chat]  TEMPLATE [internvl2_ocr_det]  (with ADAPTERS: only passed when set)
#   MAX_NUM [6]           tiles per image (exported and printed in front of the command)
#   HOST [127.0.0.1] (0.0.0.0 exposes the server, which has no API key, to the network)  PORT [8000] (must be free)
#   INFER_BACKEND [transformers] (vllm, sglang, lmdeploy: installed separately)  SERVED_MODEL_NAME [basename of
#                         ADAPTERS or MODEL]  MAX_NEW_TOKENS [4096]  TEMPERATURE [0]  (server defaults for requests
#                         that do not set them; swift-ocr eval --api always sends both)
#   TORCH_DTYPE []  MAX_BATCH_SIZE []  READY_TIMEOUT [900] seconds to wait for the model to load
#   CUSTOM_REGISTER_PATH [the swift-ocr plugin]  passed as --custom_register_path (none: not passed)
#   CUDA_VISIBLE_DEVICES []  DRY_RUN [false] only print the swift command
#   EXTRA_ARGS []  appended verbatim (shell quoting rules);  SWIFT [swift]  the ms-swift launcher
#
# Output: the `swift deploy` command line after "+ " (with MAX_NUM; paste it into bash as is), ms-swift's log on
# stderr, then, once the server lists the model at /v1/models, two lines on stdout
#   URL=http://127.0.0.1:8000/v1
#   MODEL=<served model name>
# after which the script waits for the server (Ctrl-C or SIGTERM stops it).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

export MAX_NUM=${MAX_NUM:-6}
so_posint MAX_NUM "$MAX_NUM"
SO_CMD_ENV+=(MAX_NUM)
CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-$SWIFT_OCR_PLUGIN}

so_resolve_swift
so_extra_args
family_args=()
[[ "${CUSTOM_REGISTER_PATH,,}" != none ]] && family_args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
so_log "MAX_NUM=$MAX_NUM (tiles per image, internvl2 templates)"
so_serve OpenGVLab/InternVL2-8B internvl_chat internvl2_ocr_det "${family_args[@]}"
