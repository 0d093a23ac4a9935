"""Shared pieces of the benchmarks: result lines, timing, peak memory of a child process.

Every benchmark reports a **ratio measured in one run** (ours against a baseline or a floor, on the same data,
one after the other on the same machine), never an absolute time, so that the pass/fail verdict does not
depend on how fast the machine is.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Result:
    """One target line.

    Attributes:
        name: short target name (e.g. ``rec-metric``).
        value: the measured ratio (or None when it could not be measured).
        target: the target as text (``>= 50x``, ``<= 1.20x``).
        passed: the verdict (None: not measured, e.g. a feature that is not available).
        detail: what was compared, with the absolute numbers behind the ratio.
    """

    name: str
    value: Optional[float]
    target: str
    passed: Optional[bool]
    detail: str = ""
    extra: Dict[str, Any] = field(default_factory=dict)
    unit: str = "x"

    def line(self) -> str:
        value = "n/a" if self.value is None else f"{self.value:.2f}{self.unit}"
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed] if self.target != "-" else "INFO"
        return f"{self.name:<28} {value:>10}  target {self.target:<9} {verdict}  {self.detail}"

    def to_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "unit": self.unit, "target": self.target,
                "passed": self.passed, "detail": self.detail, **self.extra}


def at_least(name: str, value: float, minimum: float, detail: str, **extra) -> Result:
    return Result(name, value, f">= {minimum:g}x", value >= minimum, detail, extra)


def info(name: str, value: Optional[float], detail: str, **extra) -> Result:
    """A measured ratio without a target of its own (context for another line)."""
    return Result(name, value, "-", None, detail, extra)


def at_most(name: str, value: float, maximum: float, detail: str, unit: str = "x", **extra) -> Result:
    return Result(name, value, f"<= {maximum:g}{unit}", value <= maximum, detail, extra, unit)


def timed(fn: Callable[[], Any]) -> Tuple[float, Any]:
    """``(wall seconds, fn())``."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def vm_hwm_kib() -> int:
    """This process's peak resident set size in KiB (``VmHWM`` of ``/proc/self/status``, Linux)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def child_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def run_cli_child(argv: List[str], timeout: Optional[float] = None) -> Dict[str, Any]:
    """Run ``swift-ocr ARGV`` in a fresh Python process and return ``{"rc", "wall_s", "peak_rss_kib",
    "stdout", "stderr"}``: the peak RSS is the child's own ``VmHWM`` read just before it exits, so imports,
    reading and writing are all included, and nothing of this (parent) process is."""
    code = (
        "import json, sys, time\n"
        "from benchmarks.common import vm_hwm_kib\n"
        "t = time.perf_counter()\n"
        "from swift_ocr.cli.main import main\n"
        "rc = main(json.loads(sys.argv[1]))\n"
        "wall = time.perf_counter() - t\n"
        "print('\\n@@BENCH@@' + json.dumps({'rc': rc, 'wall_s': wall, 'peak_rss_kib': vm_hwm_kib()}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(argv)], capture_output=True, text=True,
                          env=child_env(), cwd=REPO_ROOT, timeout=timeout)
    marker = proc.stdout.rfind("@@BENCH@@")
    if proc.returncode != 0 or marker < 0:
        raise RuntimeError(f"swift-ocr {' '.join(argv)} failed (exit {proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout[marker + len("@@BENCH@@"):])
    out.update(stdout=proc.stdout[:marker], stderr=proc.stderr)
    return out


def run_python_child(code: str, args: List[str], timeout: Optional[float] = None) -> Dict[str, Any]:
    """Run a Python snippet in a fresh process; it must print one ``@@BENCH@@{json}`` line, which is returned."""
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=child_env(),
                          cwd=REPO_ROOT, timeout=timeout)
    marker = proc.stdout.rfind("@@BENCH@@")
    if proc.returncode != 0 or marker < 0:
        raise RuntimeError(f"benchmark child failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n"
                           f"{proc.stderr[-4000:]}")
    return json.loads(proc.stdout[marker + len("@@BENCH@@"):])


def precompile_package() -> None:
    """Write the bytecode cache (``__pycache__``) of ``swift_ocr``, as ``pip install`` does for an installed package.

    A source checkout run with ``PYTHONDONTWRITEBYTECODE`` set (this machine's default) would otherwise compile
    every swift_ocr module from source in each benchmark child -- about 0.1 s per process that no installed copy
    pays, and that would count against ``swift-ocr`` in the conversion timings."""
    import compileall

    compileall.compile_dir(os.path.join(REPO_ROOT, "swift_ocr"), quiet=1)


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


#: Child-process code that counts full image decodes (``PIL.ImageFile.ImageFile.load`` calls) in ``decoded[0]``;
#: pasted into the benchmark children's scripts, which report it so "images decoded" can be compared.
COUNT_DECODES = """import PIL.ImageFile
decoded = [0]
_load = PIL.ImageFile.ImageFile.load
def _counting_load(self, *a, **k):
    decoded[0] += 1
    return _load(self, *a, **k)
PIL.ImageFile.ImageFile.load = _counting_load
"""
