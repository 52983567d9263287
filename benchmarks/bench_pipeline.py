"""The default pipeline from a clean results/ on 2 cores: wall time and time per rule (opt-in)."""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from benchmarks.common import Row, absent, row
from benchmarks.fixtures import scratch

NAME = "pipeline: default config, clean results/, 2 cores"


def read_benchmarks(results: Path) -> dict[str, dict[str, float]]:
    """Figures of every `results/**/benchmarks/*.tsv` (Snakemake's `benchmark:` files)."""
    found = {}
    for tsv in sorted(results.glob("**/benchmarks/*.tsv")):
        with open(tsv) as f:
            first = next(csv.DictReader(f, delimiter="\t"))
        # <dataset>/<rule> or <dataset>/<experiment>/<rule>: the experiment's name alone
        # (`baseline` under two data sets) made one data set's rules replace the other's
        key = str(tsv.relative_to(results).parent.parent / tsv.stem)
        found[key] = {
            k: float(first[k])
            for k in ("s", "max_rss", "cpu_time")
            if first.get(k) not in (None, "", "NA", "-")
        }
    return found


def run_pipeline() -> tuple[float, Path]:
    """Run the default workflow in a scratch copy; its wall time and results/ folder."""
    from tests.conftest import copy_workflow, snakemake

    wd = copy_workflow(scratch() / "pipeline")
    t0 = time.perf_counter()
    snakemake(wd, "--cores", "2", "--resources", "gpu=1")
    return time.perf_counter() - t0, wd / "results"


def run(quick: bool = False, pipeline: bool = False, results: Path | None = None) -> list[Row]:
    """Rows from a fresh run (`pipeline`), or from an earlier run's `results` folder."""
    if results is None and not pipeline:
        return [absent(NAME, "opt-in: --pipeline, or --pipeline-results DIR")]
    wall = None
    if results is None:
        wall, results = run_pipeline()
    rules = read_benchmarks(results)
    if not rules:
        return [absent(NAME, f"no benchmarks/*.tsv under {results}")]
    total = sum(r["s"] for r in rules.values())
    where = "this run" if wall is not None else f"read from {results}"
    rows = [row(NAME, wall, "s", total, note=f"baseline: sum of benchmarked rules; {where}")]
    for key, r in rules.items():
        rss = f", max_rss {r['max_rss']:.0f} MB" if "max_rss" in r else ""
        cpu = f", cpu {r['cpu_time']:.0f} s" if "cpu_time" in r else ""
        rows.append(row(f"pipeline: {key}", r["s"], "s", wall, note=f"share of wall{cpu}{rss}"))
    return rows


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", type=Path, help="read an earlier run's results/ instead")
    args = ap.parse_args()
    print_table(run(pipeline=args.results is None, results=args.results))
