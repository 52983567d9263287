"""Planning cost: `snakemake -n` on a Carvana-sized set (5,088 pairs) vs a 48-pair set."""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from pathlib import Path

import yaml

from benchmarks.common import Row, row
from benchmarks.fixtures import placeholders, scratch
from tests.conftest import copy_workflow, snakemake

CARVANA_PAIRS = 5088
SMALL_PAIRS = 48


def write_config(wd: Path, data: Path, name: str) -> str:
    """A config (relative to `wd`) using `data` as a Carvana-named local source."""
    config = {
        "dataset": {
            "name": name,
            "source": "local",
            "local": {
                "path": str(data),
                "images": "train",
                "masks": "train_masks",
                "mask_suffix": "_mask",
            },
        },
        "masks": {"values": [0, 1]},
    }
    path = wd / "config" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path.relative_to(wd))


def job_count(proc: subprocess.CompletedProcess) -> int:
    """The 'total' line of Snakemake's job stats."""
    found = re.search(r"^total\s+(\d+)", proc.stdout + proc.stderr, re.MULTILINE)
    if not found:
        raise RuntimeError(f"no job stats in snakemake -n output:\n{proc.stdout}{proc.stderr}")
    return int(found.group(1))


def dry_runs(wd: Path, configs: list[str], repeats: int) -> list[tuple[float, int]]:
    """Per config, the fastest wall time of `snakemake -n` (process start included) and the
    jobs it plans; configs take turns, so a burst of other load hits them alike."""
    best, jobs = [float("inf")] * len(configs), [0] * len(configs)
    for _ in range(repeats):
        for i, config in enumerate(configs):
            t0 = time.perf_counter()
            proc = snakemake(wd, "-n", "--cores", "2", "--configfile", config)
            best[i] = min(best[i], time.perf_counter() - t0)
            jobs[i] = job_count(proc)
    return list(zip(best, jobs, strict=True))


def run(quick: bool = False) -> list[Row]:
    """Dry-run time and job count at 48 and 5,088 pairs, from scratch and after the split."""
    repeats = 1 if quick else 2
    root = scratch() / "dag"
    wd = copy_workflow(root / "workflow")
    small = write_config(wd, placeholders(root / "small", SMALL_PAIRS), "dag_small")
    large = write_config(wd, placeholders(root / "large", CARVANA_PAIRS), "dag_large")
    dry_runs(wd, [small, large], 1)  # warm-up: .snakemake/, bytecode, page cache
    (t_small, jobs_small), (t_large, jobs_large) = dry_runs(wd, [small, large], repeats)
    t0 = time.perf_counter()
    snakemake(wd, "results/dag_large/split.json", "--cores", "2", "--configfile", large)
    t_data = time.perf_counter() - t0
    ((t_after, jobs_after),) = dry_runs(wd, [large], repeats)
    return [
        row(
            f"dag: snakemake -n, {CARVANA_PAIRS} pairs, from scratch",
            t_large,
            "s",
            t_small,
            goal=("<", 5.0, "figure"),
            note=f"{jobs_large} jobs; baseline {SMALL_PAIRS} pairs, {jobs_small} jobs",
        ),
        row(
            "dag: snakemake -n after download + split",
            t_after,
            "s",
            t_small,
            goal=("<", 5.0, "figure"),
            note=f"{jobs_after} jobs",
        ),
        row(
            f"dag: jobs at {CARVANA_PAIRS} vs {SMALL_PAIRS} pairs",
            jobs_large,
            "jobs",
            jobs_small,
            goal=("<=", 1.0, "ratio"),
            note="must not grow with images",
        ),
        row(
            f"dag: download_dataset + split_dataset, {CARVANA_PAIRS} pairs",
            t_data,
            "s",
            note="local source: pair, read headers, split",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    print_table(run(ap.parse_args().quick))
