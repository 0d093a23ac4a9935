# shellcheck shell=bash
# Shared helpers for the swift-ocr recipes (sourced, never executed).
#
#   . "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
#
# Every recipe prints the exact `swift ...` command line it runs (shell-quoted, prefixed with the
# torchrun-related environment variables ms-swift reads), then runs it, and prints its result as
# KEY=VALUE on the last line of stdout so that scripts can be chained:
#   CHECKPOINT=$(recipes/got_ocr2/sft_lora.sh | tail -n 1 | sed 's/^CHECKPOINT=//')

SWIFT_OCR_RECIPES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SWIFT_OCR_REPO_ROOT=$(cd "$SWIFT_OCR_RECIPES_DIR/.." && pwd)

# so_log MESSAGE...: a progress line on stderr, tagged with the calling script's name.
so_log() {
    printf '[%s] %s\n' "$(basename "$0")" "$*" >&2
}

# so_die MESSAGE...: print an error on stderr and exit 2.
so_die() {
    printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2
    exit 2
}

# so_abspath PATH: PATH made absolute against the current directory (no symlink resolution, the path
# need not exist). ms-swift resolves relative paths the same way.
so_abspath() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s\n' "$PWD/${1#./}" ;;
    esac
}

# so_is_true VALUE: succeeds for true/1/yes (any case).
so_is_true() {
    case "${1,,}" in
        true | 1 | yes) return 0 ;;
        *) return 1 ;;
    esac
}

# so_resolve_swift: fill the array SWIFT_CMD with the ms-swift launcher.
# Order: $SWIFT (split on spaces, e.g. SWIFT=".venv/bin/swift"), `swift` on PATH, then the
# repository's .venv/bin/swift.
so_resolve_swift() {
    SWIFT_CMD=()
    if [[ -n "${SWIFT:-}" ]]; then
        read -r -a SWIFT_CMD <<<"$SWIFT"
    elif command -v swift >/dev/null 2>&1; then
        SWIFT_CMD=(swift)
    elif [[ -x "$SWIFT_OCR_REPO_ROOT/.venv/bin/swift" ]]; then
        SWIFT_CMD=("$SWIFT_OCR_REPO_ROOT/.venv/bin/swift")
    else
        so_die "no ms-swift launcher: install ms-swift==4.6.0 or set SWIFT=/path/to/swift"
    fi
}

# so_extra_args: fill the array EXTRA with $EXTRA_ARGS, split with shell quoting rules, so that
# EXTRA_ARGS="--system 'You are an OCR engine.' --seed 7" gives four words. The value is the caller's
# own environment, parsed as if typed on the command line (command substitutions run; do not pass
# untrusted text here).
so_extra_args() {
    EXTRA=()
    if [[ -n "${EXTRA_ARGS:-}" ]]; then
        eval "EXTRA=(${EXTRA_ARGS})" || so_die "cannot parse EXTRA_ARGS: ${EXTRA_ARGS}"
    fi
}

# so_run COMMAND...: print the command line (with the distributed-launch variables that ms-swift's
# launcher reads), then run it. Returns the command's exit status. With DRY_RUN=true it only prints
# and ends the calling script with status 0.
so_run() {
    local prefix="" var
    for var in CUDA_VISIBLE_DEVICES NPROC_PER_NODE NNODES NODE_RANK MASTER_ADDR MASTER_PORT; do
        if [[ -n "${!var:-}" ]]; then
            prefix+="$var=$(printf '%q' "${!var}") "
        fi
    done
    printf '+ %s' "$prefix"
    printf '%q ' "$@"
    printf '\n'
    if so_is_true "${DRY_RUN:-false}"; then
        so_log "DRY_RUN: not running it"
        exit 0
    fi
    "$@"
}

# so_sft ARGS...: run `swift sft` ("${SWIFT_CMD[@]}" ARGS) writing into $OUTPUT_DIR, then find the run directory
# (ms-swift's new vN-<timestamp>, or $OUTPUT_DIR itself when ADD_VERSION is false) and its last LoRA checkpoint,
# and print them as the last two lines of stdout: RUN_DIR=... and CHECKPOINT=...
so_sft() {
    local before after new run_dir checkpoint start new_dirs
    before=$(_so_run_dirs)
    start=$SECONDS
    so_run "${SWIFT_CMD[@]}" "$@"
    if so_is_true "$ADD_VERSION"; then
        after=$(_so_run_dirs)
        new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed '/^$/d')
        [[ -n "$new" ]] || so_die "swift sft made no new run directory under $OUTPUT_DIR"
        # Several new ones only if another run wrote into OUTPUT_DIR meanwhile: take the newest.
        mapfile -t new_dirs <<<"$new"
        run_dir=$(ls -1dt -- "${new_dirs[@]}" | head -n 1)
    else
        run_dir=$OUTPUT_DIR
    fi
    if [[ -L "$run_dir/last-checkpoint" ]]; then
        checkpoint="$run_dir/$(readlink "$run_dir/last-checkpoint")"
    else
        checkpoint=$(find "$run_dir" -mindepth 1 -maxdepth 1 -type d -name 'checkpoint-*' | sort -V | tail -n 1)
    fi
    [[ -n "$checkpoint" && -f "$checkpoint/adapter_config.json" ]] ||
        so_die "no LoRA checkpoint with adapter_config.json in $run_dir"
    so_log "swift sft finished in $((SECONDS - start)) s"
    echo "RUN_DIR=$run_dir"
    echo "CHECKPOINT=$checkpoint"
}

