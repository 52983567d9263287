"""Tests for per-case scores (split.group_by): a case's slices scored as one volume, as the
Decathlon, BraTS and KiTS report Dice per case, beside the per-slice means."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

H, W = 20, 20


def _slices() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Target and prediction per slice. Case p1: a 100 px object found, a 4 px one missed
    (Dice 1 and 0; as one volume 200/204). Case p2: half of 100 px found (2/3), then an empty
    slice (1 by convention; the volume 2/3). Case p3: no foreground anywhere (1)."""
    out = {}
    for name, target_px, pred_px in (("p1_0", 100, 100), ("p1_1", 4, 0), ("p2_0", 100, 50),
                                     ("p2_1", 0, 0), ("p3_0", 0, 0), ("p3_1", 0, 0)):
        t, p = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
        t.flat[:target_px], p.flat[:pred_px] = 1, 1
        out[name] = (t, p)
    return out


def _evaluate(tmp_path: Path, group_by: str | None, regions: dict | None = None,
              out: str = "a", folders: bool = False, names: list[str] | None = None) -> dict:
    """evaluate_masks on the six slices, hand-written manifest and meta."""
    from unet.evaluate.evaluate import evaluate_masks

    (tmp_path / "pred").mkdir(exist_ok=True)
    pairs = []
    for i, (t, p) in _slices().items():
        Image.fromarray(t).save(tmp_path / f"{i}_gt.png")
        Image.fromarray(p).save(tmp_path / "pred" / f"{i}.png")
        image = tmp_path / "images" / i[:2] / f"{i}.png" if folders else tmp_path / f"{i}.png"
        pairs.append({"id": i, "mask": str(tmp_path / f"{i}_gt.png"), "image": str(image)})
    manifest = {"root": str(tmp_path / "images"), "pairs": pairs}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    meta = {"class_values": [0, 1], "splits": {"test": {"ids": sorted(_slices())}}}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    (tmp_path / out).mkdir(exist_ok=True)
    return evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                          {"raw": tmp_path / "pred"}, tmp_path / out / "per_image.csv",
                          tmp_path / out / "summary.json", class_names=names, regions=regions,
                          group_by=group_by,
                          cases_csv=tmp_path / out / "per_case.csv" if group_by else None)


P1, P2 = 200 / 204, 2 / 3  # each case's Dice of class 1, its slices' counts summed


def test_per_case_dice_sums_a_case_slices(tmp_path):
    summary = _evaluate(tmp_path, r"^(p\d+)_\d+$", {"tumour": [1]})
    per_slice = summary["methods"]["raw"]["classes"]["1"]["mean_positive"]["dice"]
    cases = summary["per_case"]
    assert cases["cases"] == 3 and cases["group_by"] == r"^(p\d+)_\d+$"
    raw = cases["methods"]["raw"]
    dice = raw["classes"]["1"]
    assert dice["mean"]["dice"] == pytest.approx((P1 + P2 + 1) / 3)
    assert dice["mean_positive"]["dice"] == pytest.approx((P1 + P2) / 2)
    assert dice["positive"] == 2
    assert per_slice == pytest.approx((1 + 0 + P2) / 3)  # the per-slice figure differs
    assert raw["foreground_dice_mean"] == pytest.approx((P1 + P2 + 1) / 3)
    assert raw["foreground_dice_mean_positive"] == pytest.approx((P1 + P2) / 2)
    region = raw["regions"]["tumour"]
    assert region["mean"]["dice"] == pytest.approx((P1 + P2 + 1) / 3)
    assert region["mean_positive"]["dice"] == pytest.approx((P1 + P2) / 2)
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["per_case"] == cases
    rows = list(csv.DictReader((tmp_path / "a" / "per_case.csv").read_text().splitlines()))
    got = {(r["case"], r["class"]): r for r in rows}
    assert float(got["p1", "1"]["dice"]) == pytest.approx(P1)
    assert got["p1", "1"]["images"] == "2" and got["p1", "1"]["target_px"] == "104"
    assert float(got["p2", "tumour"]["dice"]) == pytest.approx(P2)
    assert float(got["p3", "1"]["dice"]) == 1


def test_per_case_folder_groups_named_below_the_root(tmp_path):
    summary = _evaluate(tmp_path, "folder", folders=True)
    assert summary["per_case"]["cases"] == 3
    rows = list(csv.DictReader((tmp_path / "a" / "per_case.csv").read_text().splitlines()))
    assert sorted({r["case"] for r in rows}) == ["p1", "p2", "p3"]


def test_ungrouped_outputs_unchanged(tmp_path):
    plain = _evaluate(tmp_path, None, out="a")
    grouped = _evaluate(tmp_path, r"^(p\d+)_", out="b")
    assert "per_case" not in plain and not (tmp_path / "a" / "per_case.csv").exists()
    grouped.pop("per_case")
    assert grouped == plain
    for name in ("per_image.csv",):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_per_case_pixel_accuracy_counts_the_case_pixels(tmp_path):
    # Inria Aerial Image Labeling scores IoU and accuracy per city over all its pixels; with
    # split.group_by naming the city, per_case.csv gave the IoU but no accuracy at all.
    _evaluate(tmp_path, r"^(p\d+)_\d+$")
    rows = list(csv.DictReader((tmp_path / "a" / "per_case.csv").read_text().splitlines()))
    got = {(r["case"], r["class"]): float(r["pixel_accuracy"]) for r in rows}
    area = 2 * H * W  # two slices a case
    assert got["p1", "1"] == pytest.approx((area - 4) / area)  # the 4 px object missed
    assert got["p2", "0"] == pytest.approx((area - 50) / area)  # half of 100 px missed
    assert got["p3", "1"] == 1.0


def test_per_case_and_per_image_rows_name_their_class(tmp_path):
    # summary.json and metrics.tsv named the classes; the CSVs gave only numbers and values
    _evaluate(tmp_path, r"^(p\d+)_\d+$", {"lesion": [1]}, names=["background", "tumour"])
    for table, key in (("per_case.csv", "case"), ("per_image.csv", "id")):
        rows = list(csv.DictReader((tmp_path / "a" / table).read_text().splitlines()))
        got = {(r[key], r["class"]): r["name"] for r in rows}
        first = rows[0][key]
        assert got[first, "0"] == "background" and got[first, "1"] == "tumour", table
        if table == "per_case.csv":
            assert got[first, "lesion"] == "lesion"  # a region's row: its own name
    _evaluate(tmp_path, r"^(p\d+)_\d+$", out="b")  # no names given: blank, same columns
    rows = list(csv.DictReader((tmp_path / "b" / "per_image.csv").read_text().splitlines()))
    assert {r["name"] for r in rows} == {""}
