"""Shared pieces of the benchmarks: row dicts with goals, timing, and the machine's load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = dict[str, Any]
REPO = Path(__file__).resolve().parents[1]
# Other work that would skew every figure on a shared 2-core machine.
BUSY_PATTERNS = ("train_unet.py", "pytest", "snakemake")


def row(
    name: str,
    figure: float | None,
    unit: str,
    baseline: float | None = None,
    *,
    ratio: float | None = None,
    goal: tuple[str, float, str] | None = None,
    note: str = "",
) -> Row:
    """One table row; `ratio` defaults to figure / baseline, `goal` is (op, value, on) with
    op one of >=, <=, < and on 'ratio' or 'figure'."""
    if ratio is None and figure is not None and baseline:
        ratio = figure / baseline
    met, goal_text = None, ""
    if goal:
        op, value, on = goal
        goal_text = f"{op} {value:g}x" if on == "ratio" else f"{op} {value:g} {unit}"
        x = ratio if on == "ratio" else figure
        if x is not None:
            met = {">=": x >= value, "<=": x <= value, "<": x < value}[op]
    return {
        "name": name,
        "figure": figure,
        "unit": unit,
        "baseline": baseline,
        "ratio": ratio,
        "goal": goal_text,
        "met": met,
        "note": note,
    }


def absent(name: str, reason: str) -> Row:
    """A row for a figure that cannot be measured here (no GPU, opt-in not given)."""
    return {**row(name, None, ""), "note": f"absent: {reason}"}


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    """Fastest wall time of `repeats` calls, in seconds: the least disturbed by other load."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def interleaved(repeats: int, *fns: Callable[[], Any]) -> list[float]:
    """Fastest wall time of each function, calling them in turn `repeats` times: a burst of
    other load then skews every variant alike instead of whichever ran during it."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def other_work() -> list[str]:
    """Command lines of other heavy processes running now (not this one or its children)."""
    mine = {os.getpid(), os.getppid()}
    found = []
    for pattern in BUSY_PATTERNS:
        try:
            out = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True).stdout
        except FileNotFoundError:  # a bare image without procps: other work cannot be seen
            return []
        for line in out.splitlines():
            pid, _, cmd = line.partition(" ")
            if int(pid) not in mine and "benchmarks" not in cmd:
                found.append(cmd[:120])
    return found


def busy_cores(seconds: float = 1.0) -> float:
    """Cores kept busy by anything over `seconds` (from /proc/stat): 0 on a quiet machine."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # total, idle + iowait

    (t0, i0), _, (t1, i1) = sample(), time.sleep(seconds), sample()
    return (os.cpu_count() or 1) * (1 - (i1 - i0) / max(t1 - t0, 1))


def machine() -> dict:
    """CPU count, load, cores busy right now and other heavy work: context for every figure."""
    return {
        "cpu_count": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "busy_cores": busy_cores(),
        "other_work": other_work(),
    }


def status_kb(field: str) -> int:
    """One figure of /proc/self/status, in kB (RssAnon, VmHWM, ...)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakAnon(threading.Thread):
    """Samples RssAnon every 10 ms; the kernel keeps no peak of it (VmHWM counts file pages)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.stop = 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, status_kb("RssAnon"))
            time.sleep(0.01)


def peak_of(fn: Callable[[], Any]) -> dict:
    """Call `fn` and report this process's peak anonymous memory during it (kB), its anonymous
    memory before (kB) and the seconds it took."""
    idle = status_kb("RssAnon")
    sampler = PeakAnon()
    sampler.start()
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    return {"peak_anon_kb": max(sampler.peak, status_kb("RssAnon")), "idle_kb": idle,
            "seconds": seconds}


def run_child(module: str, *args: str) -> dict:
    """Run `python -m module --child args...` in a fresh interpreter (its own peak memory) and
    return the JSON it prints last."""
    cmd = [sys.executable, "-m", module, "--child", *args]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def child_main(doc: str, run: Callable[[bool], list[Row]], child: Callable[[str, Path], dict],
               metavar: tuple[str, str] = ("HOW", "PATH")) -> None:
    """The command line of a benchmark measured in fresh interpreters: `--quick` for the
    smaller sizes, and `--child HOW PATH`, how `run_child` calls it back, printing child's
    figures as JSON."""
    import argparse

    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=metavar, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
    else:
        from benchmarks.run import print_table

        print_table(run(args.quick))
