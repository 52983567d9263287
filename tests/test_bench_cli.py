"""`python -m benchmarks.bench_NAME --quick`, as benchmarks/README.md documents for every module:
the smaller sizes and the table, not the full sizes or an argparse error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _quick(module: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", f"benchmarks.{module}", "--quick", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_crf_classes_takes_quick_and_prints_the_table() -> None:
    # --quick was ignored: the full 683x512 image, three repeats, printed as raw dicts
    proc = _quick("bench_crf_classes")
    assert proc.returncode == 0, proc.stderr
    assert "171x128, 150 classes" in proc.stdout and "683x512" not in proc.stdout
    assert proc.stdout.splitlines()[0].split()[:3] == ["name", "figure", "baseline"]


def test_predict_many_takes_quick_beside_n() -> None:
    # --quick was refused: 'unrecognized arguments: --quick'
    proc = _quick("bench_predict_many", "-n", "4")
    assert proc.returncode == 0, proc.stderr
    assert "predict_folder, 4 images, batch 8" in proc.stdout
    assert proc.stdout.splitlines()[0].split()[:3] == ["name", "figure", "baseline"]
