"""evaluate.relaxed_slack through Snakemake on the tiny run: set, it reruns only the evaluation
and the report, and summary.json, per_image.csv and metrics.tsv carry the relaxed scores."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_objects_workflow import rerun_evaluation

pytestmark = pytest.mark.workflow


def test_the_slack_reruns_only_the_evaluation_and_reaches_summary_json(tiny_run: Path, tmp_path):
    exp, summary = rerun_evaluation(tiny_run, tmp_path, "evaluate: {relaxed_slack: 3}\n")
    got = summary["relaxed"]
    assert got["slack_px"] == 3 and set(got["methods"]) == set(summary["methods"])
    raw = got["methods"]["raw"]["classes"]["1"]
    # a slack only forgives: relaxed precision is at least the plain pixel precision
    assert raw["precision"] >= summary["methods"]["raw"]["classes"]["1"]["global"]["precision"]
    with open(exp / "metrics/per_image.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["method"] == "raw" and r["class"] == "1"]
    assert len(rows) == summary["images"] and all(r["relaxed_recall"] for r in rows)
    with open(exp / "report/metrics.tsv") as f:
        table = {(r["method"], r["class"]): r for r in csv.DictReader(f, delimiter="\t")}
    assert table[("raw", "1")]["relaxed_precision"] == f"{raw['precision']:.4f}"
