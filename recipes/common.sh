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
