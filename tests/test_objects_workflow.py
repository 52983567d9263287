"""evaluate.objects through Snakemake on the tiny run: set, it reruns only the evaluation and
the report, and summary.json, per_image.csv and metrics.tsv carry the object scores."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import TINY, snakemake

pytestmark = pytest.mark.workflow
EXP = "results/synthetic/baseline"


def rerun_evaluation(tiny_run: Path, tmp_path: Path, setting: str) -> tuple[Path, dict]:
    """A copy of the tiny run with the evaluate `setting` (YAML) added: it plans the evaluation
    again and nothing before it, runs to the report's metrics.tsv, and gives the experiment's
    folder and summary.json (also test_relaxed_workflow's)."""
    wd = tmp_path / "wf"  # a copy: the shared run's outputs stay as they were
    shutil.copytree(tiny_run, wd, symlinks=True)
    (wd / "setting.yaml").write_text(setting)
    args = ("--cores", "2", "--configfile", TINY, "setting.yaml")
    planned = snakemake(wd, *args, "-n").stdout
    assert "evaluate_masks" in planned
    assert not any(r in planned for r in ("train_unet", "predict_masks", "refine_crf"))
    snakemake(wd, f"{EXP}/report/metrics.tsv", *args)  # the target before --configfile
    return wd / EXP, json.loads((wd / EXP / "metrics/summary.json").read_text())


def test_objects_rerun_only_the_evaluation_and_reach_every_table(tiny_run: Path, tmp_path):
    exp, summary = rerun_evaluation(tiny_run, tmp_path, "evaluate: {objects: true}\n")
    assert summary["objects_source"] == ["8-connected components of the ground truth"]
    assert "IoU > 0.5" in summary["objects_rule"]
    raw = summary["methods"]["raw"]["objects"]["1"]
    for m in ("raw", "crf", "final"):
        s = summary["methods"][m]["objects"]["1"]
        assert s["tp"] + s["fn"] == s["true"] and s["tp"] + s["fp"] == s["predicted"]
        assert s["images"] + s["images_empty"] == summary["images"]
    with open(exp / "metrics/per_image.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["method"] == "raw" and r["class"] == "1"]
    assert sum(int(r["objects_tp"]) for r in rows) == raw["tp"]
    with open(exp / "report/metrics.tsv") as f:
        table = {(r["method"], r["class"]): r for r in csv.DictReader(f, delimiter="\t")}
    assert table[("raw", "1")]["objects_fn"] == str(raw["fn"])
    assert table[("raw", "0")]["objects_fn"] == ""
