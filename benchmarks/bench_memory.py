"""Peak memory of preprocessing and training at two data set sizes, each in a subprocess."""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import PeakAnon, Row, child_main, row, run_child, status_kb
from benchmarks.fixtures import scratch, synthetic_pairs, write_inputs

SIZE = (384, 256)  # cache at the images' own size, so the cache is large next to torch itself
PAIRS = {False: (48, 192), True: (24, 96)}  # (baseline, 4x) pairs; True: --quick


def child(stage: str, folder: Path) -> dict:
    """Run one stage on `folder` (manifest, split; cache for train) and report peak memory."""
    sampler = PeakAnon()
    sampler.start()
    if stage == "preprocess":
        from unet.cache.preprocess import preprocess
        from unet.cache.settings import PreprocessSettings

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
    return {"peak_anon_kb": max(sampler.peak, status_kb("RssAnon")), "hwm_kb": status_kb("VmHWM")}


def measure(stage: str, folder: Path) -> dict:
    """Run `child` in a fresh interpreter and return the peaks it reports."""
    return run_child("benchmarks.bench_memory", stage, str(folder))


def _cache_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in (folder / "cache").glob("*.npy")) / 2**20


def run(quick: bool = False) -> list[Row]:
    """Peak RSS (total and anonymous) at n and 4n pairs, for preprocess and train."""
    small, large = PAIRS[quick]
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
    child_main(__doc__, run, child, ('STAGE', 'FOLDER'))
