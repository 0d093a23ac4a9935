# shellcheck shell=bash
# Shared helpers for the swift-ocr recipes (sourced, never executed).
#
#   . "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
#
# Every recipe prints the exact `swift ...` command line it runs after "+ " (every word quoted with printf %q,
# prefixed with the torchrun-related environment variables ms-swift reads and any other variable the recipe
# exports for ms-swift, such as MAX_NUM, so that it can be pasted into bash as is), then runs it, and prints its
# result as KEY=VALUE on the last line of stdout so that scripts can be chained:
#   CHECKPOINT=$(recipes/got_ocr2/sft_lora.sh | tail -n 1 | sed 's/^CHECKPOINT=//')

SWIFT_OCR_RECIPES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SWIFT_OCR_REPO_ROOT=$(cd "$SWIFT_OCR_RECIPES_DIR/.." && pwd)
# The swift-ocr plugin file of this checkout (ms-swift loads plugins by file: --custom_register_path)
SWIFT_OCR_PLUGIN=$SWIFT_OCR_REPO_ROOT/swift_ocr/msswift/_plugin/swift_ocr_plugin.py

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

# so_posint NAME VALUE: VALUE must be a positive integer (decimal, no sign, no leading zero), else exit 2 naming NAME.
so_posint() {
    [[ "$2" =~ ^[1-9][0-9]*$ ]] || so_die "$1 must be a positive integer, got '$2'"
}

# so_list ARRAY NAME: split the list setting NAME (DATASET, VAL_DATASET) into the array ARRAY:
#   * a value with a newline: one entry per line (surrounding blanks trimmed, blank lines skipped), so entries may
#     hold spaces: DATASET=$'/data/my receipts/train.jsonl\n/data/more.jsonl';
#   * else a value that names an existing file or folder is one entry (a single path with spaces);
#   * else whitespace-separated words: DATASET="a.jsonl b.jsonl".
# Entries are never glob-expanded.
so_list() {
    local -n _so_list_out=$1
    local _so_value=${!2:-} _so_line
    _so_list_out=()
    if [[ "$_so_value" == *$'\n'* ]]; then
        while IFS= read -r _so_line; do
            _so_line=${_so_line#"${_so_line%%[![:space:]]*}"}
            _so_line=${_so_line%"${_so_line##*[![:space:]]}"}
            [[ -n "$_so_line" ]] && _so_list_out+=("$_so_line")
        done <<<"$_so_value"
    elif [[ -e "$_so_value" ]]; then
        _so_list_out=("$_so_value")
    else
        read -r -a _so_list_out <<<"$_so_value"
    fi
    return 0
}

# so_words ARRAY NAME: the whitespace-separated words of the setting NAME (TARGET_MODULES, REPORT_TO) into the array
# ARRAY, one argument each, never glob-expanded (TARGET_MODULES="*" stays "*").
so_words() {
    local -n _so_words_out=$1
    read -r -a _so_words_out <<<"${!2:-}"
    return 0
}

# so_launch_vars: check NPROC_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT (see so_launch) and set
# SO_WORLD_SIZE = NNODES x NPROC_PER_NODE. Empty ones are unset.
so_launch_vars() {
    local var nproc nodes
    # an empty launch variable would still make ms-swift start torchrun (it tests `is None`), with an empty value
    for var in NPROC_PER_NODE NNODES NODE_RANK MASTER_ADDR MASTER_PORT; do
        [[ -n "${!var-x}" ]] || unset "$var"
    done
    nproc=${NPROC_PER_NODE:-1}
    nodes=${NNODES:-1}
    so_posint NPROC_PER_NODE "$nproc"
    so_posint NNODES "$nodes"
    if ((nodes > 1)); then
        [[ -n "${MASTER_ADDR:-}" ]] || so_die "NNODES=$nodes: set MASTER_ADDR to the address of the NODE_RANK=0 machine"
        if ! [[ "${NODE_RANK:-}" =~ ^(0|[1-9][0-9]*)$ ]] || ((NODE_RANK >= nodes)); then
            so_die "NNODES=$nodes: set NODE_RANK to this machine's rank, 0..$((nodes - 1)), got '${NODE_RANK:-}'"
        fi
    fi
    if [[ -n "${MASTER_PORT:-}" ]]; then
        if ! [[ "$MASTER_PORT" =~ ^[1-9][0-9]{0,4}$ ]] || ((MASTER_PORT > 65535)); then
            so_die "MASTER_PORT must be a port number 1..65535, got '$MASTER_PORT'"
        fi
    fi
    SO_WORLD_SIZE=$((nodes * nproc))
    return 0
}

# so_launch TOTAL_BATCH_SIZE_DEFAULT: check the multi-process settings and derive batch and DeepSpeed settings.
# Shared by every training recipe:
#   NPROC_PER_NODE [1] NNODES [1]: positive integers (left unset when unset: ms-swift starts torchrun only when one
#     of them is set); world size SO_WORLD_SIZE = NNODES x NPROC_PER_NODE processes.
#   NNODES>1: NODE_RANK in 0..NNODES-1 and MASTER_ADDR are required. MASTER_PORT, when set: 1..65535.
#   BATCH_SIZE [1] per device; TOTAL_BATCH_SIZE [TOTAL_BATCH_SIZE_DEFAULT] the target global batch;
#   GRAD_ACC [TOTAL_BATCH_SIZE / (BATCH_SIZE x world size), at least 1]: set it to override the derivation.
#   DEEPSPEED [zero2 when the world size is over 1, else none]: zero0 zero1 zero2 zero3 zero2_offload zero3_offload
#     (ms-swift's built-in configs, any case, passed in lower case), none, or a DeepSpeed JSON file (made absolute).
#     DeepSpeed needs GPUs: on a machine without one set DEEPSPEED=none (a warning says so).
#   DDP_BACKEND [gloo when the world size is over 1 and no GPU is visible (so_gpu_visible), else ms-swift's default:
#     nccl on NVIDIA GPUs]: --ddp_backend. With the world size over 1 and no GPU visible --use_cpu true is added too
#     (transformers' switch that makes accelerate set up a MULTI_CPU run): without it every process trains its own
#     copy of the model on its shard of the data, no gradient is exchanged, and rank 0's copy is saved.
# CPU runs (tests, demos; see "Scale-out" in README.md), the settings in one place:
#   NPROC_PER_NODE=2 DEEPSPEED=none TORCH_DTYPE=float32 OMP_NUM_THREADS=<cores per process> (--ddp_backend gloo
#   --use_cpu true are chosen automatically, and so_sft / so_infer load the swift-ocr plugin: so_cpu_plugin).
# Sets BATCH_SIZE, TOTAL_BATCH_SIZE, GRAD_ACC, DEEPSPEED, DDP_BACKEND, SO_WORLD_SIZE and the arrays SO_DEEPSPEED_ARGS
# (--deepspeed) and SO_DDP_ARGS (--ddp_backend, --use_cpu).
# shellcheck disable=SC2034  # SO_DEEPSPEED_ARGS and SO_DDP_ARGS are used by the recipes
so_launch() {
    local global
    so_launch_vars

    BATCH_SIZE=${BATCH_SIZE:-1}
    so_posint BATCH_SIZE "$BATCH_SIZE"
    TOTAL_BATCH_SIZE=${TOTAL_BATCH_SIZE:-$1}
    so_posint TOTAL_BATCH_SIZE "$TOTAL_BATCH_SIZE"
    if [[ -n "${GRAD_ACC:-}" ]]; then
        so_posint GRAD_ACC "$GRAD_ACC"
    else
        GRAD_ACC=$((TOTAL_BATCH_SIZE / (BATCH_SIZE * SO_WORLD_SIZE)))
        ((GRAD_ACC >= 1)) || GRAD_ACC=1
    fi
    global=$((BATCH_SIZE * SO_WORLD_SIZE * GRAD_ACC))
    so_log "world size $SO_WORLD_SIZE (NNODES x NPROC_PER_NODE), BATCH_SIZE=$BATCH_SIZE," \
        "GRAD_ACC=$GRAD_ACC: global batch $global"
    ((global == TOTAL_BATCH_SIZE)) ||
        so_log "note: the global batch $global differs from TOTAL_BATCH_SIZE=$TOTAL_BATCH_SIZE" \
            "(set GRAD_ACC, BATCH_SIZE or TOTAL_BATCH_SIZE to choose)"

    if [[ -z "${DEEPSPEED:-}" ]]; then
        if ((SO_WORLD_SIZE > 1)); then DEEPSPEED=zero2; else DEEPSPEED=none; fi
    fi
    case "${DEEPSPEED,,}" in
        none | zero0 | zero1 | zero2 | zero3 | zero2_offload | zero3_offload) DEEPSPEED=${DEEPSPEED,,} ;;
        *)
            [[ -f "$DEEPSPEED" ]] || so_die "DEEPSPEED=$DEEPSPEED: not one of zero0 zero1 zero2 zero3 zero2_offload" \
                "zero3_offload none, and no such JSON file"
            DEEPSPEED=$(so_abspath "$DEEPSPEED")
            ;;
    esac
    SO_DEEPSPEED_ARGS=()
    [[ "$DEEPSPEED" != none ]] && SO_DEEPSPEED_ARGS=(--deepspeed "$DEEPSPEED")

    SO_DDP_ARGS=()
    if ((SO_WORLD_SIZE > 1)) && ! so_gpu_visible; then
        DDP_BACKEND=${DDP_BACKEND:-gloo}
        SO_DDP_ARGS=(--use_cpu true)
        so_log "no GPU visible: a data-parallel run on the CPU (--use_cpu true, DDP_BACKEND=$DDP_BACKEND)"
    fi
    [[ -n "${DDP_BACKEND:-}" ]] && SO_DDP_ARGS+=(--ddp_backend "$DDP_BACKEND")
    if [[ "$DEEPSPEED" != none ]] && ! so_gpu_visible; then
        so_log "warning: no GPU visible and DEEPSPEED=$DEEPSPEED: DeepSpeed needs GPUs;" \
            "set DEEPSPEED=none for a CPU run"
    fi
    return 0
}

