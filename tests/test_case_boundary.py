"""Per-case HD95 and boundary F1 (split.group_by with evaluate.voxel_spacing): a case's slices
stacked in id order as one volume and measured over its 3-D surface in the spacing's unit, into
summary.json's per_case and per_case.csv; without the spacing (a patient's unrelated images)
none is measured."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

D, H, W = 12, 8, 8  # slices per case, slice size


def _cube(first: int) -> np.ndarray:
    """(D, H, W) uint8: a 2x2x2 cube of class 1 from slice `first`."""
    v = np.zeros((D, H, W), np.uint8)
    v[first:first + 2, 1:3, 1:3] = 1
    return v


# case a: the prediction 5 slices past the target (slices 4-5 and 9-10: "a_10" sorts before
# "a_2" as text); case b: both empty; case c: the target's cube missed
CASES = {"a": (_cube(4), _cube(9)), "b": (np.zeros((D, H, W), np.uint8),) * 2,
         "c": (_cube(4), np.zeros((D, H, W), np.uint8))}


def _evaluate(tmp_path: Path, group_by: str | None, regions: dict | None = None,
              spacing: list[float] | None = (1, 1, 1), ignore: int | None = None) -> dict:
    """evaluate_masks on the three cases' slices, hand-written manifest and meta (`ignore`:
    its ignore_value)."""
    from unet.evaluate.evaluate import evaluate_masks

    (tmp_path / "pred").mkdir(exist_ok=True)
    pairs = []
    for case, (target, pred) in CASES.items():
        for z in range(D):
            i = f"{case}_{z}"
            Image.fromarray(target[z]).save(tmp_path / f"{i}_gt.png")
            Image.fromarray(pred[z]).save(tmp_path / "pred" / f"{i}.png")
            pairs.append({"id": i, "mask": str(tmp_path / f"{i}_gt.png"),
                          "image": str(tmp_path / f"{i}.png")})
    (tmp_path / "manifest.json").write_text(json.dumps({"pairs": pairs}))
    meta = {"class_values": [0, 1], "splits": {"test": {"ids": sorted(p["id"] for p in pairs)}},
            "ignore_value": ignore}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    return evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                          {"raw": tmp_path / "pred"}, tmp_path / "per_image.csv",
                          tmp_path / "summary.json", regions=regions, group_by=group_by,
                          cases_csv=tmp_path / "per_case.csv" if group_by else None,
                          voxel_spacing=spacing)


DIAGONAL = math.sqrt(D * D + H * H + W * W)  # case c's penalty: its volume's diagonal


def test_per_case_hd95_is_the_stacked_volume_s(tmp_path):
    summary = _evaluate(tmp_path, r"^([a-z])_\d+$", {"tumour": [1]})
    rows = list(csv.DictReader((tmp_path / "per_case.csv").read_text().splitlines()))
    got = {(r["case"], r["class"]): r for r in rows}
    # the 2-D class path sees each slice in one mask only (inf); the volume's surfaces are 5
    # slices apart (half its voxels 4, half 5: the 95th percentile 5)
    assert float(got["a", "1"]["hd95"]) == 5 and float(got["a", "1"]["boundary_f1"]) == 0
    assert float(got["a", "tumour"]["hd95"]) == 5
    assert (got["b", "1"]["hd95"], got["b", "1"]["boundary_f1"]) == ("0", "1")
    assert (got["c", "1"]["hd95"], got["c", "1"]["boundary_f1"]) == ("inf", "0")
    raw = summary["per_case"]["methods"]["raw"]
    for s in (raw["classes"]["1"], raw["regions"]["tumour"]):
        assert s["mean"]["hd95"] == pytest.approx((5 + 0 + DIAGONAL) / 3)
        assert s["mean_positive"]["hd95"] == pytest.approx((5 + DIAGONAL) / 2)
        assert s["mean"]["boundary_f1"] == pytest.approx(1 / 3)
        assert s["hd95_penalised"] == 1
    assert "stacked" in summary["per_case"]["rule"]
    assert json.loads((tmp_path / "summary.json").read_text())["per_case"] == summary["per_case"]


def test_hd95_in_the_spacing_s_unit(tmp_path):
    # a CT of 2.5 mm slices: the cubes 5 slices apart are 12.5 mm apart, the penalty of a
    # missed cube the volume's diagonal in mm, and the summary says the unit
    summary = _evaluate(tmp_path, r"^([a-z])_\d+$", spacing=[2.5, 0.5, 0.5])
    rows = list(csv.DictReader((tmp_path / "per_case.csv").read_text().splitlines()))
    got = {(r["case"], r["class"]): r for r in rows}
    assert float(got["a", "1"]["hd95"]) == pytest.approx(12.5)
    diagonal = math.sqrt((D * 2.5) ** 2 + (H * 0.5) ** 2 + (W * 0.5) ** 2)
    mean = summary["per_case"]["methods"]["raw"]["classes"]["1"]["mean"]["hd95"]
    assert mean == pytest.approx((12.5 + 0 + diagonal) / 3)
    assert summary["per_case"]["voxel_spacing"] == [2.5, 0.5, 0.5]
    assert "evaluate.voxel_spacing" in summary["per_case"]["rule"]


def test_groups_without_spacing_measure_no_volume(tmp_path):
    # split.group_by also keeps a patient's unrelated 2-D images together: stacked, they make
    # no volume, so without evaluate.voxel_spacing no hd95 is written, only Dice per case
    summary = _evaluate(tmp_path, r"^([a-z])_\d+$", {"tumour": [1]}, spacing=None)
    header = (tmp_path / "per_case.csv").read_text().splitlines()[0].split(",")
    assert "dice" in header and "hd95" not in header and "boundary_f1" not in header
    cases = summary["per_case"]
    assert "hd95" not in cases["methods"]["raw"]["classes"]["1"]["mean"]
    assert "hd95" not in cases["methods"]["raw"]["regions"]["tumour"]["mean"]
    assert "voxel_spacing" not in cases and "stacked" not in cases["rule"]
    assert "evaluate.voxel_spacing" in cases["rule"]  # says why there is no HD95


def test_without_groups_no_case_boundaries(tmp_path):
    summary = _evaluate(tmp_path, None)
    assert "per_case" not in summary and not (tmp_path / "per_case.csv").exists()


def test_report_shows_case_hd95_and_a_per_case_dice_chart(tmp_path):
    from unet.report.case_chart import read_case_dice
    from unet.report.plot import metrics_table
    summary = _evaluate(tmp_path, r"^([a-z])_\d+$", {"tumour": [1]})
    metrics_table(summary, tmp_path / "metrics.tsv")
    rows = list(csv.DictReader((tmp_path / "metrics.tsv").read_text().splitlines(),
                               delimiter="\t"))
    got = {r["name"] if r["class"] == "region" else r["class"]: r for r in rows}
    for key in ("1", "tumour"):
        assert float(got[key]["per_case_hd95_mean"]) == pytest.approx((5 + DIAGONAL) / 3,
                                                                      abs=1e-4)
        assert float(got[key]["per_case_boundary_f1_mean"]) == pytest.approx(1 / 3, abs=1e-4)
    # the chart's dots: each case's Dice, none for case b (no tumour in target or prediction)
    dice = read_case_dice(tmp_path / "per_case.csv", summary)["raw"]
    assert list(dice) == ["class 1", "region\ntumour"]
    assert np.array_equal(dice["class 1"], [0.0, np.nan, 0.0], equal_nan=True)


def test_plot_results_draws_the_chart_only_with_cases(tmp_path):
    from unet.report.case_chart import plot_case_dice
    summary = _evaluate(tmp_path, r"^([a-z])_\d+$", {"tumour": [1]})
    plot_case_dice(tmp_path / "per_case.csv", summary, tmp_path / "cases.png")
    from PIL import Image as Img
    assert Img.open(tmp_path / "cases.png").size[0] > 100


def test_an_all_ignored_slice_keeps_its_place_in_the_volume(tmp_path):
    # slice 6 of the case is all masks.ignore (a damaged slice, or sparse annotation): it is
    # not scored in 2-D, but it still lies between slices 5 and 7; dropped from the stack, the
    # prediction at 7-8 sat 2 slices from the target at 4-5, not 3
    from unet.evaluate.evaluate import evaluate_masks

    target, pred = _cube(4), _cube(7)
    target[6] = 255
    (tmp_path / "pred").mkdir()
    pairs = []
    for z in range(D):
        Image.fromarray(target[z]).save(tmp_path / f"a_{z}_gt.png")
        Image.fromarray(pred[z]).save(tmp_path / "pred" / f"a_{z}.png")
        pairs.append({"id": f"a_{z}", "mask": str(tmp_path / f"a_{z}_gt.png"),
                      "image": str(tmp_path / f"a_{z}.png")})
    (tmp_path / "manifest.json").write_text(json.dumps({"pairs": pairs}))
    meta = {"class_values": [0, 1], "ignore_value": 255,
            "splits": {"test": {"ids": [p["id"] for p in pairs]}}}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json", {"raw": tmp_path / "pred"},
                   tmp_path / "per_image.csv", tmp_path / "summary.json",
                   group_by=r"^([a-z])_\d+$", cases_csv=tmp_path / "per_case.csv",
                   voxel_spacing=[1, 1, 1])
    rows = list(csv.DictReader((tmp_path / "per_case.csv").read_text().splitlines()))
    got = {r["class"]: r for r in rows}
    assert float(got["1"]["hd95"]) == 3  # surfaces 2 and 3 slices apart: 95th percentile 3


def test_the_rule_gives_the_spacing_s_unit_not_always_mm():
    from unet.evaluate.volume import volume_rule

    # Synapse's files record no voxel size: 1, 1, 1 measures HD95 in voxels, not mm
    ones = volume_rule([1, 1, 1])
    assert "in voxels" in ones and "mm for a scan" not in ones, ones
    ct = volume_rule([2.5, 0.5, 0.5])
    assert "units of evaluate.voxel_spacing" in ct and "2.5, 0.5, 0.5" in ct, ct
