"""``swift-ocr validate``: check ms-swift jsonl training data before any GPU time is spent.

The checks, problem kinds and path rules are documented in :mod:`swift_ocr.validate`; token counting in
:mod:`swift_ocr.validate.token_budget`.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List

EPILOG = """\
problem kinds (E = error, W = warning; --strict makes warnings errors):
{kinds}

tokens: with --model DIR (recommended) the length of every row is what ms-swift's template encoding of that
model gives (max(len(input_ids), len(labels)), compared with swift sft --max_length); without it, a rough
estimate: image tokens by each family's arithmetic (GOT 256 per image, InternVL 256 per 448 tile, Qwen2-VL
from the smart-resized grid, DeepSeek-OCR Gundam mode), text tokens by a heuristic over the chat markup of
--template (default per family; it also gives the default system prompt). Measured error of the estimate
(swift_ocr.validate.token_budget.ESTIMATE_ERROR): rows {q_row}, text {q_text} against the real Qwen2 tokenizer;
rows {t_row} against the tiny test models; InternLM2 (InternVL2) and DeepSeek-OCR tokenizers not measured.
--system is resolved as swift sft resolves it (a .txt path is read, a literal \\n becomes a newline).
relative image paths resolve against the current directory (then $ROOT_IMAGE_DIR), as in ms-swift:
run validate where swift sft will run.
exit status: 0 no errors, 1 errors found, 2 the command could not run (unreadable file, bad --model).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from swift_ocr.families import family_names

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG.format(kinds=_kinds_text(), **_error_text())
    parser.add_argument("data", nargs="+", metavar="DATA.jsonl",
                        help="ms-swift jsonl file(s); duplicates are also found across files (train vs val)")
    parser.add_argument("--model-family", required=True, choices=family_names(),
                        help="model family: box codec, chat template and image-token arithmetic")
    parser.add_argument("--max-length", type=int, metavar="N",
                        help="token limit (swift sft --max_length); rows above it are errors (too_long)")
    parser.add_argument("--model", metavar="DIR",
                        help="local model folder: count tokens exactly with ms-swift's template and this "
                             "model's tokenizer (slower; nothing is downloaded)")
    parser.add_argument("--model-type", help="ms-swift --model_type for --model (default per family)")
    parser.add_argument("--template", help="ms-swift --template (default per family): with --model it encodes the "
                                           "rows; without, its chat markup and default system prompt shape the "
                                           "estimate")
    parser.add_argument("--system", help="system prompt as given to swift sft --system, resolved by ms-swift's own "
                                         "code: a path ending in .txt is read, a literal \\n becomes a newline "
                                         "(default: the template's)")
    parser.add_argument("--task", choices=("auto", "rec", "det"), default="auto",
                        help="box checks: det = every target is a detection target, rec = none, auto (default) "
                             "= targets in which the family's codec finds a box")
    parser.add_argument("--no-decode", action="store_true",
                        help="read image headers only (faster; truncated or corrupt pixel data is not found)")
    parser.add_argument("--max-pixels", type=int, metavar="N",
                        help="image_too_large above N pixels (default: Pillow's MAX_IMAGE_PIXELS, 89478485)")
    parser.add_argument("--min-side", type=int, default=8, metavar="PX",
                        help="image_too_small when a side is shorter (default 8)")
    parser.add_argument("--max-aspect", type=float, default=200.0, metavar="R",
                        help="extreme_aspect_ratio above this long/short side ratio (default 200, Qwen2-VL's limit)")
    parser.add_argument("--root-image-dir", metavar="DIR",
                        help="ms-swift's ROOT_IMAGE_DIR (default: the environment variable)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (shown on a terminal only: rows, rows per second, problems so far)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object {files, rows, errors, warnings, problems: {kind: count}, "
                             "tokens: {...}, ok} instead of the table")
    parser.add_argument("--report", metavar="FILE.jsonl",
                        help="write every problem as one JSON line {kind, severity, source, line, message} "
                             "(written atomically)")
    parser.add_argument("--lengths", metavar="FILE.jsonl",
                        help="write the token count of every counted row as one JSON line {source, line, tokens, "
                             "image_tokens, text_tokens, exact} (written atomically)")
    parser.add_argument("--show", type=int, default=5, metavar="K",
                        help="problems shown per kind under the table (default 5)")


def _error_text() -> dict:
    from swift_ocr.validate.token_budget import ESTIMATE_ERROR

    def pct(bounds) -> str:
        return f"{bounds[0] * 100:+.0f} % to {bounds[1] * 100:+.0f} %"

    q, t = ESTIMATE_ERROR["qwen2_vocab"], ESTIMATE_ERROR["tiny_models"]
    return {"q_row": pct(q["row"]), "q_text": pct(q["text"]), "t_row": pct(t["row"])}


def _kinds_text() -> str:
    from swift_ocr.validate import PROBLEM_KINDS

    return "\n".join(f"  {kind:<22}{'E' if sev == 'error' else 'W'}  {meaning}"
                     for kind, (sev, meaning) in PROBLEM_KINDS.items())


