"""Tests for unet.evaluate: per-image scoring, the summary's means and the per-image CSV."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from unet.common.labels import MaskMapping
from unet.common.maskio import write_mask_png
from unet.evaluate.evaluate import ScoreJob, score_image, summarise, write_rows
from unet.evaluate.metrics import EMPTY_MASK_CONVENTION
from unet.report.plot import metrics_table

H, W = 30, 40  # diagonal 50 px
MAPPING = MaskMapping((0, 255))


def _square(y0: int, x0: int, side: int) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[y0 : y0 + side, x0 : x0 + side] = 255
    return m


def _score(tmp_path: Path, pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[dict]:
    """Write each (target, pred) pair as PNGs and score it as evaluate() does."""
    results = []
    for image_id, (target, pred) in pairs.items():
        gt, raw = tmp_path / f"{image_id}_gt.png", tmp_path / f"{image_id}_raw.png"
        write_mask_png(gt, target)
        write_mask_png(raw, pred)
        results.append(score_image(ScoreJob(image_id, str(gt), {"raw": str(raw)}, MAPPING, 2)))
    return results


def _mean_hd95(results: list[dict], cls: str = "1") -> float:
    return summarise(results, ["raw"], 2)["raw"]["classes"][cls]["mean_per_image"]["hd95"]


GOOD = (_square(5, 5, 10), _square(5, 7, 10))  # shifted sideways by 2 px
GOOD_HD = 2.0  # the two squares' left and right edges are 2 px apart
TARGET = _square(15, 20, 10)
FAR = _square(0, 0, 3)  # a small object on the far side: present but badly placed
EMPTY = np.zeros((H, W), np.uint8)


def test_missing_an_object_does_not_improve_mean_hd95(tmp_path):
    bad = _mean_hd95(_score(tmp_path, {"a": GOOD, "b": (TARGET, FAR)}))
    missed = _mean_hd95(_score(tmp_path, {"a": GOOD, "b": (TARGET, EMPTY)}))
    assert 10 < bad < 50  # sanity: the far object is far
    assert missed >= bad


@pytest.mark.parametrize(
    "pair", [(TARGET, EMPTY), (EMPTY, TARGET)], ids=["missed", "predicted_but_absent"]
)
def test_penalty_is_the_image_diagonal(tmp_path, pair):
    results = _score(tmp_path, {"b": pair})
    assert results[0]["diagonal"] == pytest.approx(math.hypot(H, W)) == pytest.approx(50)
    assert math.isinf(results[0]["scores"]["raw"]["hd95"][1])  # the per-image value stays inf
    assert _mean_hd95(results) == pytest.approx(50)


def test_summary_counts_and_states_the_penalty(tmp_path):
    results = _score(
        tmp_path, {"a": GOOD, "b": (TARGET, EMPTY), "c": (EMPTY, TARGET), "d": (EMPTY, EMPTY)}
    )
    s = summarise(results, ["raw"], 2)["raw"]
    assert s["classes"]["1"]["hd95_penalised"] == 2  # b and c; d (both empty) scores 0
    assert s["classes"]["0"]["hd95_penalised"] == 0
    assert s["classes"]["1"]["mean_per_image"]["hd95"] == pytest.approx((GOOD_HD + 50 + 50) / 4)
    assert "diagonal" in s["hd95_penalty"]
    assert "diagonal" in EMPTY_MASK_CONVENTION and "sqrt(H^2 + W^2)" in EMPTY_MASK_CONVENTION


def test_per_image_csv_keeps_inf_and_the_diagonal(tmp_path):
    results = _score(tmp_path, {"a": GOOD, "b": (TARGET, EMPTY)})
    write_rows(tmp_path / "per_image.csv", results, [0, 255])
    with open(tmp_path / "per_image.csv") as f:
        rows = {(r["id"], r["class"]): r for r in csv.DictReader(f)}
    assert rows["b", "1"]["hd95"] == "inf"
    assert float(rows["a", "1"]["hd95"]) == pytest.approx(GOOD_HD)
    assert float(rows["b", "1"]["image_diagonal_px"]) == pytest.approx(50)


def test_metrics_table_shows_the_penalised_mean(tmp_path):
    results = _score(tmp_path, {"b": (TARGET, EMPTY)})
    summary = {"class_values": [0, 255], "methods": summarise(results, ["raw"], 2)}
    metrics_table(summary, tmp_path / "table.tsv")
    with open(tmp_path / "table.tsv") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert float(rows[1]["mean_hd95"]) == pytest.approx(50)


def test_metrics_table_shows_each_class_share_of_the_training_pixels(tmp_path):
    results = _score(tmp_path, {"b": (TARGET, EMPTY)})
    summary = {"class_values": [0, 255], "methods": summarise(results, ["raw"], 2)}
    metrics_table(summary, tmp_path / "table.tsv", [0.8, 0.2])
    with open(tmp_path / "table.tsv") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert [r["train_share"] for r in rows] == ["0.8000", "0.2000"]
    metrics_table(summary, tmp_path / "old.tsv")  # a cache from before the shares were kept
    with open(tmp_path / "old.tsv") as f:
        assert {r["train_share"] for r in csv.DictReader(f, delimiter="\t")} == {""}


def test_colour_classes_are_named_by_their_colours(tmp_path):
    # Colour masks' classes are packed 0xRRGGBB integers inside; per_image.csv and metrics.tsv
    # showed them as such (16711680 for red), a number found nowhere in the user's data.
    from PIL import Image

    from unet.common.fileio import write_json
    from unet.evaluate.evaluate import evaluate_masks

    colours = np.array([[0, 0, 0], [255, 0, 0], [0, 128, 255]], np.uint8)
    index = np.zeros((H, W), np.uint8)
    index[5:15, 5:15], index[20:25, 20:35] = 1, 2
    for name in ("gt", "raw"):
        (tmp_path / name).mkdir()
        Image.fromarray(colours[index]).save(tmp_path / name / "a.png")
    write_json(tmp_path / "manifest.json",
               {"pairs": [{"id": "a", "image": "", "mask": str(tmp_path / "gt/a.png")}]})
    packed = [0, 0xFF0000, 0x0080FF]
    write_json(tmp_path / "meta.json", {"class_values": packed, "mask_rgb": True,
                                        "splits": {"test": {"ids": ["a"]}}})
    summary = evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                             {"raw": tmp_path / "raw"}, tmp_path / "rows.csv", tmp_path / "s.json")
    assert summary["class_values"] == packed  # what the model files and meta.json hold
    labels = ["[0, 0, 0]", "[255, 0, 0]", "[0, 128, 255]"]
    with open(tmp_path / "rows.csv") as f:
        assert [r["value"] for r in csv.DictReader(f)] == labels
    metrics_table(summary, tmp_path / "table.tsv")
    with open(tmp_path / "table.tsv") as f:
        assert [r["value"] for r in csv.DictReader(f, delimiter="\t")] == labels
