"""Run the performance benchmarks of issue 5 and print one line per target: measured ratio, target, PASS/FAIL.

    python -m benchmarks.run                 # every target at the issue's sizes (tens of minutes on 2 CPUs)
    python -m benchmarks.run --quick         # smoke run at small sizes (a few minutes; ratios not meaningful)
    python -m benchmarks.run --only rec det  # some targets
    python -m benchmarks.run --json out.json # also write the results as JSON

Every benchmark generates its own seeded synthetic data under ``--workdir`` (default ``output/bench``, reused by
later runs) and measures ours and its baseline one after the other on this machine; see the module of each
target for what is compared: :mod:`benchmarks.rec_metric`, :mod:`benchmarks.det_metric`,
:mod:`benchmarks.conversion`, :mod:`benchmarks.parquet_stream`, :mod:`benchmarks.train_path`.
Exit status: 0 when every measured target passes, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"

from benchmarks.common import REPO_ROOT, Result, precompile_package  # noqa: E402

TARGETS = ("rec", "det", "convert", "parquet", "train")

FULL = dict(rec_pairs=100_000, det_images=1000, det_boxes=50, convert_small=10_000, convert_large=1_000_000,
            parquet_small_rows=1000, parquet_large_rows=24_000, train_images=24)
QUICK = dict(rec_pairs=5_000, det_images=100, det_boxes=50, convert_small=1_000, convert_large=20_000,
             parquet_small_rows=200, parquet_large_rows=2_000, train_images=4)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    p.add_argument("--only", nargs="+", choices=TARGETS, help="run only these targets")
    p.add_argument("--workdir", default=os.path.join(REPO_ROOT, "output", "bench"),
                   help="where synthetic data and outputs go (default output/bench; reused between runs)")
    p.add_argument("--json", metavar="OUT.json", help="also write every result as JSON")
    sizes = p.add_argument_group("sizes (defaults: the issue's; --quick: small)")
    for key in FULL:
        sizes.add_argument("--" + key.replace("_", "-"), type=int, default=None, dest=key,
                       help=f"default {FULL[key]:,} (--quick: {QUICK[key]:,})")
    return p


def _target_results(target: str, workdir: str, sizes: dict, log):
    """The results of one target, yielded as they are measured."""
    if target == "rec":
        from benchmarks import rec_metric
        yield rec_metric.run(workdir, sizes["rec_pairs"], log=log)
    elif target == "det":
        from benchmarks import det_metric
        yield from det_metric.run(sizes["det_images"], sizes["det_boxes"], log=log)
    elif target == "convert":
        from benchmarks import conversion
        yield from conversion.run(workdir, sizes["convert_small"], sizes["convert_large"], log=log)
    elif target == "parquet":
        from benchmarks import parquet_stream
        yield from parquet_stream.run(workdir, sizes["parquet_small_rows"], sizes["parquet_large_rows"], log=log)
    else:
        from benchmarks import train_path
        yield from train_path.run(workdir, sizes["train_images"], log=log)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sizes = dict(QUICK if args.quick else FULL)
    sizes.update({k: getattr(args, k) for k in FULL if getattr(args, k) is not None})
    targets = args.only or TARGETS
    os.makedirs(args.workdir, exist_ok=True)
    workdir = os.path.abspath(args.workdir)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    log(f"swift-ocr benchmarks ({'quick' if args.quick else 'full'}): {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; data in {workdir}")
    precompile_package()
    results = []
    started = time.perf_counter()
    for target in targets:
        log(f"== {target}")
        t0 = time.perf_counter()
        new = []
        try:
            for r in _target_results(target, workdir, sizes, log):
                log("   " + r.line())
                new.append(r)
        except Exception as exc:  # one broken benchmark must not hide the others' lines
            r = Result(target, None, "-", False, f"benchmark failed: {type(exc).__name__}: {exc}"[-600:])
            log("   " + r.line())
            new.append(r)
        log(f"   ({time.perf_counter() - t0:.0f} s)")
        results.extend(new)

    print(f"\nswift-ocr benchmarks, {'quick' if args.quick else 'full'} sizes, {os.cpu_count()} CPUs "
          f"({time.perf_counter() - started:.0f} s):")
    for r in results:
        print(r.line())
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"sizes": sizes, "quick": args.quick, "cpus": os.cpu_count(),
                       "results": [r.to_dict() for r in results]}, fh, indent=1, default=str)
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