# so_cpu_plugin SWIFT_ARGS...: set the array SO_CPU_PLUGIN_ARGS to --custom_register_path <the swift-ocr plugin of this
# checkout> when the run has several processes (SO_WORLD_SIZE), no GPU is visible and SWIFT_ARGS load no plugin yet;
# else to nothing. On CPU the plugin sets up accelerate's MULTI_CPU state, without which ms-swift's `swift infer`
# writes only rank 0's rows, and closes the gloo process group at exit (swift_ocr.msswift.plugin.cpu_data_parallel).
# shellcheck disable=SC2034  # used by the callers
so_cpu_plugin() {
    SO_CPU_PLUGIN_ARGS=()
    if ((${SO_WORLD_SIZE:-1} > 1)) && ! so_gpu_visible && [[ " $* " != *" --custom_register_path "* ]]; then
        so_log "no GPU visible: adding the swift-ocr plugin for a data-parallel run on the CPU"
        SO_CPU_PLUGIN_ARGS=(--custom_register_path "$SWIFT_OCR_PLUGIN")
    fi
    return 0
}

# so_gpu_visible: succeeds when this machine shows an accelerator to torch: CUDA_VISIBLE_DEVICES is not "" or -1 and
# an NVIDIA (/dev/nvidia0...), AMD ROCm (/dev/kfd) or Ascend (/dev/davinci0...) device node exists. Cheap: no Python.
so_gpu_visible() {
    case "${CUDA_VISIBLE_DEVICES-unset}" in "" | -1) return 1 ;; esac
    compgen -G '/dev/nvidia[0-9]*' >/dev/null || [[ -e /dev/kfd ]] || compgen -G '/dev/davinci[0-9]*' >/dev/null
}

# Environment variables printed in front of the command by so_run when set: the launch variables ms-swift's
# launcher reads, plus what a recipe adds with SO_CMD_ENV+=(NAME) (e.g. MAX_NUM, read by ms-swift's templates).
SO_CMD_ENV=()
# Arguments of a family for so_lora_sft_args, none until a recipe sets them: --model_kwargs (so_model_kwargs), and the
# recipe's own `swift sft` arguments.
SO_MODEL_KWARGS_ARGS=()
SO_LORA_FAMILY_ARGS=()

# so_show COMMAND...: print the command line on stdout after "+ ", prefixed with the environment assignments it
# depends on, every word quoted with printf %q, so that what follows "+ " can be pasted into bash as is. With
# DRY_RUN=true it then ends the calling script with status 0.
so_show() {
    local prefix="" var
    for var in CUDA_VISIBLE_DEVICES NPROC_PER_NODE NNODES NODE_RANK MASTER_ADDR MASTER_PORT "${SO_CMD_ENV[@]}"; do
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
}

# so_run COMMAND...: so_show the command line, then run it. Returns the command's exit status.
so_run() {
    so_show "$@"
    "$@"
}

# so_eval_metric DEFAULT_METRIC HAS_VAL: the OCR metric during training (swift_ocr/msswift/metrics.py, registered by the
# plugin). EVAL_METRIC [DEFAULT_METRIC]: ocr (CER/WER/1-NED/accuracy, as `swift-ocr eval rec`), ocr_det
# (precision/recall/Hmean, as `swift-ocr eval det`; family from SWIFT_OCR_FAMILY or the template name) or none
# (ms-swift's loss-only evaluation). With a metric and a validation set (HAS_VAL true), SO_EVAL_ARGS gets
# --predict_with_generate true --eval_metric M --metric_for_best_model METRIC_FOR_BEST_MODEL [cer / hmean]
# --greater_is_better GREATER_IS_BETTER [false / true] --max_new_tokens EVAL_MAX_NEW_TOKENS [4096, as infer.sh;
# ms-swift's default 64 cuts OCR answers short]. SWIFT_OCR_FAMILY, when set, is printed in front of the command. The
# metrics are the plugin's: an empty CUSTOM_REGISTER_PATH becomes this checkout's plugin file, `none` is an error.
# shellcheck disable=SC2034  # SO_EVAL_ARGS is used by the recipes
so_eval_metric() {
    local has_val=$2
    EVAL_METRIC=${EVAL_METRIC:-$1}
    EVAL_METRIC=${EVAL_METRIC,,}
    EVAL_MAX_NEW_TOKENS=${EVAL_MAX_NEW_TOKENS:-4096}
    SO_EVAL_ARGS=()
    case "$EVAL_METRIC" in
        ocr) METRIC_FOR_BEST_MODEL=${METRIC_FOR_BEST_MODEL:-cer} GREATER_IS_BETTER=${GREATER_IS_BETTER:-false} ;;
        ocr_det) METRIC_FOR_BEST_MODEL=${METRIC_FOR_BEST_MODEL:-hmean} GREATER_IS_BETTER=${GREATER_IS_BETTER:-true} ;;
        none) return 0 ;;
        *) so_die "EVAL_METRIC must be ocr, ocr_det or none, got '$EVAL_METRIC'" ;;
    esac
    so_posint EVAL_MAX_NEW_TOKENS "$EVAL_MAX_NEW_TOKENS"
    [[ -n "${SWIFT_OCR_FAMILY:-}" ]] && SO_CMD_ENV+=(SWIFT_OCR_FAMILY)
    if ! so_is_true "$has_val"; then
        so_log "EVAL_METRIC=$EVAL_METRIC: no validation set (VAL_DATASET / SPLIT_DATASET_RATIO), nothing to evaluate"
        return 0
    fi
    if [[ -z "${CUSTOM_REGISTER_PATH:-}" ]]; then   # the metrics are the plugin's
        CUSTOM_REGISTER_PATH=$SWIFT_OCR_PLUGIN
        so_log "EVAL_METRIC=$EVAL_METRIC is the swift-ocr plugin's: CUSTOM_REGISTER_PATH=$CUSTOM_REGISTER_PATH"
    elif [[ "${CUSTOM_REGISTER_PATH,,}" == none ]]; then
        so_die "EVAL_METRIC=$EVAL_METRIC needs the swift-ocr plugin (CUSTOM_REGISTER_PATH); or set EVAL_METRIC=none"
    fi
    SO_EVAL_ARGS=(--predict_with_generate true --eval_metric "$EVAL_METRIC"
        --metric_for_best_model "$METRIC_FOR_BEST_MODEL" --greater_is_better "$GREATER_IS_BETTER"
        --max_new_tokens "$EVAL_MAX_NEW_TOKENS")
    return 0
}

