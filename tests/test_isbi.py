"""The whole pipeline on real data: ISBI 2012 EM membranes (grayscale, labels 0/255)."""

from __future__ import annotations

import csv
import json

import pytest

from tests.conftest import copy_workflow, real_data, snakemake

pytestmark = pytest.mark.workflow

SMALL = """
dataset: {{local: {{path: "{path}"}}}}
preprocess: {{width: 64, height: 64}}
model: {{depth: 2, base_width: 4}}
train: {{epochs: 2, batch_size: 4, max_minutes: 0, device: cpu,
        augment: {{crop: [48, 48], rot90: true}}}}
predict: {{tta: false, device: cpu}}
crf: {{iterations: 2}}
"""


def test_isbi_pipeline_reports_membrane_and_cell(tmp_path):
    data = real_data("isbi2012-membrane")
    wd = copy_workflow(tmp_path)
    (wd / "small.yaml").write_text(SMALL.format(path=data))
    snakemake(
        wd,
        "--cores",
        "2",
        "--resources",
        "gpu=1",
        "--configfile",
        "config/isbi2012.yaml",
        "small.yaml",
    )
    exp = wd / "results/isbi2012/baseline"
    split = json.loads((wd / "results/isbi2012/split.json").read_text())
    assert split["test"] == ["24", "25", "26", "27", "28", "29"]
    meta = json.loads((wd / "results/isbi2012/cache/meta.json").read_text())
    assert meta["in_channels"] == 1 and meta["class_values"] == [255, 0]
    summary = json.loads((exp / "metrics/summary.json").read_text())
    assert summary["images"] == 6
    with open(exp / "report/metrics.tsv") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    # Both classes, by their grey values: 255 = cell, 0 = membrane (the minority).
    assert {(r["method"], r["value"]) for r in rows} == {
        (m, v) for m in ("raw", "crf") for v in ("255", "0")
    }
    for r in rows:
        assert 0.0 <= float(r["global_dice"]) <= 1.0
