"""Peak memory of preprocessing and training at two data set sizes, each in a subprocess."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.common import Row, row
from benchmarks.fixtures import scratch, synthetic_pairs, write_inputs

REPO = Path(__file__).resolve().parents[1]
SIZE = (384, 256)  # cache at the images' own size, so the cache is large next to torch itself


def _status_kb(field: str) -> int:
    """One figure of /proc/self/status, in kB (RssAnon, VmHWM, ...)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class _PeakAnon(threading.Thread):
    """Samples RssAnon every 10 ms; the kernel keeps no peak of it (VmHWM counts file pages)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.stop = 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, _status_kb("RssAnon"))
            time.sleep(0.01)


def child(stage: str, folder: Path) -> dict:
    """Run one stage on `folder` (manifest, split; cache for train) and report peak memory."""
    sampler = _PeakAnon()
    sampler.start()
    if stage == "preprocess":
        from unet.cache.preprocess import PreprocessSettings, preprocess

        settings = PreprocessSettings(width=SIZE[0], height=SIZE[1], mask_values=(0, 255))
        preprocess(folder / "manifest.json", folder / "split.json", folder / "cache", settings)
    else:
        from unet.train.settings import TrainSettings
        from unet.train.train import train_unet

        out = folder / "train"
        settings = TrainSettings(epochs=1, batch_size=8, warmup_epochs=0)
        train_unet(
            folder / "cache",
            out / "model.pt",
            out / "history.csv",
            out / "checkpoints",
            {"depth": 2, "base_width": 8},
            settings,
            threads=2,
        )
    sampler.stop.set()
    sampler.join()
    # VmHWM, not the parent's wait4/RUSAGE_CHILDREN: Linux carries the parent's peak RSS into
    # a child's ru_maxrss across fork and exec, so a small child of a large parent reads large.
    return {"peak_anon_kb": max(sampler.peak, _status_kb("RssAnon")), "hwm_kb": _status_kb("VmHWM")}


def measure(stage: str, folder: Path) -> dict:
    """Run `child` in a fresh interpreter and return the peaks it reports."""
    cmd = [sys.executable, "-m", "benchmarks.bench_memory", "--child", stage, str(folder)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cache_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in (folder / "cache").glob("*.npy")) / 2**20


def run(quick: bool = False) -> list[Row]:
    """Peak RSS (total and anonymous) at n and 4n pairs, for preprocess and train."""
    small, large = (24, 96) if quick else (48, 192)
    pairs = synthetic_pairs(scratch() / "memory_data", large, *SIZE)
    figures = {}
    for n in (small, large):
        folder = scratch() / f"memory_{n}"
        write_inputs(folder, pairs[:n])
        for stage in ("preprocess", "train"):
            figures[stage, n] = {**measure(stage, folder), "cache_mb": _cache_mb(folder)}
    rows = []
    for stage in ("preprocess", "train"):
        a, b = figures[stage, small], figures[stage, large]
        sizes = f"{large} vs {small} pairs, cache {b['cache_mb']:.0f} vs {a['cache_mb']:.0f} MB"
        rows.append(
            row(
                f"memory: {stage} peak anonymous RSS",
                b["peak_anon_kb"] / 1024,
                "MB",
                a["peak_anon_kb"] / 1024,
                goal=("<=", 1.2, "ratio"),
                note=sizes,
            )
        )
        rows.append(
            row(
                f"memory: {stage} peak RSS (VmHWM)",
                b["hwm_kb"] / 1024,
                "MB",
                a["hwm_kb"] / 1024,
                note="includes the memory-mapped cache's file pages (reclaimable)",
            )
        )
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("STAGE", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
    else:
        from benchmarks.run import print_table

        print_table(run(args.quick))
