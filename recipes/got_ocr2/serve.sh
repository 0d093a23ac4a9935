#!/usr/bin/env bash
# Serve GOT-OCR2 (base, merged or base + LoRA adapters) with ms-swift 4.x `swift deploy`: an OpenAI-compatible
# server (POST /v1/chat/completions, GET /v1/models) that `swift-ocr eval rec|det --api` scores over a validation set.
#
# Three ways to pick the model (as infer.sh):
#   MODEL=<merged dir>                 the MERGED=... line of merge.sh (or any full model dir / hub id)
#   ADAPTERS=<checkpoint>              a LoRA checkpoint; base model, model_type, template come from its args.json
#   neither                            the untuned base model stepfun-ai/GOT-OCR-2.0-hf (the "before" baseline)
# Resolution: GOT-OCR2's processor always resizes to 1024x1024 (nothing to set; its multi-crop "format" mode is not
# used by the got_ocr2_hf template).
#
# Environment variables (default in brackets):
#   MODEL [stepfun-ai/GOT-OCR-2.0-hf when ADAPTERS is empty]  ADAPTERS []
#   MODEL_TYPE [got_ocr2_hf]  TEMPLATE [got_ocr2_hf]  (with ADAPTERS: only passed when set)
#   HOST [127.0.0.1] (0.0.0.0 exposes the server, which has no API key, to the network)  PORT [8000] (must be free)
#   INFER_BACKEND [transformers] (vllm, sglang, lmdeploy: installed separately)  SERVED_MODEL_NAME [basename of
#                         ADAPTERS or MODEL]  MAX_NEW_TOKENS [4096]  TEMPERATURE [0]  (server defaults for requests
#                         that do not set them; swift-ocr eval --api always sends both)
#   TORCH_DTYPE []  MAX_BATCH_SIZE []  READY_TIMEOUT [900] seconds to wait for the model to load
#   CUSTOM_REGISTER_PATH []  passed as --custom_register_path
#   CUDA_VISIBLE_DEVICES []  DRY_RUN [false] only print the swift command
#   EXTRA_ARGS []  appended verbatim (shell quoting rules);  SWIFT [swift]  the ms-swift launcher
#
# Output: the `swift deploy` command line after "+ " (paste it into bash as is), ms-swift's log on stderr, then, once
# the server lists the model at /v1/models, two lines on stdout
#   URL=http://127.0.0.1:8000/v1
#   MODEL=<served model name>
# after which the script waits for the server (Ctrl-C or SIGTERM stops it). Then, in another shell:
#   swift-ocr eval rec --api "$URL" --model "$MODEL" --dataset val.jsonl --output after.jsonl
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../common.sh"

CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-}

so_resolve_swift
so_extra_args
family_args=()
[[ -n "$CUSTOM_REGISTER_PATH" ]] && family_args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
so_serve stepfun-ai/GOT-OCR-2.0-hf got_ocr2_hf got_ocr2_hf "${family_args[@]}"