# Run directories (ms-swift's vN-<timestamp>) under $OUTPUT_DIR, sorted.
_so_run_dirs() {
    if [[ -d "$OUTPUT_DIR" ]]; then
        find "$OUTPUT_DIR" -mindepth 1 -maxdepth 1 -type d -name 'v*-*' | sort
    fi
}

# so_merge [EXTRA SWIFT ARGS...]: `swift export --adapters $ADAPTERS --merge_lora true` into $MERGED_DIR (default:
# ms-swift's own "$ADAPTERS-merged"), with --exist_ok when EXIST_OK is true and MODEL / MODEL_TYPE / TEMPLATE /
# TORCH_DTYPE when set; the given args (e.g. --custom_register_path) and EXTRA come last. Prints MERGED=... last.
so_merge() {
    local merged start
    if [[ -n "$MERGED_DIR" ]]; then
        merged=$(so_abspath "$MERGED_DIR")
    else
        merged="$ADAPTERS-merged"   # ms-swift's own default for --merge_lora
    fi
    local args=(export --adapters "$ADAPTERS" --merge_lora true --output_dir "$merged")
    so_is_true "$EXIST_OK" && args+=(--exist_ok true)
    [[ -n "${MODEL:-}" ]] && args+=(--model "$MODEL")
    [[ -n "${MODEL_TYPE:-}" ]] && args+=(--model_type "$MODEL_TYPE")
    [[ -n "${TEMPLATE:-}" ]] && args+=(--template "$TEMPLATE")
    [[ -n "${TORCH_DTYPE:-}" ]] && args+=(--torch_dtype "$TORCH_DTYPE")
    args+=("$@" "${EXTRA[@]}")
    start=$SECONDS
    so_run "${SWIFT_CMD[@]}" "${args[@]}"
    [[ -f "$merged/config.json" ]] || so_die "swift export did not write $merged/config.json"
    so_log "swift export finished in $((SECONDS - start)) s"
    echo "MERGED=$merged"
}

# so_infer MODEL MODEL_TYPE TEMPLATE [EXTRA SWIFT ARGS...]: `swift infer` over $VAL_DATASET (space separated) into
# $RESULT_PATH. The model: ADAPTERS (a LoRA checkpoint; MODEL / MODEL_TYPE / TEMPLATE only when set, MERGE_LORA,
# LOAD_DATA_ARGS), else MODEL / MODEL_TYPE / TEMPLATE with the given defaults (the family's base model).
# Generation: MAX_NEW_TOKENS [4096], TEMPERATURE [0], INFER_BACKEND [transformers], MAX_BATCH_SIZE [1],
# TORCH_DTYPE, VAL_DATASET_SAMPLE. An existing RESULT_PATH is an error unless OVERWRITE=true (ms-swift appends).
# The given args and EXTRA come last. Prints RESULT_PATH=... last.
so_infer() {
    local default_model=$1 default_type=$2 default_template=$3
    shift 3
    local adapters=${ADAPTERS:-} load_data_args=${LOAD_DATA_ARGS:-false} val=${VAL_DATASET:-} result start
    if [[ -z "$val" ]] && ! { so_is_true "$load_data_args" && [[ -n "$adapters" ]]; }; then
        so_die "set VAL_DATASET to an ms-swift jsonl (or ADAPTERS=... LOAD_DATA_ARGS=true)"
    fi
    result=$(so_abspath "${RESULT_PATH:-output/infer_result/$(date +%Y%m%d-%H%M%S).jsonl}")
    if [[ -e "$result" ]]; then
        so_is_true "${OVERWRITE:-false}" ||
            so_die "$result exists and swift infer would append to it; set OVERWRITE=true or another RESULT_PATH"
        rm -f -- "$result"
    fi
    local args=(infer)
    if [[ -n "$adapters" ]]; then
        [[ -f "$adapters/adapter_config.json" ]] || so_die "$adapters: no adapter_config.json, not a LoRA checkpoint"
        args+=(--adapters "$(so_abspath "${adapters%/}")")
        [[ -n "${MODEL:-}" ]] && args+=(--model "$MODEL")
        [[ -n "${MODEL_TYPE:-}" ]] && args+=(--model_type "$MODEL_TYPE")
        [[ -n "${TEMPLATE:-}" ]] && args+=(--template "$TEMPLATE")
        so_is_true "${MERGE_LORA:-false}" && args+=(--merge_lora true)
        so_is_true "$load_data_args" && args+=(--load_data_args true)
    else
        args+=(--model "${MODEL:-$default_model}" --model_type "${MODEL_TYPE:-$default_type}"
            --template "${TEMPLATE:-$default_template}")
    fi
    if [[ -n "$val" ]]; then
        local val_words
        read -r -a val_words <<<"$val"
        args+=(--val_dataset "${val_words[@]}")
    fi
    args+=(--result_path "$result"
        --infer_backend "${INFER_BACKEND:-transformers}" --max_batch_size "${MAX_BATCH_SIZE:-1}"
        --max_new_tokens "${MAX_NEW_TOKENS:-4096}" --temperature "${TEMPERATURE:-0}")
    [[ -n "${TORCH_DTYPE:-}" ]] && args+=(--torch_dtype "$TORCH_DTYPE")
    [[ -n "${VAL_DATASET_SAMPLE:-}" ]] && args+=(--val_dataset_sample "$VAL_DATASET_SAMPLE")
    args+=("$@" "${EXTRA[@]}")
    start=$SECONDS
    so_run "${SWIFT_CMD[@]}" "${args[@]}"
    [[ -s "$result" ]] || so_die "swift infer wrote no results to $result"
    so_log "swift infer finished in $((SECONDS - start)) s ($(wc -l <"$result") rows)"
    echo "RESULT_PATH=$result"
}
