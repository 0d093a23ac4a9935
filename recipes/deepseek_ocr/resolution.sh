# shellcheck shell=bash
# DeepSeek-OCR's resolution mode, shared by this folder's scripts (sourced after ../common.sh, never executed).
#
# RESOLUTION_MODE is ONE setting: the native resolution modes of DeepSeek-OCR (deepseek-ai/DeepSeek-OCR README and
# DeepSeek-OCR-vllm/config.py), as ms-swift 4.6's `deepseek_ocr` template reads them from the environment
# (swift/template/templates/deepseek.py, DeepseekOCR.init_env_args: CROP_MODE [true], BASE_SIZE [1024],
# IMAGE_SIZE [640]):
#   mode    BASE_SIZE IMAGE_SIZE CROP_MODE  image tokens per image (ms-swift's template, version 1)
#   tiny    512       512        false      73    (8 x 8 queries, one newline token per row, one separator)
#   small   640       640        false      111   (10 x 10)
#   base    1024      1024       false      273   (16 x 16)
#   large   1280      1280       false      421   (20 x 20)
#   gundam  1024      640        true       273 for the 1024 px padded base view, plus (10 w + 1) x 10 h for a grid
#                                           of w x h 640 px crops (2 to 9 crops by aspect ratio) when the image is
#                                           larger than 640 px on a side
# (image tokens = (n + 1) x n + 1 with n = ceil(size / 16 / 4): 16 px patches, 4x token compression).
# The mode goes to ms-swift as --model_kwargs '{"CROP_MODE": ..., "BASE_SIZE": ..., "IMAGE_SIZE": ...}' (so_model_kwargs
# in ../common.sh): `swift sft` records it in args.json of the run folder and of every checkpoint, merge.sh and
# infer.sh read it back from there (and from a merged model's args.json), so a model is merged and run in the mode it
# was trained in. An explicit RESOLUTION_MODE that differs from the recorded one is used, with a warning.

# so_deepseek_resolution: RESOLUTION_MODE [recorded, else gundam] -> BASE_SIZE, IMAGE_SIZE, CROP_MODE,
# SO_MODEL_KWARGS_ARGS and SO_RESOLUTION_MODE (the mode's name, or "custom" for values of no mode). Exit 2 for an
# unknown mode. Call after so_resolve_swift.
so_deepseek_resolution() {
    local mode=${RESOLUTION_MODE:-}
    if [[ -n "$mode" ]]; then
        case "${mode,,}" in
            tiny) BASE_SIZE=512 IMAGE_SIZE=512 CROP_MODE=false ;;
            small) BASE_SIZE=640 IMAGE_SIZE=640 CROP_MODE=false ;;
            base) BASE_SIZE=1024 IMAGE_SIZE=1024 CROP_MODE=false ;;
            large) BASE_SIZE=1280 IMAGE_SIZE=1280 CROP_MODE=false ;;
            gundam) BASE_SIZE=1024 IMAGE_SIZE=640 CROP_MODE=true ;;
            *) so_die "RESOLUTION_MODE must be tiny, small, base, large or gundam, got '$mode'" ;;
        esac
    else
        unset BASE_SIZE IMAGE_SIZE CROP_MODE   # the recorded mode, else gundam (ms-swift's defaults)
    fi
    so_model_kwargs CROP_MODE=true BASE_SIZE=1024 IMAGE_SIZE=640
    CROP_MODE=${CROP_MODE,,}
    case "$CROP_MODE:$BASE_SIZE:$IMAGE_SIZE" in
        false:512:512) SO_RESOLUTION_MODE=tiny ;;
        false:640:640) SO_RESOLUTION_MODE=small ;;
        false:1024:1024) SO_RESOLUTION_MODE=base ;;
        false:1280:1280) SO_RESOLUTION_MODE=large ;;
        true:1024:640) SO_RESOLUTION_MODE=gundam ;;
        *) SO_RESOLUTION_MODE=custom ;;
    esac
    so_log "RESOLUTION_MODE=$SO_RESOLUTION_MODE (BASE_SIZE=$BASE_SIZE IMAGE_SIZE=$IMAGE_SIZE CROP_MODE=$CROP_MODE)"
}
