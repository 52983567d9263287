"""evaluate.relaxed_slack through Snakemake on the tiny run: set, it reruns only the evaluation
and the report, and summary.json, per_image.csv and metrics.tsv carry the relaxed scores."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import TINY, snakemake

pytestmark = pytest.mark.workflow
EXP = "results/synthetic/baseline"


def test_the_slack_reruns_only_the_evaluation_and_reaches_summary_json(tiny_run: Path, tmp_path):
    wd = tmp_path / "wf"  # a copy: the shared run's outputs stay as they were
    shutil.copytree(tiny_run, wd, symlinks=True)
    (wd / "roads.yaml").write_text("evaluate: {relaxed_slack: 3}\n")
    args = ("--cores", "2", "--configfile", TINY, "roads.yaml")
    planned = snakemake(wd, *args, "-n").stdout
    assert "evaluate_masks" in planned
    assert not any(r in planned for r in ("train_unet", "predict_masks", "refine_crf"))
    snakemake(wd, f"{EXP}/report/metrics.tsv", *args)  # the target before --configfile
    summary = json.loads((wd / EXP / "metrics/summary.json").read_text())
    got = summary["relaxed"]
    assert got["slack_px"] == 3 and set(got["methods"]) == set(summary["methods"])
    raw = got["methods"]["raw"]["classes"]["1"]
    # a slack only forgives: relaxed precision is at least the plain pixel precision
    assert raw["precision"] >= summary["methods"]["raw"]["classes"]["1"]["global"]["precision"]
    with open(wd / EXP / "metrics/per_image.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["method"] == "raw" and r["class"] == "1"]
    assert len(rows) == summary["images"] and all(r["relaxed_recall"] for r in rows)
    with open(wd / EXP / "report/metrics.tsv") as f:
        table = {(r["method"], r["class"]): r for r in csv.DictReader(f, delimiter="\t")}
    assert table[("raw", "1")]["relaxed_precision"] == f"{raw['precision']:.4f}"
