"""evaluate.objects in 3-D where runs are compared: metrics.tsv's and experiments.tsv's
per_case_objects_* columns hold the cases' 3-D object figures beside the 2-D ones, and are
absent (the files as before) where no 3-D objects were computed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.test_objects3d import _cases, _evaluate
from unet.report.compare import compare_experiments
from unet.report.plot import metrics_table


def _tsv(path: Path) -> list[dict]:
    return list(csv.DictReader(path.read_text().splitlines(), delimiter="\t"))


def test_3d_objects_reach_metrics_and_experiments_tsv(tmp_path):
    """The 3-D counts (an object over 3 slices one TP, not 3) were only in summary.json and
    per_case.csv: the tables a user compares runs by showed the 2-D slices' figures alone."""
    summary = _evaluate(tmp_path, _cases())
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    metrics_table(summary, tmp_path / "m.tsv")
    row = next(r for r in _tsv(tmp_path / "m.tsv") if r["class"] == "1")
    # per case: TP 2, FP 2, FN 1 (test_objects3d); per slice: 11 true objects, 7 found
    assert (row["objects_tp"], row["per_case_objects_tp"]) == ("7", "2")
    assert (row["per_case_objects_fp"], row["per_case_objects_fn"]) == ("2", "1")
    assert float(row["per_case_objects_f1"]) == pytest.approx(4 / 7, abs=1e-4)
    assert next(r for r in _tsv(tmp_path / "m.tsv") if r["class"] == "0")[
        "per_case_objects_tp"] == ""  # background: no objects
    compare_experiments({"e": tmp_path / "summary.json"}, tmp_path / "e.tsv")
    e = _tsv(tmp_path / "e.tsv")[0]
    assert float(e["per_case_objects_f1"]) == pytest.approx(4 / 7, abs=1e-4)
    assert float(e["per_case_objects_panoptic_quality"]) == pytest.approx(1.6 / 3.5, abs=1e-4)
    assert e["per_case_objects_dsb_score"] != ""


@pytest.mark.parametrize(("objects", "spacing"), [(True, None), (False, [1, 1, 1])])
def test_no_3d_objects_no_columns(tmp_path, objects, spacing):
    summary = _evaluate(tmp_path, _cases(), objects=objects, spacing=spacing)
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    metrics_table(summary, tmp_path / "m.tsv")
    compare_experiments({"e": tmp_path / "summary.json"}, tmp_path / "e.tsv")
    for name in ("m.tsv", "e.tsv"):
        assert "per_case_objects" not in (tmp_path / name).read_text()
    # and the files are those of the summary without per_case's 3-D keys: nothing else moved
    assert ("objects_tp" in (tmp_path / "m.tsv").read_text()) == objects


@pytest.mark.parametrize("name", ["table.rst", "experiments.rst"])
def test_the_captions_name_the_3d_columns_where_they_are(name):
    from tests.test_objects_experiments import _rendered

    on = {"objects": True, "voxel_spacing": [1, 1, 1]}
    assert "per_case_objects_dsb_score" in _rendered(name, {"evaluate": on,
                                                            "split": {"group_by": "x"}})
    for config in ({"evaluate": on}, {"evaluate": {"objects": True}, "split": {"group_by": "x"}},
                   {"evaluate": {"voxel_spacing": [1, 1, 1]}, "split": {"group_by": "x"}}):
        assert "per_case_objects" not in _rendered(name, config)
    if name == "table.rst":  # split and merge counts explained beside TP/FP/FN
        text = _rendered(name, {"evaluate": {"objects": True}})
        assert "objects_split" in text and "objects_merged" in text
