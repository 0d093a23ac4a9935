"""Targets for ``swift-ocr convert`` (ICDAR quads and word-box JSON -> ms-swift jsonl, ``rec`` and ``det`` tasks):

* **memory flat**: peak RSS converting 1,000,000 label records within 1.2x of converting 10,000;
* **speed**: wall time within 2x of the *floor* -- the time to merely read and parse the same label files in a
  plain Python loop (read bytes, decode, split lines and fields, ``float()`` the coordinates / ``json.loads``);
* **image sizes from headers**: the conversion (``--check-images header``) decodes no image (Pillow's
  ``ImageFile.load`` is counted in the child process and must stay 0);
* **--workers N scales**: wall time with ``--workers 2`` vs 1 (only when ``swift-ocr convert`` has the option).

Records: ICDAR = one labelled line (10 per label file, so 1,000,000 records = 100,000 label files + images);
word-box = one character box (40 per file, so 1,000,000 records = 25,000 files). Each conversion runs in a fresh
child process (``python -c`` running ``swift_ocr.cli.main.main``) that reports its own ``VmHWM`` (peak RSS)
and its wall time from before importing swift_ocr to the end; the floor runs in this process. Images are
hard links to a few real JPEGs (see :mod:`benchmarks.synth`), so every read is from the page cache for both.
"""
from __future__ import annotations

import json
import os
import shutil

from .common import COUNT_DECODES, REPO_ROOT, Result, at_least, at_most, info, mib, run_python_child, timed
from .synth import write_icdar_dataset, write_wordbox_dataset

MEMORY_TARGET = 1.2
SPEED_TARGET = 2.0
WORKERS_TARGET = 1.5

PER_FILE = {"icdar": 10, "wordbox": 40}

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
""" + COUNT_DECODES + r"""from swift_ocr.cli.main import main
from benchmarks.common import vm_hwm_kib
rc = main(json.loads(sys.argv[1]))
wall = time.perf_counter() - t0
print("@@BENCH@@" + json.dumps({"rc": rc, "wall_s": wall, "peak_rss_kib": vm_hwm_kib(), "decoded": decoded[0]}))
"""


def floor_icdar(root: str) -> int:
    """Read and parse every ICDAR label file of ``root/gts`` in a plain loop; returns the number of records."""
    gts = os.path.join(root, "gts")
    n = 0
    for name in sorted(os.listdir(gts)):
        with open(os.path.join(gts, name), "rb") as fh:
            text = fh.read().decode("utf-8-sig")
        for line in text.splitlines():
            if line.strip():
                parts = line.split(",", 8)
                coords = [float(v) for v in parts[:8]]
                n += len(coords) == 8
    return n


def floor_wordbox(root: str) -> int:
    """Read and ``json.loads`` every word-box label file of ``root/labels``; returns the number of records."""
    labels = os.path.join(root, "labels")
    n = 0
    for name in sorted(os.listdir(labels)):
        with open(os.path.join(labels, name), "rb") as fh:
            n += len(json.loads(fh.read()))
    return n


FLOORS = {"icdar": floor_icdar, "wordbox": floor_wordbox}


def dataset(workdir: str, fmt: str, records: int) -> str:
    n_files = max(1, records // PER_FILE[fmt])
    root = os.path.join(workdir, f"{fmt}_{records}")
    if fmt == "icdar":
        return write_icdar_dataset(root, n_files, PER_FILE[fmt])
    return write_wordbox_dataset(root, n_files, PER_FILE[fmt])


def convert_child(root: str, fmt: str, task: str, out: str, workers: int = 0) -> dict:
    argv = ["convert", "--format", fmt, "--input", root, "--task", task,
            "--model-family", "internvl" if task == "det" else "got", "--check-images", "header",
            "--output", out, "--json"]
    if workers:
        argv += ["--workers", str(workers)]
    res = run_python_child(_CHILD, [json.dumps(argv)])
    if res["rc"] != 0:
        raise RuntimeError(f"swift-ocr {' '.join(argv)} exited {res['rc']}")
    return res


def has_workers_option() -> bool:
    import argparse

    from swift_ocr.cli import convert as cli_convert
    parser = argparse.ArgumentParser()
    cli_convert.add_arguments(parser)
    return any("--workers" in a.option_strings for a in parser._actions)


def run(workdir: str, small: int = 10_000, large: int = 1_000_000, formats=("icdar", "wordbox"),
        tasks=("rec", "det"), log=print):
    outdir = os.path.join(workdir, "convert_out")
    os.makedirs(outdir, exist_ok=True)
    workers = has_workers_option()
    for fmt in formats:
        log(f"  generating {fmt} datasets: {small} and {large} records")
        roots = {size: dataset(workdir, fmt, size) for size in (small, large)}
        t_floor, n_floor = timed(lambda: FLOORS[fmt](roots[large]))
        log(f"  floor: plain read+parse of {n_floor} {fmt} records: {t_floor:.2f} s")
        for task in tasks:
            runs = {}
            for size in (small, large):
                out = os.path.join(outdir, f"{fmt}_{task}_{size}.jsonl")
                runs[size] = convert_child(roots[size], fmt, task, out)
                log(f"  convert {fmt} {task} {size:>9} records: {runs[size]['wall_s']:7.2f} s, "
                    f"peak RSS {mib(runs[size]['peak_rss_kib'])}, images decoded {runs[size]['decoded']}")
            s, b = runs[small], runs[large]
            mem = b["peak_rss_kib"] / s["peak_rss_kib"]
            yield at_most(f"convert {fmt} {task} memory", mem, MEMORY_TARGET,
                          f"peak RSS {mib(b['peak_rss_kib'])} at {large} records vs {mib(s['peak_rss_kib'])} "
                          f"at {small}", small_kib=s["peak_rss_kib"], large_kib=b["peak_rss_kib"])
            speed = b["wall_s"] / t_floor
            res = at_most(f"convert {fmt} {task} vs floor", speed, SPEED_TARGET,
                          f"{large} records: convert {b['wall_s']:.1f} s vs plain read+parse {t_floor:.1f} s; "
                          f"images decoded: {b['decoded']}", convert_s=b["wall_s"], floor_s=t_floor,
                          decoded=b["decoded"])
            if b["decoded"] or s["decoded"]:
                res.passed = False
            yield res
            if workers and task == tasks[0]:
                out = os.path.join(outdir, f"{fmt}_{task}_{large}_w2.jsonl")
                w2 = convert_child(roots[large], fmt, task, out, workers=2)
                log(f"  convert {fmt} {task} {large} records --workers 2: {w2['wall_s']:.2f} s")
                yield at_least(f"convert {fmt} --workers 2", b["wall_s"] / w2["wall_s"], WORKERS_TARGET,
                               f"{large} records: 1 worker {b['wall_s']:.1f} s vs 2 workers {w2['wall_s']:.1f} s "
                               f"({os.cpu_count()} CPUs)")
    if not workers:
        yield Result("convert --workers", None, f">= {WORKERS_TARGET:g}x", None,
                     "swift-ocr convert has no --workers option yet")
    shutil.rmtree(outdir, ignore_errors=True)


__all__ = ["run", "floor_icdar", "floor_wordbox", "REPO_ROOT", "info"]
