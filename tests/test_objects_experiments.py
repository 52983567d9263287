"""evaluate.objects where runs are compared: experiments.tsv's object F1, PQ and DSB score and
the table captions naming the objects_* columns; with objects off, both as before."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from jinja2 import Environment
from PIL import Image

REPORT = Path(__file__).resolve().parents[1] / "report"


def _evaluate(tmp_path: Path, out: str, objects: bool) -> Path:
    """evaluate_masks on one 3-class image: class 1's two nuclei (9 and 3 px) predicted as one
    15-px blob (IoU 0.6 and 0.2: TP 1, FN 1), class 2's square predicted exactly."""
    from unet.evaluate.evaluate import evaluate_masks

    target = np.zeros((8, 12), np.uint8)
    target[1:4, 1:4], target[1:4, 5:6], target[5:7, 8:11] = 1, 1, 2
    pred = target.copy()
    pred[1:4, 1:6] = 1
    (tmp_path / "pred").mkdir(exist_ok=True)
    Image.fromarray(target).save(tmp_path / "a_gt.png")
    Image.fromarray(pred).save(tmp_path / "pred" / "a.png")
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"pairs": [{"id": "a", "mask": str(tmp_path / "a_gt.png")}]}))
    (tmp_path / "meta.json").write_text(json.dumps(
        {"class_values": [0, 1, 2], "splits": {"test": {"ids": ["a"]}}}))
    (tmp_path / out).mkdir()
    evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                   {"raw": tmp_path / "pred"}, tmp_path / out / "per_image.csv",
                   tmp_path / out / "summary.json", objects=objects)
    return tmp_path / out / "summary.json"


def _tsv(path: Path) -> list[dict]:
    return list(csv.DictReader(path.read_text().splitlines(), delimiter="\t"))


def test_experiments_tsv_shows_the_object_scores_where_objects_are_on(tmp_path):
    """experiments.tsv, where runs are ranked, held no object score: a run scored by objects
    (nuclei) was compared on pixel Dice alone, which a merged pair scores perfect."""
    from unet.report.compare import compare_experiments

    on, off = _evaluate(tmp_path, "on", True), _evaluate(tmp_path, "off", False)
    compare_experiments({"on": on, "off": off}, tmp_path / "e.tsv")
    rows = {r["experiment"]: r for r in _tsv(tmp_path / "e.tsv")}
    # class 1: F1 2/3, PQ 0.6 / 1.5, DSB (1/2 + 1/2) / 10; class 2: all 1; the classes' mean
    assert float(rows["on"]["objects_f1"]) == pytest.approx((2 / 3 + 1) / 2, abs=1e-4)
    assert float(rows["on"]["objects_panoptic_quality"]) == pytest.approx((0.4 + 1) / 2,
                                                                          abs=1e-4)
    assert float(rows["on"]["objects_dsb_score"]) == pytest.approx((0.1 + 1) / 2, abs=1e-4)
    assert rows["off"]["objects_f1"] == rows["off"]["objects_dsb_score"] == ""  # not zeros


def test_experiments_tsv_shows_seg_where_some_run_reports_it(tmp_path):
    """SEG (CTC's measure) was in summary.json and metrics.tsv but not experiments.tsv, where
    runs are ranked; a summary written before SEG gets a blank, and none has no column."""
    from unet.report.compare import compare_experiments

    on = _evaluate(tmp_path, "on", True)
    old = json.loads(on.read_text())
    for c in old["methods"]["raw"]["objects"].values():
        del c["seg"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    compare_experiments({"on": on, "old": tmp_path / "old.json"}, tmp_path / "e.tsv")
    rows = {r["experiment"]: r for r in _tsv(tmp_path / "e.tsv")}
    # class 1: nucleus 9 px IoU 9/15, nucleus 3 px IoU 3/15 (the blob covers both): (0.6 +
    # 0.2) / 2; class 2: 1; the classes' mean
    assert float(rows["on"]["objects_seg"]) == pytest.approx((0.4 + 1) / 2, abs=1e-4)
    assert rows["old"]["objects_seg"] == "" and rows["old"]["objects_f1"] != ""
    compare_experiments({"old": tmp_path / "old.json"}, tmp_path / "o.tsv")
    assert "objects_f1" in (tmp_path / "o.tsv").read_text()
    assert "seg" not in (tmp_path / "o.tsv").read_text()


def test_experiments_tsv_without_objects_is_unchanged(tmp_path):
    from unet.report.compare import compare_experiments

    compare_experiments({"e": _evaluate(tmp_path, "off", False)}, tmp_path / "p.tsv")
    assert "objects" not in (tmp_path / "p.tsv").read_text()


def _rendered(name: str, config: dict) -> str:
    job = SimpleNamespace(wildcards=SimpleNamespace(experiment="e"), config=config)
    text = Environment(trim_blocks=True, lstrip_blocks=True).from_string(
        (REPORT / name).read_text()).render(snakemake=job)
    return " ".join(text.split())


@pytest.mark.parametrize("name, columns", [
    ("table.rst", ("objects_tp", "objects_dsb_score", "objects_panoptic_quality")),
    ("experiments.rst", ("objects_f1", "objects_dsb_score", "objects_panoptic_quality"))])
def test_the_captions_describe_the_object_columns_where_objects_are_on(name, columns):
    """metrics.tsv's objects_tp ... objects_dsb_score columns were in no caption: a reader met
    nine columns the report did not explain (what a match is, what DSB averages)."""
    on = _rendered(name, {"evaluate": {"objects": True}})
    assert all(c in on for c in columns), on
    assert "IoU > 0.5" in on
    assert "objects_" not in _rendered(name, {"evaluate": {"objects": False}})
    assert "objects_" not in _rendered(name, {})
