"""The one command: run every benchmark, print a table, write the figures as JSON.

python -m benchmarks.run [--quick] [--pipeline | --pipeline-results DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import importlib
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from benchmarks.common import Row, machine, row
from unet.common.fileio import write_json

REPO = Path(__file__).resolve().parents[1]
# The one list of benchmarks, in the order they run: name (for --only) -> module. The smoke
# test (tests/test_bench_smoke.py) reads it, so a new benchmark cannot miss its smoke test.
MODULES = {
    "preprocess": "bench_preprocess",
    "loading": "bench_loading",
    "train": "bench_train",
    "threads": "bench_threads",
    "crf": "bench_crf",
    "crf_classes": "bench_crf_classes",
    "dag": "bench_dag",
    "planning": "bench_planning",
    "manifest": "bench_manifest",
    "memory": "bench_memory",
    "durable": "bench_durable",
    "tiles": "bench_tiles",
    "predict_many": "bench_predict_many",
    "overlays": "bench_overlays",
    "evaluate": "bench_evaluate",
    "many_images": "bench_many_images",
    "gpu": "bench_gpu",
    "gpu_native": "bench_gpu_native",
    "pyramid": "bench_pyramid",
    "border": "bench_border",
    "pipeline": "bench_pipeline",
}


def module(name: str) -> ModuleType:
    """The benchmark module registered as `name` in MODULES."""
    return importlib.import_module(f"benchmarks.{MODULES[name]}")


def crf_rows(quick: bool = False, json_path: str = "results/benchmarks/crf.json") -> list[Row]:
    """bench_crf.py (bare pydensecrf vs refine_all at 1 and 2 processes) with a small N."""
    bench_crf = module("crf")
    n, repeats = ("4", "1") if quick else ("12", "2")  # 12: the pool start-up amortised
    fig = bench_crf.main(["-n", n, "--repeats", repeats, "--json", json_path])
    secs, rate = fig["seconds"], fig["images_per_s"]
    size = f"{fig['images']} images {fig['width']}x{fig['height']}, best of {fig['repeats']}"
    return [
        row(
            "crf: refine_all 2 processes vs 1",
            rate["refine_all_2"],
            "images/s",
            rate["refine_all_1"],
            goal=(">=", 1.9, "ratio"),
            note=size,
        ),
        row(
            "crf: refine_all 1 process vs bare pydensecrf",
            secs["refine_all_1"],
            "s",
            secs["baseline"],
            goal=("<=", 1.05, "ratio"),
            note="files in and out vs arrays",
        ),
    ]


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    text = (
        f"{x:.0f}"
        if abs(x) >= 100 or float(x).is_integer()
        else f"{x:.1f}"
        if abs(x) >= 10
        else f"{x:.3g}"
    )
    return f"{text} {unit}".strip()


def print_table(rows: list[Row]) -> None:
    """name | figure | baseline | ratio | goal | met? | note, one line per row."""
    head = ("name", "figure", "baseline", "ratio", "goal", "met?", "note")
    lines = [head] + [
        (
            r["name"],
            _fmt(r["figure"], r["unit"]),
            _fmt(r["baseline"], r["unit"]),
            "-" if r["ratio"] is None else f"{r['ratio']:.2f}x",
            r["goal"] or "-",
            {True: "yes", False: "NO", None: "-"}[r["met"]],
            r["note"],
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    for k, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:-1], widths[1:], strict=True)
        ]
        print("  ".join([*cells, line[-1]]))
        if k == 0:
            print("  ".join("-" * w for w in widths) + "  ----")


def _git() -> str:
    cmd = ["git", "-C", str(REPO), "describe", "--always", "--dirty"]
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except FileNotFoundError:  # no git on this machine: the figures still get written
        return ""


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmarks, print the table, write JSON; return what was written."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes: a smoke test")
    ap.add_argument(
        "--pipeline", action="store_true", help="also run the default pipeline (~5 min)"
    )
    ap.add_argument(
        "--pipeline-results",
        type=Path,
        metavar="DIR",
        help="read per-rule times from DIR/**/benchmarks/*.tsv of an earlier run",
    )
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    ap.add_argument("--json", default="results/benchmarks/summary.json", help="output JSON")
    args = ap.parse_args(argv)

    # run(quick) for each, but for these two: their own arguments
    own: dict[str, Callable[[], list[Row]]] = {
        "crf": lambda: crf_rows(args.quick, str(Path(args.json).with_name("crf.json"))),
        "pipeline": lambda: module("pipeline").run(args.quick, args.pipeline,
                                                   args.pipeline_results),
    }
    benches = {name: own.get(name, lambda name=name: module(name).run(args.quick))
               for name in MODULES}
    unknown = sorted(set(args.only or ()) - set(benches))
    if unknown:  # a typo would run nothing and write a summary without rows
        ap.error(f"--only {' '.join(unknown)}: no such benchmark; choose from {', '.join(benches)}")
    before, rows, seconds = machine(), [], {}
    if before["busy_cores"] > 0.25 or before["other_work"]:
        print(
            f"warning: {before['busy_cores']:.2f} cores busy with other work before starting:",
            *before["other_work"],
            "figures may be skewed",
            sep="\n  ",
            flush=True,
        )
    for name, bench in benches.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        try:
            rows += bench()
        except Exception as err:  # one broken benchmark must not hide the others' figures
            rows.append({**row(name, None, ""), "note": f"error: {type(err).__name__}: {err}"})
        seconds[name] = time.perf_counter() - t0
    after = machine()
    print()
    print_table(rows)
    print(
        f"\n{sum(seconds.values()):.0f} s in all on {before['cpu_count']} CPUs; cores busy "
        f"before {before['busy_cores']:.2f}, after {after['busy_cores']:.2f}; load average "
        f"{before['loadavg'][0]:.2f} before, {after['loadavg'][0]:.2f} after"
    )
    if before["other_work"] or after["other_work"]:
        print(
            "other heavy work was running, figures may be skewed:",
            *sorted(set(before["other_work"] + after["other_work"])),
            sep="\n  ",
        )
    summary = {
        "rows": rows,
        "seconds": seconds,
        "quick": args.quick,
        "git": _git(),
        "python": platform.python_version(),
        "machine_before": before,
        "machine_after": after,
    }
    write_json(args.json, summary)
    print(f"wrote {args.json}")
    return summary


if __name__ == "__main__":
    main()