def format_report(report, family: str, show: int) -> str:
    """The human-readable summary: counts, per-kind table, token lengths, then the first problems per kind."""
    from swift_ocr.validate import PROBLEM_KINDS

    t = report.tokens.to_dict()
    out: List[str] = [f"swift-ocr validate: {', '.join(report.files)}  (model family {family})", ""]
    out.append(f"{'rows checked':<28}{report.rows:>8}")
    out.append(f"{'errors':<28}{report.errors:>8}")
    out.append(f"{'warnings':<28}{report.warnings:>8}")
    counts = report.counts()
    if counts:
        out.append("")
        out.append(f"{'problem':<28}{'count':>8}  severity")
        for kind, n in counts.items():
            severities = {p.severity for p in report.by_kind(kind)}
            out.append(f"  {kind:<26}{n:>8}  {'/'.join(sorted(severities)) or PROBLEM_KINDS[kind][0]}")
    out.append("")
    mode = "exact (ms-swift template)" if t["mode"] == "exact" else "estimated"
    if t["counted"]:
        out.append(f"tokens, {mode}: {t['counted']} rows  min {t['min']}  median {t['median']:g}  max {t['max']}"
                   f"  (image tokens {t['image_min']}-{t['image_max']} per row)")
    else:
        out.append(f"tokens, {mode}: no row could be counted")
    if t["mode"] != "exact":
        from swift_ocr.validate.token_budget import estimate_note

        out.append(f"  ({estimate_note()})")
    if t["max_length"] is not None:
        out.append(f"over --max-length {t['max_length']}: {t['over']}")
    if counts and show > 0:
        out.append("")
        out.append(f"first problems per kind (up to {show}):")
        for kind in counts:
            problems = report.by_kind(kind)
            out.append(f"  {kind} ({len(problems)}):")
            for p in problems[:show]:
                out.append(f"    {p.where()}: {p.message}")
    out.append("")
    out.append(("OK" if report.ok else "FAILED") + f": {report.errors} error(s), {report.warnings} warning(s)")
    return "\n".join(out)


def _write_report(path: str, problems) -> None:
    from swift_ocr.io_utils import atomic_write, dumps_line

    with atomic_write(path) as fh:
        for p in problems:
            fh.write(dumps_line(p.to_dict()))


def _write_lengths(path: str, row_tokens) -> None:
    from swift_ocr.io_utils import atomic_write, dumps_line

    with atomic_write(path) as fh:
        for source, line, count in row_tokens:
            fh.write(dumps_line({"source": source, "line": line, "tokens": count.total, "image_tokens": count.image,
                                 "text_tokens": count.text, "exact": count.exact}))


def run(args: argparse.Namespace) -> int:
    from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS
    from swift_ocr.validate.token_budget import resolve_system
    from swift_ocr.progress import progress_wanted
    from swift_ocr.validate import ValidateOptions, validate_files

    prog = "swift-ocr validate"
    try:
        # --system as swift sft resolves it (ms-swift's TemplateArguments): a .txt path is read, a literal \n
        # becomes a newline
        system = resolve_system(args.system)
        options = ValidateOptions(
            family=args.model_family, max_length=args.max_length, task=args.task, decode=not args.no_decode,
            max_pixels=args.max_pixels or DEFAULT_MAX_IMAGE_PIXELS, min_side=args.min_side,
            max_aspect=args.max_aspect, strict=args.strict, root_image_dir=args.root_image_dir, system=system,
            template=args.template)
        if args.template and not args.model:  # the estimate's chat markup and system prompt (refused early)
            from swift_ocr.validate.token_budget import scaffold_for
            scaffold_for(args.model_family, args.template)
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    counter = None
    if args.model:
        try:
            from swift_ocr.validate.token_budget import SwiftTokenCounter
            counter = SwiftTokenCounter(args.model, args.model_family, model_type=args.model_type,
                                        template=args.template, system=system)
        except Exception as e:  # ms-swift/transformers raise many types for a folder they cannot load
            print(f"{prog}: error: cannot build ms-swift's template from --model {args.model}: "
                  f"{type(e).__name__}: {e}", file=sys.stderr)
            return 2
    elif args.model_type:
        print(f"{prog}: error: --model-type needs --model (estimates use --template's markup, or the family's)",
              file=sys.stderr)
        return 2
    try:
        report = validate_files(args.data, options, counter, progress=progress_wanted(args.quiet))
    except (OSError, UnicodeDecodeError) as e:
        print(f"{prog}: error: cannot read input: {e}", file=sys.stderr)
        return 2
    for path, write, payload in ((args.report, _write_report, report.problems),
                                 (args.lengths, _write_lengths, report.row_tokens)):
        if path:
            try:
                write(path, payload)
            except OSError as e:
                print(f"{prog}: error: cannot write {path}: {e}", file=sys.stderr)
                return 2
    if args.json:
        summary = report.to_dict()
        if summary["tokens"].get("mode") != "exact":
            from swift_ocr.validate.token_budget import ESTIMATE_ERROR

            summary["tokens"]["estimate_error"] = {k: {kk: list(vv) for kk, vv in v.items()}
                                                   for k, v in ESTIMATE_ERROR.items()}
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(format_report(report, args.model_family, args.show))
    return 0 if report.ok else 1
