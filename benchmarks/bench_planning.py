"""Planning's fixed costs: the rules' code inputs and the schema, before and after caching."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

import yaml

from benchmarks.common import Row, row

REPO = Path(__file__).resolve().parents[1]
# Each rule's modules(...) entries, as in rules/*.smk (tests/test_deps.py pins them).
ENTRIES = [("dataset.download", "dataset.synthetic"), ("dataset.split",), ("cache.preprocess",),
           ("train.train",), ("infer.predict",), ("infer.predict_folder", "infer.predict"),
           ("crf.tune",), ("crf.refine",), ("postprocess.finalize",),
           ("evaluate.evaluate", "common.layout"), ("report.plot", "common.layout"),
           ("report.compare",), ("report.cross_validation",)]
# module_files for every rule in a fresh interpreter, as one planning does, with its parses
PLAN = ("import ast, sys, time\nfrom unet.deps import module_files\ncount, real = [0], ast.parse\n"
        "def parse(*a, **k):\n    count[0] += 1\n    return real(*a, **k)\nast.parse = parse\n"
        "t0 = time.perf_counter()\nfiles = set()\n"
        f"for e in {ENTRIES!r}: files.update(module_files(e, root={str(REPO)!r}))\n"
        "print(time.perf_counter() - t0, count[0], len(files))")


def reparsed(files: list[list[str]]) -> float:
    """Seconds of the old way: each rule's closure read, parsed and walked whole again."""
    t0 = time.perf_counter()
    for closure in files:
        for path in closure:
            sum(1 for _ in ast.walk(ast.parse(Path(path).read_text())))
    return time.perf_counter() - t0


def run(quick: bool = False) -> list[Row]:
    """Code inputs of every rule (one planning) and one schema parse, each against before."""
    best, parses, files = float("inf"), 0, 0
    for _ in range(1 if quick else 3):
        out = subprocess.run([sys.executable, "-c", PLAN], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
        best, parses, files = min(best, float(out[0])), int(out[1]), int(out[2])
    from unet.deps import module_files

    closures = [module_files(e, root=REPO) for e in ENTRIES]
    before = min(reparsed(closures) for _ in range(1 if quick else 3))
    text = (REPO / "config" / "schema.yaml").read_text()
    t0 = time.perf_counter()
    yaml.load(text, Loader=yaml.SafeLoader)
    pure = time.perf_counter() - t0
    t0 = time.perf_counter()
    yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    fast = time.perf_counter() - t0
    return [
        row("planning: code inputs of every rule", best, "s", before, goal=("<=", 0.5, "ratio"),
            note=f"{parses} parses of {files} files; baseline "
                 f"{sum(len(c) for c in closures)} parses walked whole (before 2026-12-06)"),
        row("planning: parse config/schema.yaml", fast, "s", pure, goal=("<=", 0.5, "ratio"),
            note="libyaml, once a planning; baseline pure-Python SafeLoader, twice before"),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    print_table(run(ap.parse_args().quick))
