"""Target: parquet rows are streamed by row group, so converting a parquet file larger than memory works.

* **memory flat**: peak RSS of ``swift-ocr convert --format parquet`` on a large file (default 24,000 rows of
  ~64 KiB JPEGs, about 1.5 GiB) within 1.2x of that on a small one (1,000 rows, ~64 MiB);
* **larger than memory**: the large conversion is repeated in a child whose whole address space is capped
  (``RLIMIT_AS``) *below the size of the file*; it must succeed and write every row. (The cap is the larger of
  2/3 of the file size and 1 GiB -- Python with numpy, pyarrow and Pillow needs several hundred MiB of address
  space before reading anything -- so the file must be bigger than that for the check to run.)

Both conversions use ``--check-images header``; each runs in a fresh child process reporting its own VmHWM.
"""
from __future__ import annotations

import json
import os
import shutil

from .common import Result, at_most, mib, run_python_child
from .synth import write_parquet

TARGET = 1.2
MIN_CAP = 1 << 30

_CHILD = r"""
import json, resource, sys, time
cap = int(sys.argv[2])
if cap:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
t0 = time.perf_counter()
from swift_ocr.cli.main import main
from benchmarks.common import vm_hwm_kib
import io, contextlib
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = main(json.loads(sys.argv[1]))
report = json.loads(out.getvalue()) if rc == 0 else {}
print("@@BENCH@@" + json.dumps({"rc": rc, "wall_s": time.perf_counter() - t0, "peak_rss_kib": vm_hwm_kib(),
                                "train": report.get("train"), "rejected": report.get("rejected")}))
"""


def _convert(path: str, out: str, cap: int = 0) -> dict:
    argv = ["convert", "--format", "parquet", "--input", path, "--check-images", "header", "--output", out, "--json"]
    try:
        return run_python_child(_CHILD, [json.dumps(argv), str(cap)])
    finally:
        for p in (out, out.replace(".jsonl", ".rejects.jsonl")):
            if os.path.exists(p):
                os.unlink(p)
        shutil.rmtree(out.replace(".jsonl", "_images"), ignore_errors=True)


def run(workdir: str, small_rows: int = 1000, large_rows: int = 24000, log=print):
    paths = {}
    for rows in (small_rows, large_rows):
        paths[rows] = write_parquet(os.path.join(workdir, f"parquet_{rows}.parquet"), rows)
        log(f"  parquet {rows} rows: {os.path.getsize(paths[rows]) / 2**20:.0f} MiB")
    out = os.path.join(workdir, "parquet_out.jsonl")
    runs = {rows: _convert(paths[rows], out) for rows in (small_rows, large_rows)}
    for rows, r in runs.items():
        log(f"  convert parquet {rows} rows: {r['wall_s']:.1f} s, peak RSS {mib(r['peak_rss_kib'])}, "
            f"{r['train']} rows written")
    s, b = runs[small_rows], runs[large_rows]
    size = os.path.getsize(paths[large_rows])
    res = at_most("parquet memory (streamed)", b["peak_rss_kib"] / s["peak_rss_kib"], TARGET,
                  f"peak RSS {mib(b['peak_rss_kib'])} for {size / 2**20:.0f} MiB ({large_rows} rows) vs "
                  f"{mib(s['peak_rss_kib'])} for {small_rows} rows")
    if b["train"] != large_rows or s["train"] != small_rows:
        res.passed = False
    yield res

    cap = max(size * 2 // 3, MIN_CAP)
    if cap >= size:
        yield Result("parquet larger than memory", None, "succeeds", None,
                     f"file {size / 2**20:.0f} MiB is not larger than the smallest usable cap "
                     f"{cap / 2**20:.0f} MiB; raise --parquet-large-rows")
        return
    try:
        capped = _convert(paths[large_rows], out, cap)
    except RuntimeError as exc:  # the child died, e.g. MemoryError: the file was not streamed
        last = [ln for ln in str(exc).splitlines() if ln.strip()][-1:]
        log(f"  convert parquet {large_rows} rows under RLIMIT_AS {cap / 2**20:.0f} MiB failed: {last}")
        yield Result("parquet larger than memory", size / cap, "succeeds", False,
                     f"converting the {size / 2**20:.0f} MiB file with the address space capped at "
                     f"{cap / 2**20:.0f} MiB failed: {' '.join(last)[:200]}")
        return
    ok = capped["rc"] == 0 and capped["train"] == large_rows
    log(f"  convert parquet {large_rows} rows under RLIMIT_AS {cap / 2**20:.0f} MiB: rc {capped['rc']}, "
        f"{capped['train']} rows")
    yield Result("parquet larger than memory", size / cap, "succeeds", ok,
                 f"{size / 2**20:.0f} MiB file converted ({capped['train']} rows) with the process's address space "
                 f"capped at {cap / 2**20:.0f} MiB (ratio = file / cap)")
