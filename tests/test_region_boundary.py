"""evaluate.regions' HD95 and boundary F1: each region's union measured per image, as a class
is, into summary.json's regions and metrics.tsv's region rows."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from tests.test_regions import BRATS, _brats_pair, _evaluate


def _reference(classes: list[int]) -> tuple[float, float]:
    """The class path's 2-D HD95 and boundary F1 of the region's union in image a."""
    from unet.evaluate.boundary import boundary_f1, hd95
    target, pred = _brats_pair()
    return hd95(np.isin(pred, classes), np.isin(target, classes)), boundary_f1(
        np.isin(pred, classes), np.isin(target, classes), 2)


def test_regions_score_hd95_and_boundary_f1_of_the_union(tmp_path):
    summary = _evaluate(tmp_path, BRATS)
    raw = summary["regions"]["methods"]["raw"]
    for name, values in BRATS.items():
        hd, bf1 = _reference(values)
        assert hd > 0 and bf1 < 1  # none of the three is found exactly
        s = raw[name]
        # image b holds no scored class: HD95 0 and boundary F1 1 by the convention, counted
        # in mean_per_image as for a class; mean_positive is image a's alone
        assert s["mean_positive"]["hd95"] == pytest.approx(hd)
        assert s["mean_positive"]["boundary_f1"] == pytest.approx(bf1)
        assert s["mean_per_image"]["hd95"] == pytest.approx(hd / 2)
        assert s["mean_per_image"]["boundary_f1"] == pytest.approx((bf1 + 1) / 2)
        assert s["hd95_penalised"] == 0
    # a region of one class scores as that class does
    enhancing = summary["methods"]["raw"]["classes"]["3"]["mean_positive"]
    assert raw["enhancing"]["mean_positive"]["hd95"] == pytest.approx(enhancing["hd95"])


def test_a_missed_region_counts_the_image_diagonal():
    from unet.evaluate.regions import summarise_regions
    cm = np.zeros((4, 4), np.int64)
    cm[0, 0], cm[3, 0] = 10, 5  # class 3 in the target only: the region is missed
    scores = {"confusion": cm, "regions": {"et": (math.inf, 0.0)}}
    got = summarise_regions([{"id": "x", "diagonal": 50.0, "scores": {"raw": scores}}],
                            ["raw"], {"et": [3]})["raw"]["et"]
    assert got["mean_per_image"]["hd95"] == 50.0 and got["hd95_penalised"] == 1
    assert got["mean_positive"]["boundary_f1"] == 0.0


def test_region_boundary_of_a_missed_union_is_inf():
    from unet.evaluate.boundary import region_boundary
    target, pred = _brats_pair()
    pred[pred == 4] = 0  # enhancing tumour not predicted at all
    assert region_boundary(pred, target, [3, 4], 255, 2) == (math.inf, 0.0)
    assert region_boundary(pred, pred, [4], 255, 2) == (0.0, 1.0)  # in neither


def test_the_report_table_fills_region_hd95(tmp_path):
    from unet.report.plot import metrics_table
    summary = _evaluate(tmp_path, BRATS)
    metrics_table(summary, tmp_path / "metrics.tsv")
    rows = list(csv.DictReader((tmp_path / "metrics.tsv").read_text().splitlines(),
                               delimiter="\t"))
    wt = next(r for r in rows if r["name"] == "whole_tumour")
    assert float(wt["mean_hd95"]) == pytest.approx(_reference(BRATS["whole_tumour"])[0] / 2,
                                                   abs=1e-4)
    assert wt["mean_boundary_f1"] != ""
