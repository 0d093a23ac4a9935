"""The ``--api`` options shared by ``swift-ocr eval rec`` and ``eval det``: query an OpenAI-compatible server over a
dataset (:mod:`swift_ocr.eval.api_infer`), then score the result file it wrote exactly as a ``swift infer`` one."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional

API_EPILOG = """\
--api (score a served model): every row of --dataset (ms-swift jsonl, e.g. from `swift-ocr convert`) is sent to
  the server's /chat/completions with its image(s) as base64 data URLs, the answers are appended to --output row by
  row (the same row format as `swift infer --result_path`, plus a 'swift_ocr_api' record: index, status, error,
  attempts, model, temperature, max_tokens), then --output is scored. Rerunning the same command resumes: only rows
  not yet answered are sent (a run cut off at any point loses no answered row and duplicates none). Requests that
  still fail after --retries are written as failed rows (empty response, scored as such, reason in the record),
  counted on stderr and in --json under 'api', and sent again by the next rerun.
  exit status with --api: 1 when some rows failed (the scores are still printed), 2 on an error before scoring.
"""


def add_api_arguments(parser: argparse.ArgumentParser) -> None:
    """``--api URL [--model NAME] [--api-key-env VAR] --dataset VAL.jsonl [--output RESULT.jsonl] ...``."""
    group = parser.add_argument_group("scoring a served model (instead of --results)")
    group.add_argument("--api", metavar="URL",
                       help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (swift deploy, vllm serve); "
                            "/v1 is added to a URL without a path")
    group.add_argument("--model", metavar="NAME",
                       help="served model name (default: the only model the server lists at /v1/models)")
    group.add_argument("--api-key-env", metavar="VAR",
                       help="environment variable holding the API key (sent as a Bearer token; default: none)")
    group.add_argument("--dataset", nargs="+", metavar="VAL.jsonl",
                       help="ms-swift jsonl row file(s) to send (the assistant answer of each row is the reference)")
    group.add_argument("--output", metavar="RESULT.jsonl",
                       help="result file, appended row by row and resumed by a rerun "
                            "(default: api_results/<dataset stem>.<model>.jsonl)")
    group.add_argument("--concurrency", type=int, default=4, metavar="N", help="requests in flight (default 4)")
    group.add_argument("--temperature", type=float, default=0.0,
                       help="sampling temperature (default 0: greedy, as recipes/*/infer.sh)")
    group.add_argument("--max-tokens", type=int, default=4096, metavar="N",
                       help="most tokens generated per row (default 4096, as recipes/*/infer.sh MAX_NEW_TOKENS)")
    group.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                       help="per-request timeout (default 300)")
    group.add_argument("--retries", type=int, default=5, metavar="N",
                       help="retries of a request after HTTP 408/409/429/5xx, a timeout or a connection error, "
                            "with exponential backoff (default 5)")
    group.add_argument("--retry-wait", type=float, default=1.0, metavar="SECONDS",
                       help="wait before the first retry, doubled each time up to 60 s (default 1)")
    group.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def check_source(parser_prog: str, args: argparse.Namespace) -> Optional[str]:
    """An error message when neither or both of --results / --api are given, or --api lacks --dataset."""
    if bool(args.results) == bool(args.api):
        return f"{parser_prog}: error: give either --results RESULT.jsonl or --api URL --dataset VAL.jsonl"
    if args.api and not args.dataset:
        return f"{parser_prog}: error: --api needs --dataset VAL.jsonl"
    if args.api:
        for name in ("concurrency", "max_tokens", "retries"):
            if getattr(args, name) < (0 if name == "retries" else 1):
                return f"{parser_prog}: error: --{name.replace('_', '-')} must be at least " \
                       f"{0 if name == 'retries' else 1}"
        if args.timeout <= 0 or args.retry_wait < 0:
            return f"{parser_prog}: error: --timeout must be positive and --retry-wait not negative"
    return None


def run_api(args: argparse.Namespace, prog: str):
    """Query the server for ``args`` and set ``args.results`` to the result file. Returns the
    :class:`~swift_ocr.eval.api_infer.ApiSummary`, or an int exit status (2) after printing an error."""
    from swift_ocr.eval.api_infer import (ApiError, ApiSettings, default_output, list_models, load_dataset_rows,
                             normalize_base_url, run_api_inference)
    from swift_ocr.errors import OcrFormatError
    from swift_ocr.eval.results import print_report

    try:
        base_url = normalize_base_url(args.api)
        api_key = "EMPTY"
        if args.api_key_env:
            api_key = os.environ.get(args.api_key_env, "")
            if not api_key:
                raise ApiError(f"--api-key-env {args.api_key_env}: that environment variable is unset or empty")
        dataset = load_dataset_rows(args.dataset)
        if not dataset:
            raise ApiError(f"{' '.join(args.dataset)}: no rows to send")
        model = args.model
        if not model:
            models = list_models(base_url, api_key, timeout=min(args.timeout, 60.0))
            if len(models) != 1:
                raise ApiError(f"{base_url} serves {len(models)} models {models}: choose one with --model")
            model = models[0]
        settings = ApiSettings(base_url=base_url, model=model, api_key=api_key, temperature=args.temperature,
                               max_tokens=args.max_tokens, concurrency=args.concurrency, timeout=args.timeout,
                               retries=args.retries, retry_wait=args.retry_wait)
        output = args.output or default_output(args.dataset[0], model)
        print_report(f"{prog}: sending {len(dataset)} rows to {base_url} (model {model}, temperature "
                     f"{settings.temperature}, max_tokens {settings.max_tokens}) -> {output}", sys.stderr)
        summary = run_api_inference(dataset, output, settings, progress=not args.no_progress)
    except (ApiError, OcrFormatError, OSError, ValueError) as exc:
        print_report(f"{prog}: error: {exc}", sys.stderr)
        return 2
    msg = (f"{prog}: {summary.rows} rows: {summary.kept} already answered in {output}, {summary.sent} sent "
           f"in {summary.seconds:.1f} s; {summary.answered} answered, {summary.failed} failed")
    if summary.torn_line:
        msg += " (a torn last line of an interrupted run was dropped and its row sent again)"
    print_report(msg, sys.stderr)
    if summary.failed:
        shown = list(summary.errors.items())[:5]
        print_report(f"{prog}: failed rows (empty responses, scored as such; rerun the same command to retry "
                     f"them): " + "; ".join(f"row {i}: {e}" for i, e in shown)
                     + (" ..." if summary.failed > len(shown) else ""), sys.stderr)
    args.results = output
    args.api_settings = {"api": base_url, "model": model, "temperature": settings.temperature,
                         "max_tokens": settings.max_tokens}
    return summary


def api_report(summary, args) -> dict:
    """The ``api`` object added to ``--json`` output: settings and row counts of the run."""
    return {**args.api_settings, **summary.to_dict()}
