"""Targets for ``swift-ocr convert`` (ICDAR quads and word-box JSON -> ms-swift jsonl, ``rec`` and ``det`` tasks):

* **memory flat**: peak RSS converting 1,000,000 label records within 1.2x of converting 10,000;
* **speed**: wall time within 2x of the *floor* -- the time to merely read and parse the same label files in a
  plain Python loop (read bytes, decode, split lines and fields, ``float()`` the coordinates / ``json.loads``);
* **image sizes from headers**: the conversion (``--check-images header``) decodes no image (Pillow's
  ``ImageFile.load`` is counted in the child process and must stay 0);
* **--workers N scales**: wall time with ``--workers 2`` vs ``--workers 1``.

Speed ratios come from :data:`REPEATS` pairs of runs made back to back (the floor, then the conversion; ``--workers 1``,
then ``--workers 2``), and the median pair counts (see :func:`run`). The speed target is measured as a user converting
a large folder runs it: ``--workers auto`` (the default: one
process per CPU for datasets this size), against the floor's single plain loop. The same conversion with
``--workers 1`` is printed as an INFO line next to it, so the cost per item of one process stays visible. The memory
target is measured with ``--workers 1`` (all the work in the process whose peak RSS is read).

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
from statistics import median

from .common import COUNT_DECODES, REPO_ROOT, at_least, at_most, info, mib, run_python_child, timed
from .synth import write_icdar_dataset, write_wordbox_dataset

MEMORY_TARGET = 1.2
SPEED_TARGET = 2.0
WORKERS_TARGET = 1.5
#: Pairs of runs per speed ratio (floor + conversion, or 1 + 2 workers, back to back); the median pair counts. This
#: shared machine's speed varies by up to 2x within minutes, and a run with two worker processes feels that more than
#: the one-process floor: a ratio is only meaningful between runs made under the same conditions, and with 5 pairs
#: two disturbed ones do not move the median.
REPEATS = 5
#: ``--workers 1`` runs for the memory target and the one-worker INFO line of the second task (the first task takes
#: them from its ``--workers 1`` then ``2`` pairs).
ONE_WORKER_RUNS = 3

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


def convert_child(root: str, fmt: str, task: str, out: str, workers="auto") -> dict:
    """Run ``swift-ocr convert`` in a fresh child; ``workers``: a number or ``auto``."""
    argv = ["convert", "--format", fmt, "--input", root, "--task", task,
            "--model-family", "internvl" if task == "det" else "got", "--check-images", "header",
            "--output", out, "--json", "--workers", str(workers)]
    res = run_python_child(_CHILD, [json.dumps(argv)])
    if res["rc"] != 0:
        raise RuntimeError(f"swift-ocr {' '.join(argv)} exited {res['rc']}")
    return res


def best_of(n: int, run) -> dict:
    """``run()`` ``n`` times: the fastest wall time and the highest peak RSS and decode count (timings on a shared
    machine vary by tens of percent from run to run; the floor is also the fastest of its runs)."""
    return _best([run() for _ in range(n)])


def _best(runs) -> dict:
    best = dict(min(runs, key=lambda r: r["wall_s"]))
    best["peak_rss_kib"] = max(r["peak_rss_kib"] for r in runs)
    best["decoded"] = max(r["decoded"] for r in runs)
    return best


def paired(n: int, first, second) -> list:
    """``[(first(), second()), ...]``, ``n`` pairs, each measured back to back: on a machine whose speed drifts,
    the two runs of a pair see the same conditions (the median ratio of the pairs counts)."""
    return [(first(), second()) for _ in range(n)]


def _fmt(values) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def run(workdir: str, small: int = 10_000, large: int = 1_000_000, formats=("icdar", "wordbox"),
        tasks=("rec", "det"), log=print):
    """Speed ratios are medians of :data:`REPEATS` pairs measured back to back: the floor and then ``--workers
    auto``; ``--workers 1`` and then ``--workers 2``. (The floors and conversions of one format are minutes apart,
    and this shared machine's speed changes by up to 2x within minutes: separate fastest runs could come from a
    quiet and a loaded period.)"""
    outdir = os.path.join(workdir, "convert_out")
    os.makedirs(outdir, exist_ok=True)
    from swift_ocr.convert.workers import effective_workers

    for fmt in formats:
        log(f"  generating {fmt} datasets: {small} and {large} records")
        roots = {size: dataset(workdir, fmt, size) for size in (small, large)}
        n_files = large // PER_FILE[fmt]

        def floor():
            return timed(lambda: FLOORS[fmt](roots[large]))[0]

        floor()  # brings the label files into the page cache
        auto = effective_workers(0, n_files)
        for task in tasks:
            out = {w: os.path.join(outdir, f"{fmt}_{task}_{large}_w{w}.jsonl") for w in (1, 2, "auto")}

            def convert(workers, size=large):
                return convert_child(roots[size], fmt, task, out[workers] if size == large else os.path.join(
                    outdir, f"{fmt}_{task}_{size}.jsonl"), workers=workers)

            s = convert(1, small)
            w12 = paired(REPEATS, lambda: convert(1), lambda: convert(2)) if task == tasks[0] else None
            b = _best([one for one, _ in w12] if w12 else [convert(1) for _ in range(ONE_WORKER_RUNS)])
            for size, r in ((small, s), (large, b)):
                log(f"  convert {fmt} {task} {size:>9} records, 1 worker: {r['wall_s']:7.2f} s, "
                    f"peak RSS {mib(r['peak_rss_kib'])}, images decoded {r['decoded']}")
            mem = b["peak_rss_kib"] / s["peak_rss_kib"]
            yield at_most(f"convert {fmt} {task} memory", mem, MEMORY_TARGET,
                          f"peak RSS {mib(b['peak_rss_kib'])} at {large} records vs {mib(s['peak_rss_kib'])} "
                          f"at {small} (--workers 1)", small_kib=s["peak_rss_kib"], large_kib=b["peak_rss_kib"])
            pairs = paired(REPEATS, floor, lambda: convert("auto"))
            floors = [f for f, _ in pairs]
            walls = [a["wall_s"] for _, a in pairs]
            ratios = [a / f for f, a in zip(floors, walls)]
            decoded = max(a["decoded"] for _, a in pairs) + b["decoded"] + s["decoded"]
            log(f"  {fmt} {task} {large} records, floor then --workers auto ({auto}): "
                + ", ".join(f"{f:.2f} s / {a:.2f} s" for f, a in zip(floors, walls)))
            res = at_most(f"convert {fmt} {task} vs floor", median(ratios), SPEED_TARGET,
                          f"{large} records: convert --workers auto ({auto} processes) vs plain read+parse, "
                          f"pairs {_fmt(walls)} s vs {_fmt(floors)} s (ratios {_fmt(ratios)}, median counts); "
                          f"images decoded: {decoded}",
                          convert_s=walls, floor_s=floors, ratios=ratios, workers=auto, decoded=decoded)
            if decoded:
                res.passed = False
            yield res
            t_floor = min(floors)
            yield info(f"convert {fmt} {task} 1 worker", b["wall_s"] / t_floor,
                       f"{large} records: convert --workers 1 {b['wall_s']:.1f} s vs plain read+parse {t_floor:.1f} s "
                       f"(fastest runs; {1e6 * b['wall_s'] / n_files:.0f} us vs {1e6 * t_floor / n_files:.0f} us "
                       f"per label file)", convert_s=b["wall_s"])
            if w12:
                ones = [one["wall_s"] for one, _ in w12]
                twos = [two["wall_s"] for _, two in w12]
                log(f"  convert {fmt} {task} {large} records, --workers 1 then 2: "
                    + ", ".join(f"{a:.2f} s / {b2:.2f} s" for a, b2 in zip(ones, twos)))
                speedups = [a / b2 for a, b2 in zip(ones, twos)]
                yield at_least(f"convert {fmt} --workers 2", median(speedups), WORKERS_TARGET,
                               f"{large} records: pairs 1 worker {_fmt(ones)} s vs 2 workers {_fmt(twos)} s "
                               f"(speed-ups {_fmt(speedups)}, median counts; {os.cpu_count()} CPUs)")
    shutil.rmtree(outdir, ignore_errors=True)


__all__ = ["run", "floor_icdar", "floor_wordbox", "REPO_ROOT", "info"]