# so_lora_settings DATASET_HINT [--weight-decay DEFAULT] [--plugin] [--no-streaming]: the settings every LoRA
# `swift sft` recipe shares, read and checked in this order once the recipe has set MODEL, MODEL_TYPE, TEMPLATE and
# OUTPUT_DIR (each documented in got_ocr2/sft_lora.sh). A recipe gives a setting its own default by setting it
# before the call (LR=${LR:-4e-5}); the shared defaults are in brackets:
#   DATASET (required: else exit 2 with "set DATASET to DATASET_HINT")  VAL_DATASET []  SPLIT_DATASET_RATIO [0]
#   (lists: so_list);  OUTPUT_DIR (made absolute)  ADD_VERSION [true]  RESUME [] (so_resume)  TORCH_DTYPE [bfloat16]
#   NUM_TRAIN_EPOCHS [1]  MAX_STEPS []  NPROC_PER_NODE NNODES ... BATCH_SIZE [1] TOTAL_BATCH_SIZE [16] GRAD_ACC
#   DEEPSPEED DDP_BACKEND (so_launch 16)  EVAL_BATCH_SIZE [=BATCH_SIZE]  LR [1e-4]  WARMUP_RATIO [0.05]
#   WEIGHT_DECAY (read only with --weight-decay: [DEFAULT])
#   LORA_RANK [8]  LORA_ALPHA [32]  LORA_DROPOUT [0.05]  TARGET_MODULES [all-linear] (so_words; blank: exit 2)
#   FREEZE_VIT [true]  FREEZE_ALIGNER [true]  MAX_LENGTH [4096]  GRADIENT_CHECKPOINTING [true]  SAVE_STEPS [500]
#   EVAL_STEPS [=SAVE_STEPS]  SAVE_TOTAL_LIMIT [2]  LOGGING_STEPS [5]  NUM_WORKERS [4]  SEED [42]
#   REPORT_TO [] (so_words)  CHECK_MODEL [false]
#   CUSTOM_REGISTER_PATH []: passed when set (with --plugin the default is this checkout's swift-ocr plugin); `none`
#     leaves it out
#   STREAMING [false] (true needs MAX_STEPS, and LAZY_TOKENIZE not true)  SHUFFLE_BUFFER_SIZE []  LAZY_TOKENIZE []
#     DATASET_NUM_PROC []: none of the four is read with --no-streaming
#   EVAL_METRIC [ocr] ... (so_eval_metric; a validation set: VAL_DATASET, or SPLIT_DATASET_RATIO > 0)
# then so_resolve_swift and so_extra_args. Sets the arrays SO_LORA_DATASET, SO_LORA_VAL_DATASET, SO_LORA_TARGET_MODULES,
# SO_LORA_REPORT_TO and SO_LORA_HAS_VAL (true / false), which so_lora_sft_args reads with the settings above.
so_lora_settings() {
    local hint=$1
    shift
    SO_LORA_WEIGHT_DECAY=false SO_LORA_PLUGIN=false SO_LORA_STREAMING=true
    while (($# > 0)); do
        case "$1" in
            --weight-decay)
                SO_LORA_WEIGHT_DECAY=true
                WEIGHT_DECAY=${WEIGHT_DECAY:-$2}
                shift
                ;;
            --plugin) SO_LORA_PLUGIN=true ;;
            --no-streaming) SO_LORA_STREAMING=false ;;
            *) so_die "so_lora_settings: unknown option '$1'" ;;
        esac
        shift
    done
    SO_LORA_DATASET=() SO_LORA_VAL_DATASET=() SO_LORA_TARGET_MODULES=() SO_LORA_REPORT_TO=()
    so_list SO_LORA_DATASET DATASET
    ((${#SO_LORA_DATASET[@]} > 0)) || so_die "set DATASET to $hint"
    so_list SO_LORA_VAL_DATASET VAL_DATASET
    SPLIT_DATASET_RATIO=${SPLIT_DATASET_RATIO:-0}
    OUTPUT_DIR=$(so_abspath "$OUTPUT_DIR")
    ADD_VERSION=${ADD_VERSION:-true}
    so_resume   # RESUME=auto|<checkpoint>: OUTPUT_DIR becomes the checkpoint's run folder, ADD_VERSION false
    TORCH_DTYPE=${TORCH_DTYPE:-bfloat16}
    NUM_TRAIN_EPOCHS=${NUM_TRAIN_EPOCHS:-1}
    MAX_STEPS=${MAX_STEPS:-}
    so_launch 16   # BATCH_SIZE, TOTAL_BATCH_SIZE [16], GRAD_ACC, DEEPSPEED, checks of NPROC_PER_NODE / NNODES / ...
    EVAL_BATCH_SIZE=${EVAL_BATCH_SIZE:-$BATCH_SIZE}
    LR=${LR:-1e-4}
    WARMUP_RATIO=${WARMUP_RATIO:-0.05}
    LORA_RANK=${LORA_RANK:-8}
    LORA_ALPHA=${LORA_ALPHA:-32}
    LORA_DROPOUT=${LORA_DROPOUT:-0.05}
    TARGET_MODULES=${TARGET_MODULES:-all-linear}
    so_words SO_LORA_TARGET_MODULES TARGET_MODULES
    ((${#SO_LORA_TARGET_MODULES[@]} > 0)) || so_die "TARGET_MODULES is blank"
    FREEZE_VIT=${FREEZE_VIT:-true}
    FREEZE_ALIGNER=${FREEZE_ALIGNER:-true}
    MAX_LENGTH=${MAX_LENGTH:-4096}
    GRADIENT_CHECKPOINTING=${GRADIENT_CHECKPOINTING:-true}
    SAVE_STEPS=${SAVE_STEPS:-500}
    EVAL_STEPS=${EVAL_STEPS:-$SAVE_STEPS}
    SAVE_TOTAL_LIMIT=${SAVE_TOTAL_LIMIT:-2}
    LOGGING_STEPS=${LOGGING_STEPS:-5}
    NUM_WORKERS=${NUM_WORKERS:-4}
    SEED=${SEED:-42}
    so_words SO_LORA_REPORT_TO REPORT_TO
    CHECK_MODEL=${CHECK_MODEL:-false}
    if [[ "$SO_LORA_PLUGIN" == true ]]; then
        CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-$SWIFT_OCR_PLUGIN}
    else
        CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-}
    fi
    if [[ "$SO_LORA_STREAMING" == true ]]; then
        STREAMING=${STREAMING:-false}
        SHUFFLE_BUFFER_SIZE=${SHUFFLE_BUFFER_SIZE:-}
        LAZY_TOKENIZE=${LAZY_TOKENIZE:-}
        DATASET_NUM_PROC=${DATASET_NUM_PROC:-}
        if so_is_true "$STREAMING"; then
            [[ -n "$MAX_STEPS" ]] ||
                so_die "STREAMING=true: set MAX_STEPS (a streamed dataset has no length, ms-swift needs --max_steps)"
            so_is_true "${LAZY_TOKENIZE:-false}" &&
                so_die "STREAMING=true and LAZY_TOKENIZE=true are incompatible in ms-swift"
        fi
    fi

    SO_LORA_HAS_VAL=false   # a validation set: VAL_DATASET, or SPLIT_DATASET_RATIO > 0
    if ((${#SO_LORA_VAL_DATASET[@]} > 0)) || ! [[ "$SPLIT_DATASET_RATIO" =~ ^0*\.?0*$ ]]; then SO_LORA_HAS_VAL=true; fi
    so_eval_metric ocr "$SO_LORA_HAS_VAL"   # EVAL_METRIC [ocr, or the recipe's] ... -> SO_EVAL_ARGS

    so_resolve_swift
    so_extra_args
    return 0
}

# so_lora_sft_args: fill the array SO_SFT_ARGS with the `swift sft` arguments of a LoRA run from the settings of
# so_lora_settings (call it first): model, template, SO_MODEL_KWARGS_ARGS (so_model_kwargs, when the recipe calls it),
# datasets, LoRA and training settings, the validation set (--val_dataset, else --split_dataset_ratio), --max_steps,
# then SO_LORA_FAMILY_ARGS (the recipe's own arguments, e.g. --padding_free true), then the resume, DeepSpeed / DDP,
# evaluation, streaming, report and plugin arguments, and EXTRA last. Run it with so_sft "${SO_SFT_ARGS[@]}".
# shellcheck disable=SC2034  # SO_SFT_ARGS is used by the recipes
so_lora_sft_args() {
    local weight_decay=()
    [[ "$SO_LORA_WEIGHT_DECAY" == true ]] && weight_decay=(--weight_decay "$WEIGHT_DECAY")
    SO_SFT_ARGS=(sft
        --model "$MODEL" --model_type "$MODEL_TYPE" --template "$TEMPLATE"
        "${SO_MODEL_KWARGS_ARGS[@]}"
        --dataset "${SO_LORA_DATASET[@]}"
        --tuner_type lora
        --target_modules "${SO_LORA_TARGET_MODULES[@]}"
        --lora_rank "$LORA_RANK" --lora_alpha "$LORA_ALPHA" --lora_dropout "$LORA_DROPOUT"
        --freeze_llm false --freeze_vit "$FREEZE_VIT" --freeze_aligner "$FREEZE_ALIGNER"
        --torch_dtype "$TORCH_DTYPE"
        --num_train_epochs "$NUM_TRAIN_EPOCHS"
        --per_device_train_batch_size "$BATCH_SIZE" --per_device_eval_batch_size "$EVAL_BATCH_SIZE"
        --gradient_accumulation_steps "$GRAD_ACC"
        --learning_rate "$LR" --warmup_ratio "$WARMUP_RATIO" "${weight_decay[@]}"
        --max_length "$MAX_LENGTH"
        --gradient_checkpointing "$GRADIENT_CHECKPOINTING"
        --save_steps "$SAVE_STEPS" --eval_steps "$EVAL_STEPS" --save_total_limit "$SAVE_TOTAL_LIMIT"
        --logging_steps "$LOGGING_STEPS"
        --dataloader_num_workers "$NUM_WORKERS"
        --seed "$SEED"
        --check_model "$CHECK_MODEL"
        --output_dir "$OUTPUT_DIR" --add_version "$ADD_VERSION")
    if ((${#SO_LORA_VAL_DATASET[@]} > 0)); then
        SO_SFT_ARGS+=(--val_dataset "${SO_LORA_VAL_DATASET[@]}")
    else
        SO_SFT_ARGS+=(--split_dataset_ratio "$SPLIT_DATASET_RATIO")
    fi
    [[ -n "$MAX_STEPS" ]] && SO_SFT_ARGS+=(--max_steps "$MAX_STEPS")
    SO_SFT_ARGS+=("${SO_LORA_FAMILY_ARGS[@]}")
    SO_SFT_ARGS+=("${SO_RESUME_ARGS[@]}")
    SO_SFT_ARGS+=("${SO_DEEPSPEED_ARGS[@]}" "${SO_DDP_ARGS[@]}")
    SO_SFT_ARGS+=("${SO_EVAL_ARGS[@]}")
    if [[ "$SO_LORA_STREAMING" == true ]]; then
        if so_is_true "$STREAMING"; then
            SO_SFT_ARGS+=(--streaming true)
            [[ -n "$SHUFFLE_BUFFER_SIZE" ]] && SO_SFT_ARGS+=(--shuffle_buffer_size "$SHUFFLE_BUFFER_SIZE")
        fi
        [[ -n "$LAZY_TOKENIZE" ]] && SO_SFT_ARGS+=(--lazy_tokenize "$LAZY_TOKENIZE")
        [[ -n "$DATASET_NUM_PROC" ]] && SO_SFT_ARGS+=(--dataset_num_proc "$DATASET_NUM_PROC")
    fi
    ((${#SO_LORA_REPORT_TO[@]} > 0)) && SO_SFT_ARGS+=(--report_to "${SO_LORA_REPORT_TO[@]}")
    # `none` leaves the plugin out in every recipe (it is never a file ms-swift could load)
    if [[ -n "$CUSTOM_REGISTER_PATH" && "${CUSTOM_REGISTER_PATH,,}" != none ]]; then
        SO_SFT_ARGS+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
    fi
    SO_SFT_ARGS+=("${EXTRA[@]}")
    return 0
}

# so_sft ARGS...: run `swift sft` ("${SWIFT_CMD[@]}" ARGS) writing into $OUTPUT_DIR, then find the run directory
# (ms-swift's new vN-<timestamp>, or $OUTPUT_DIR itself when ADD_VERSION is false) and the best checkpoint of this
# run, and print them as the last two lines of stdout: RUN_DIR=... and CHECKPOINT=...
# The checkpoint is the one this run recorded: `best_model_checkpoint` (best by --metric_for_best_model, e.g. the
# lowest eval_cer: so_eval_metric), else `last_model_checkpoint`, of the last line ms-swift appended to
# RUN_DIR/logging.jsonl (its final train summary, swift/pipelines/train/sft.py), never a guess from folder names,
# so leftovers of earlier runs in a reused OUTPUT_DIR are not reported. On a multi-node run only NODE_RANK 0 (where
# ms-swift writes the checkpoints) looks for them; the other nodes print nothing after the log.
so_sft() {
    local before after new run_dir checkpoint start new_dirs log_offset=0
    so_cpu_plugin "$@"
    set -- "$@" "${SO_CPU_PLUGIN_ARGS[@]}"
    before=$(_so_run_dirs)
    so_show "${SWIFT_CMD[@]}" "$@"   # ends the script here with DRY_RUN
    # a resumed run (so_resume) continues RUN_DIR/logging.jsonl: drop what the interrupted run logged after the
    # checkpoint (those steps are trained again), so that the log holds every step once
    if [[ -n "${SO_RESUME_STEP:-}" ]] && [[ -z "${NODE_RANK:-}" || "$NODE_RANK" == 0 ]]; then
        _so_trim_log "$OUTPUT_DIR/logging.jsonl" "$SO_RESUME_STEP"   # ms-swift writes the log on rank 0 only
    fi
    if ! so_is_true "$ADD_VERSION" && [[ -f "$OUTPUT_DIR/logging.jsonl" ]]; then
        log_offset=$(wc -c <"$OUTPUT_DIR/logging.jsonl")
    fi
    start=$SECONDS
    "${SWIFT_CMD[@]}" "$@"
    so_log "swift sft finished in $((SECONDS - start)) s"
    if [[ -n "${NODE_RANK:-}" && "$NODE_RANK" != 0 ]]; then
        so_log "NODE_RANK=$NODE_RANK: the checkpoints are written on the NODE_RANK=0 machine"
        return 0
    fi
    if so_is_true "$ADD_VERSION"; then
        after=$(_so_run_dirs)
        new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed '/^$/d')
        [[ -n "$new" ]] || so_die "swift sft made no new run directory under $OUTPUT_DIR"
        # Several new ones only if another run wrote into OUTPUT_DIR meanwhile: take the newest.
        mapfile -t new_dirs <<<"$new"
        # shellcheck disable=SC2012  # ms-swift's own vN-<timestamp> names
        run_dir=$(ls -1dt -- "${new_dirs[@]}" | head -n 1)
    else
        run_dir=$OUTPUT_DIR
    fi
    checkpoint=$(_so_last_checkpoint "$run_dir/logging.jsonl" "$log_offset")
    [[ -f "$checkpoint/adapter_config.json" ]] ||
        so_die "the checkpoint recorded in $run_dir/logging.jsonl, $checkpoint, has no adapter_config.json"
    echo "RUN_DIR=$run_dir"
    echo "CHECKPOINT=$checkpoint"
}

# so_resume: RESUME [] of the training recipes, read after OUTPUT_DIR and ADD_VERSION are set:
#   empty / none / false: a new run;
#   auto: the latest complete checkpoint under OUTPUT_DIR (OUTPUT_DIR/checkpoint-N or OUTPUT_DIR/vN-*/checkpoint-N,
#     the one whose trainer_state.json was written last), or a new run when there is none;
#   a checkpoint folder: that one.
# A checkpoint is complete when it holds trainer_state.json, which transformers' Trainer._save_checkpoint writes
# after the weights, optimizer, scheduler and RNG states (a run killed while saving leaves none). Resuming sets
# SO_RESUME_ARGS=(--resume_from_checkpoint CHECKPOINT) and SO_RESUME_STEP (its global_step), and writes into the
# checkpoint's own run folder: OUTPUT_DIR=<that folder>, ADD_VERSION=false (with add_version ms-swift 4.6 would make
# a new vN-<timestamp> folder for the resumed run: SftArguments._add_version). so_sft then trims that folder's
# logging.jsonl to the checkpoint's step before ms-swift appends to it again.
# Several machines (NNODES > 1): every node loads the checkpoint, so OUTPUT_DIR must be on a filesystem they share
# (RESUME=auto on a node that does not see the checkpoints would start a new run there).
# shellcheck disable=SC2034  # SO_RESUME_ARGS is used by the recipes
so_resume() {
    local resume=${RESUME:-} checkpoint
    SO_RESUME_ARGS=()
    SO_RESUME_STEP=
    case "${resume,,}" in "" | none | false) return 0 ;; esac
    if [[ "${resume,,}" == auto ]]; then
        checkpoint=$(_so_latest_checkpoint "$OUTPUT_DIR")
        if [[ -z "$checkpoint" ]]; then
            so_log "RESUME=auto: no complete checkpoint under $OUTPUT_DIR, starting a new run"
            return 0
        fi
    else
        checkpoint=$(so_abspath "${resume%/}")
    fi
    [[ -f "$checkpoint/trainer_state.json" ]] ||
        so_die "RESUME=$resume: $checkpoint has no trainer_state.json (not a complete training checkpoint)"
    SO_RESUME_STEP=$("$(_so_python)" -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["global_step"]))' \
        "$checkpoint/trainer_state.json") || so_die "RESUME: cannot read global_step of $checkpoint/trainer_state.json"
    OUTPUT_DIR=$(dirname -- "$checkpoint")
    ADD_VERSION=false
    SO_RESUME_ARGS=(--resume_from_checkpoint "$checkpoint")
    so_log "RESUME=$resume: resuming from $checkpoint (step $SO_RESUME_STEP), writing into $OUTPUT_DIR"
}

# _so_latest_checkpoint DIR: the complete checkpoint (see so_resume) under DIR or DIR/vN-* whose trainer_state.json
# is the newest, or nothing.
_so_latest_checkpoint() {
    [[ -d "$1" ]] || return 0
    find "$1" -mindepth 2 -maxdepth 3 -path '*/checkpoint-*/trainer_state.json' -type f -printf '%T@ %h\n' |
        awk -v top="$1" '{ dir = substr($0, index($0, " ") + 1); parent = dir; sub("/[^/]*$", "", parent)
                            up = parent; sub("/[^/]*$", "", up); base = substr(parent, length(up) + 2)
                            if (parent == top || (up == top && base ~ /^v[0-9]+-/)) print $1, dir }' |
        sort -k1,1nr | head -n 1 | cut -d' ' -f2-
}

# _so_trim_log LOGGING_JSONL STEP: keep the lines of ms-swift's logging.jsonl up to the first record of a step after
# STEP (its "global_step/max_steps") or the first line that is not complete JSON (a write cut off by the kill); the
# whole file before trimming is kept as LOGGING_JSONL.before-resume. Written atomically (temp file, then mv).
_so_trim_log() {
    local log=$1 step=$2
    [[ -f "$log" ]] || return 0
    "$(_so_python)" - "$log" "$step" <<'PY' || so_die "cannot trim $log for the resumed run"
import json
import os
import shutil
import sys

path, step = sys.argv[1], int(sys.argv[2])
kept, dropped = [], 0
with open(path, "rb") as f:
    lines = f.read().split(b"\n")
for k, raw in enumerate(lines):
    if not raw.strip():
        continue
    try:
        record = json.loads(raw.decode("utf-8"))
        done = int(str(record.get("global_step/max_steps", "0/0")).split("/")[0])
    except (ValueError, AttributeError):
        done = None
    if done is None or done > step or (k == len(lines) - 1):  # the last piece has no newline: cut off
        dropped = sum(1 for r in lines[k:] if r.strip())
        break
    kept.append(raw + b"\n")
if dropped:
    shutil.copyfile(path, path + ".before-resume")
    with open(path + ".tmp", "wb") as f:
        f.writelines(kept)
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + ".tmp", path)
    print(f"[resume] {path}: {len(kept)} records kept, {dropped} logged after step {step} dropped "
          f"(the whole file is in {path}.before-resume)", file=sys.stderr)
PY
}

# _so_last_checkpoint LOGGING_JSONL BYTE_OFFSET: the `best_model_checkpoint`, or when that is null (no evaluation
# ran) the `last_model_checkpoint`, of the last record at or after BYTE_OFFSET of ms-swift's logging.jsonl that has
# one (symlinks such as --create_checkpoint_symlink's `best` / `last` resolved to the checkpoint folder). Exits 2 when
# this run recorded none.
_so_last_checkpoint() {
    local log=$1 offset=$2 checkpoint target
    [[ -f "$log" ]] || so_die "swift sft wrote no $log (ms-swift's record of the run and its checkpoints)"
    checkpoint=$("$(_so_python)" - "$log" "$offset" <<'PY'
import json
import sys

path, offset = sys.argv[1], int(sys.argv[2])
record = None
with open(path, "rb") as f:
    f.seek(offset)
    for line in f:
        try:
            obj = json.loads(line.decode("utf-8"))
        except ValueError:
            continue
        if isinstance(obj, dict) and "last_model_checkpoint" in obj:
            record = obj
if record is None:
    sys.exit(3)
print(record.get("best_model_checkpoint") or record["last_model_checkpoint"] or "")
PY
    ) || so_die "$log has no final record with last_model_checkpoint from this run (did swift sft finish?)"
    [[ -n "$checkpoint" ]] ||
        so_die "swift sft saved no checkpoint (last_model_checkpoint is null in $log): check SAVE_STEPS / MAX_STEPS"
    [[ "$checkpoint" == /* ]] || checkpoint="$PWD/$checkpoint"
    if [[ -L "$checkpoint" ]]; then
        target=$(readlink -- "$checkpoint")
        [[ "$target" == /* ]] || target="$(dirname -- "$checkpoint")/$target"
        checkpoint=$target
    fi
    printf '%s\n' "${checkpoint%/}"
}

# _so_python: a Python interpreter for small helpers: the one next to the ms-swift launcher, else python3.
_so_python() {
    local launcher
    launcher=$(command -v -- "${SWIFT_CMD[0]:-}" 2>/dev/null || true)
    if [[ -n "$launcher" && -x "$(dirname -- "$launcher")/python" ]]; then
        printf '%s\n' "$(dirname -- "$launcher")/python"
    elif command -v python3 >/dev/null 2>&1; then
        printf '%s\n' python3
    else
        so_die "no python3 to read ms-swift's logging.jsonl"
    fi
}

# Run directories (ms-swift's vN-<timestamp>) under $OUTPUT_DIR, sorted.
_so_run_dirs() {
    if [[ -d "$OUTPUT_DIR" ]]; then
        find "$OUTPUT_DIR" -mindepth 1 -maxdepth 1 -type d -name 'v*-*' | sort
    fi
}

# so_merge_settings SFT_SCRIPT [--plugin]: the settings of a merge.sh. ADAPTERS [CHECKPOINT] must be a LoRA
# checkpoint folder (exit 2 otherwise; SFT_SCRIPT names the script whose CHECKPOINT=... line it is) and becomes an
# absolute path; MERGED_DIR []; EXIST_OK [false]; CUSTOM_REGISTER_PATH [] (with --plugin: $SWIFT_OCR_PLUGIN; `none`
# leaves the plugin out, see so_merge).
so_merge_settings() {
    local sft=$1 plugin=${2:-}
    ADAPTERS=${ADAPTERS:-${CHECKPOINT:-}}
    [[ -n "$ADAPTERS" ]] || so_die "set ADAPTERS to a LoRA checkpoint dir (the CHECKPOINT=... line of $sft)"
    [[ -f "$ADAPTERS/adapter_config.json" ]] || so_die "$ADAPTERS: no adapter_config.json, not a LoRA checkpoint"
    ADAPTERS=$(so_abspath "${ADAPTERS%/}")
    MERGED_DIR=${MERGED_DIR:-}
    EXIST_OK=${EXIST_OK:-false}
    if [[ "$plugin" == --plugin ]]; then
        CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-$SWIFT_OCR_PLUGIN}
    else
        CUSTOM_REGISTER_PATH=${CUSTOM_REGISTER_PATH:-}
    fi
}

# so_merge [EXTRA SWIFT ARGS...]: `swift export --adapters $ADAPTERS --merge_lora true` into $MERGED_DIR (default:
# ms-swift's own "$ADAPTERS-merged"), with --exist_ok when EXIST_OK is true and MODEL / MODEL_TYPE / TEMPLATE /
# TORCH_DTYPE when set; then the given args, --custom_register_path $CUSTOM_REGISTER_PATH when set and not `none`,
# and EXTRA. Prints MERGED=... last.
so_merge() {
    local merged start
    if [[ -n "$MERGED_DIR" ]]; then
        merged=$(so_abspath "$MERGED_DIR")
    else
        merged="${ADAPTERS:?}-merged"   # ms-swift's own default for --merge_lora
    fi
    local args=(export --adapters "$ADAPTERS" --merge_lora true --output_dir "$merged")
    so_is_true "$EXIST_OK" && args+=(--exist_ok true)
    [[ -n "${MODEL:-}" ]] && args+=(--model "$MODEL")
    [[ -n "${MODEL_TYPE:-}" ]] && args+=(--model_type "$MODEL_TYPE")
    [[ -n "${TEMPLATE:-}" ]] && args+=(--template "$TEMPLATE")
    [[ -n "${TORCH_DTYPE:-}" ]] && args+=(--torch_dtype "$TORCH_DTYPE")
    args+=("$@")
    if [[ -n "${CUSTOM_REGISTER_PATH:-}" && "${CUSTOM_REGISTER_PATH,,}" != none ]]; then
        args+=(--custom_register_path "$CUSTOM_REGISTER_PATH")
    fi
    args+=("${EXTRA[@]}")
    start=$SECONDS
    so_run "${SWIFT_CMD[@]}" "${args[@]}"
    [[ -f "$merged/config.json" ]] || so_die "swift export did not write $merged/config.json"
    so_log "swift export finished in $((SECONDS - start)) s"
    echo "MERGED=$merged"
}

# so_infer MODEL MODEL_TYPE TEMPLATE [EXTRA SWIFT ARGS...]: `swift infer` over $VAL_DATASET (a list: see so_list)
# into $RESULT_PATH. The model: ADAPTERS (a LoRA checkpoint; MODEL / MODEL_TYPE / TEMPLATE only when set, MERGE_LORA,
# LOAD_DATA_ARGS), else MODEL / MODEL_TYPE / TEMPLATE with the given defaults (the family's base model).
# Generation: MAX_NEW_TOKENS [4096], TEMPERATURE [0], INFER_BACKEND [transformers], MAX_BATCH_SIZE [1],
# TORCH_DTYPE, VAL_DATASET_SAMPLE. An existing RESULT_PATH is an error unless OVERWRITE=true (ms-swift appends);
# it is deleted only after every check passed and the command was printed, and never with DRY_RUN.
# The given args and EXTRA come last. Prints RESULT_PATH=... last.
so_infer() {
    local default_model=$1 default_type=$2 default_template=$3
    shift 3
    local adapters=${ADAPTERS:-} load_data_args=${LOAD_DATA_ARGS:-false} result start val_list=() overwrite=false
    so_launch_vars
    so_list val_list VAL_DATASET
    if ((${#val_list[@]} == 0)) && ! { so_is_true "$load_data_args" && [[ -n "$adapters" ]]; }; then
        so_die "set VAL_DATASET to an ms-swift jsonl (or ADAPTERS=... LOAD_DATA_ARGS=true)"
    fi
    result=$(so_abspath "${RESULT_PATH:-output/infer_result/$(date +%Y%m%d-%H%M%S).jsonl}")
    if [[ -e "$result" || -L "$result" ]]; then
        [[ -d "$result" ]] && so_die "RESULT_PATH=$result is a folder; swift infer needs a .jsonl file path"
        so_is_true "${OVERWRITE:-false}" ||
            so_die "RESULT_PATH=$result exists and swift infer would append to it; set OVERWRITE=true" \
                "or another RESULT_PATH"
        overwrite=true
    fi
    local args=(infer)
    if [[ -n "$adapters" ]]; then
        [[ -f "$adapters/adapter_config.json" ]] ||
            so_die "ADAPTERS=$adapters: no adapter_config.json, not a LoRA checkpoint"
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
    ((${#val_list[@]} > 0)) && args+=(--val_dataset "${val_list[@]}")
    args+=(--result_path "$result"
        --infer_backend "${INFER_BACKEND:-transformers}" --max_batch_size "${MAX_BATCH_SIZE:-1}"
        --max_new_tokens "${MAX_NEW_TOKENS:-4096}" --temperature "${TEMPERATURE:-0}")
    [[ -n "${TORCH_DTYPE:-}" ]] && args+=(--torch_dtype "$TORCH_DTYPE")
    [[ -n "${VAL_DATASET_SAMPLE:-}" ]] && args+=(--val_dataset_sample "$VAL_DATASET_SAMPLE")
    args+=("$@")
    so_cpu_plugin "${args[@]}" "${EXTRA[@]}"
    args+=("${SO_CPU_PLUGIN_ARGS[@]}" "${EXTRA[@]}")
    start=$SECONDS
    so_show "${SWIFT_CMD[@]}" "${args[@]}"   # ends the script here with DRY_RUN
    if [[ "$overwrite" == true ]]; then
        so_log "OVERWRITE=true: deleting $result"
        rm -f -- "$result"
    fi
    "${SWIFT_CMD[@]}" "${args[@]}"
    [[ -s "$result" ]] || so_die "swift infer wrote no results to $result"
    so_log "swift infer finished in $((SECONDS - start)) s ($(wc -l <"$result") rows)"
    echo "RESULT_PATH=$result"
}

# so_serve MODEL MODEL_TYPE TEMPLATE [EXTRA SWIFT ARGS...]: `swift deploy` (ms-swift's OpenAI-compatible server:
# /v1/chat/completions, /v1/models) of MERGED/MODEL or base + ADAPTERS, in the foreground; prints URL=... and MODEL=...
# on stdout once the server lists the model at /v1/models, then waits for it (stop it with Ctrl-C / SIGTERM, which is
# passed on to it). The model: ADAPTERS (one LoRA checkpoint; MODEL / MODEL_TYPE / TEMPLATE only when set), else
# MODEL / MODEL_TYPE / TEMPLATE with the given defaults. Settings: HOST [127.0.0.1] PORT [8000] (must be free:
# ms-swift would silently move to the next free port), INFER_BACKEND [transformers] (vllm sglang lmdeploy),
# SERVED_MODEL_NAME [basename of ADAPTERS or MODEL], MAX_NEW_TOKENS [4096] and TEMPERATURE [0] (the server's defaults
# for requests that do not set them), TORCH_DTYPE, MAX_BATCH_SIZE, READY_TIMEOUT [900] seconds. The given args and
# EXTRA come last.
so_serve() {
    local default_model=$1 default_type=$2 default_template=$3
    shift 3
    local adapters=${ADAPTERS:-} host=${HOST:-127.0.0.1} port=${PORT:-8000} backend=${INFER_BACKEND:-transformers}
    local name url pid waited=0 ready_timeout=${READY_TIMEOUT:-900} py
    so_launch_vars
    if ! [[ "$port" =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then so_die "PORT must be 1..65535, got '$port'"; fi
    so_posint READY_TIMEOUT "$ready_timeout"
    case "$backend" in
        transformers | vllm | sglang | lmdeploy) ;;
        *) so_die "INFER_BACKEND must be transformers, vllm, sglang or lmdeploy, got '$backend'" ;;
    esac
    local args=(deploy)
    if [[ -n "$adapters" ]]; then
        [[ -f "$adapters/adapter_config.json" ]] ||
            so_die "ADAPTERS=$adapters: no adapter_config.json, not a LoRA checkpoint"
        adapters=$(so_abspath "${adapters%/}")
        args+=(--adapters "$adapters")
        [[ -n "${MODEL:-}" ]] && args+=(--model "$MODEL")
        [[ -n "${MODEL_TYPE:-}" ]] && args+=(--model_type "$MODEL_TYPE")
        [[ -n "${TEMPLATE:-}" ]] && args+=(--template "$TEMPLATE")
        name=${SERVED_MODEL_NAME:-$(basename -- "$adapters")}
    else
        args+=(--model "${MODEL:-$default_model}" --model_type "${MODEL_TYPE:-$default_type}"
            --template "${TEMPLATE:-$default_template}")
        name=${SERVED_MODEL_NAME:-$(basename -- "${MODEL:-$default_model}")}
    fi
    args+=(--served_model_name "$name" --host "$host" --port "$port" --infer_backend "$backend"
        --max_new_tokens "${MAX_NEW_TOKENS:-4096}" --temperature "${TEMPERATURE:-0}")
    [[ -n "${TORCH_DTYPE:-}" ]] && args+=(--torch_dtype "$TORCH_DTYPE")
    [[ -n "${MAX_BATCH_SIZE:-}" ]] && args+=(--max_batch_size "$MAX_BATCH_SIZE")
    args+=("$@" "${EXTRA[@]}")
    case "$host" in 0.0.0.0 | "::" | "") url="http://127.0.0.1:$port/v1" ;; *:*) url="http://[$host]:$port/v1" ;;
        *) url="http://$host:$port/v1" ;; esac
    so_show "${SWIFT_CMD[@]}" "${args[@]}"   # ends the script here with DRY_RUN
    py=$(_so_python)
    "$py" -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$port" ||
        so_die "PORT=$port is in use (ms-swift would silently serve on another port): choose a free PORT"
    "${SWIFT_CMD[@]}" "${args[@]}" &
    pid=$!
    trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT HUP
    so_log "waiting for $url/models to list '$name' (READY_TIMEOUT=$ready_timeout s)"
    until "$py" - "$url/models" "$name" <<'PY' 2>/dev/null
import json
import sys
import urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the local server, never through a proxy
with opener.open(sys.argv[1], timeout=5) as resp:
    ids = [m.get("id") for m in json.load(resp).get("data", [])]
sys.exit(0 if sys.argv[2] in ids else 1)
PY
    do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; so_die "swift deploy exited before it was ready"; }
        if ((waited >= ready_timeout)); then
            kill -TERM "$pid" 2>/dev/null || true
            so_die "swift deploy not ready after $ready_timeout s"
        fi
        sleep 2
        waited=$((waited + 2))
    done
    so_log "ready: score it with: swift-ocr eval rec --api $url --model $name --dataset VAL.jsonl"
    echo "URL=$url"
    echo "MODEL=$name"
    local status=0
    wait "$pid" || status=$?
    # a trapped signal interrupts `wait`: wait for the server to finish shutting down
    while kill -0 "$pid" 2>/dev/null; do wait "$pid" || status=$?; done
    return "$status"
}

# so_model_kwargs NAME=DEFAULT...: a family's image-resolution settings, which ms-swift's templates and processors read
# from the environment (Qwen2.5-VL: MAX_PIXELS / MIN_PIXELS, swift/model/models/qwen.py compat_qwen_vl_utils;
# DeepSeek-OCR: BASE_SIZE / IMAGE_SIZE / CROP_MODE, swift/template/templates/deepseek.py DeepseekOCR.init_env_args),
# passed as one `--model_kwargs JSON`: ms-swift sets each key as an environment variable in every process
# (BaseArguments._init_model_kwargs), `swift sft` records them in args.json of the run folder and of every checkpoint
# (SwiftMixin._save_checkpoint copies it), and `swift export --merge_lora` copies that args.json into the merged model
# (swift/model/utils.py save_checkpoint). Each NAME (an upper-case variable of the recipe) is, in order:
#   * $NAME when set: an explicit choice (a warning when it differs from the recorded value);
#   * the value recorded in the model_kwargs of args.json of ADAPTERS (a LoRA checkpoint) or, without ADAPTERS, of
#     MODEL when it is a local folder (the MERGED=... of merge.sh): so merge.sh and infer.sh reuse what training used;
#   * DEFAULT.
# Values: letters, digits and . _ + - only (exit 2 otherwise). Sets each NAME and SO_MODEL_KWARGS_ARGS=(--model_kwargs
# '{"NAME": "VALUE", ...}'); SO_MODEL_KWARGS_FROM is the args.json read (empty when none). Call after so_resolve_swift.
# shellcheck disable=SC2034  # SO_MODEL_KWARGS_ARGS / SO_MODEL_KWARGS_FROM are used by the recipes
so_model_kwargs() {
    local spec name default value key lines json="" sep=""
    local -A recorded=()
    SO_MODEL_KWARGS_FROM=
    if [[ -n "${ADAPTERS:-}" ]]; then
        [[ -f "$ADAPTERS/args.json" ]] && SO_MODEL_KWARGS_FROM=$ADAPTERS/args.json
    elif [[ -n "${MODEL:-}" && -f "$MODEL/args.json" ]]; then
        SO_MODEL_KWARGS_FROM=$MODEL/args.json
    fi
    if [[ -n "$SO_MODEL_KWARGS_FROM" ]]; then
        lines=$("$(_so_python)" - "$SO_MODEL_KWARGS_FROM" <<'PY'
import json
import sys

kwargs = json.load(open(sys.argv[1], encoding="utf-8")).get("model_kwargs") or {}
if isinstance(kwargs, str):
    kwargs = json.loads(kwargs)
for key, value in kwargs.items():
    print(f"{key.upper()}={str(value).lower() if isinstance(value, bool) else value}")
PY
        ) || so_die "cannot read the model_kwargs of $SO_MODEL_KWARGS_FROM"
        while IFS='=' read -r key value; do
            [[ -n "$key" ]] && recorded[$key]=$value
        done <<<"$lines"
    fi
    for spec in "$@"; do
        name=${spec%%=*}
        default=${spec#*=}
        if [[ -n "${!name:-}" ]]; then
            value=${!name}
            if [[ -n "${recorded[$name]:-}" && "${recorded[$name],,}" != "${value,,}" ]]; then
                so_log "warning: $name=$value differs from $name=${recorded[$name]} recorded in $SO_MODEL_KWARGS_FROM" \
                    "(the model was trained with that one)"
            fi
        elif [[ -n "${recorded[$name]:-}" ]]; then
            value=${recorded[$name]}
            so_log "$name=$value, as recorded in $SO_MODEL_KWARGS_FROM"
        else
            value=$default
        fi
        [[ "$value" =~ ^[A-Za-z0-9_.+-]+$ ]] || so_die "$name must be a plain value (letters, digits, . _ + -), got '$value'"
        printf -v "$name" '%s' "$value"
        json+="$sep\"$name\": \"$value\""
        sep=", "
    done
    SO_MODEL_KWARGS_ARGS=(--model_kwargs "{$json}")
    return 0
}

# so_vllm_args: with INFER_BACKEND=vllm, set the array SO_VLLM_ARGS to ms-swift's vLLM engine settings (VllmArguments,
# swift/rlhf_trainers/args_mixin.py) that matter for batch OCR, each one an environment variable [default]:
#   VLLM_GPU_MEMORY_UTILIZATION [0.9]  share of GPU memory vLLM takes (weights + KV cache)
#   VLLM_MAX_MODEL_LEN [8192]          tokens of prompt (image tokens included) + answer per sequence; also what the KV
#                                      cache is sized for (the model's own maximum, often 32k-128k, wastes memory)
#   VLLM_LIMIT_MM_PER_PROMPT [{"image": 1}]  images per prompt vLLM reserves memory for (one page per row here)
#   VLLM_MAX_NUM_SEQS [256]            sequences decoded together (lower it when pages have many image tokens)
#   VLLM_TENSOR_PARALLEL_SIZE [1]      GPUs per model replica (data parallel over GPUs: NPROC_PER_NODE)
# and to nothing for the other backends. With ADAPTERS, MERGE_LORA defaults to true under vLLM (the adapter is merged
# into a full model first; vLLM's own LoRA path does not cover every multimodal architecture).
# shellcheck disable=SC2034  # SO_VLLM_ARGS is used by the recipes
so_vllm_args() {
    SO_VLLM_ARGS=()
    [[ "${INFER_BACKEND:-transformers}" == vllm ]] || return 0
    VLLM_MAX_MODEL_LEN=${VLLM_MAX_MODEL_LEN:-8192}
    VLLM_MAX_NUM_SEQS=${VLLM_MAX_NUM_SEQS:-256}
    VLLM_TENSOR_PARALLEL_SIZE=${VLLM_TENSOR_PARALLEL_SIZE:-1}
    so_posint VLLM_MAX_MODEL_LEN "$VLLM_MAX_MODEL_LEN"
    so_posint VLLM_MAX_NUM_SEQS "$VLLM_MAX_NUM_SEQS"
    so_posint VLLM_TENSOR_PARALLEL_SIZE "$VLLM_TENSOR_PARALLEL_SIZE"
    SO_VLLM_ARGS=(--vllm_gpu_memory_utilization "${VLLM_GPU_MEMORY_UTILIZATION:-0.9}"
        --vllm_max_model_len "$VLLM_MAX_MODEL_LEN"
        --vllm_limit_mm_per_prompt "${VLLM_LIMIT_MM_PER_PROMPT:-{\"image\": 1\}}"
        --vllm_max_num_seqs "$VLLM_MAX_NUM_SEQS"
        --vllm_tensor_parallel_size "$VLLM_TENSOR_PARALLEL_SIZE")
    if [[ -n "${ADAPTERS:-}" && -z "${MERGE_LORA:-}" ]]; then
        MERGE_LORA=true
        so_log "INFER_BACKEND=vllm with ADAPTERS: MERGE_LORA=true (set MERGE_LORA=false for vLLM's LoRA path)"
    fi
    return 0
}
