"""Tests for evaluate.regions: unions of classes (BraTS' whole tumour, tumour core, enhancing)
scored as one, in summary.json, metrics.tsv and experiments.tsv."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

H, W = 30, 40
BRATS = {"whole_tumour": [1, 2, 4], "tumour_core": [1, 4], "enhancing": [4]}


def _brats_pair() -> tuple[np.ndarray, np.ndarray]:
    """Target and prediction in BraTS' values: classes 1 and 2 swapped (Dice 0 each), half of
    class 4 found (Dice 2/3). Whole tumour 500/550, tumour core 100/350: neither is any class's."""
    target, pred = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
    target[0:10, 0:10], target[10:20, 0:10], target[0:10, 20:30] = 1, 2, 4
    pred[0:10, 0:10], pred[10:20, 0:10], pred[0:5, 20:30] = 2, 1, 4
    return target, pred


def _evaluate(tmp_path: Path, regions: dict | None, names: list | None = None, **kw) -> dict:
    """evaluate_masks on one BraTS-valued image (and an empty one), hand-written manifest/meta."""
    from unet.evaluate.evaluate import evaluate_masks

    target, pred = _brats_pair()
    (tmp_path / "pred").mkdir(exist_ok=True)
    pairs = []
    for i, (t, p) in {"a": (target, pred), "b": (np.zeros_like(target),) * 2}.items():
        Image.fromarray(t).save(tmp_path / f"{i}_gt.png")
        Image.fromarray(p).save(tmp_path / "pred" / f"{i}.png")
        pairs.append({"id": i, "mask": str(tmp_path / f"{i}_gt.png")})
    (tmp_path / "manifest.json").write_text(json.dumps({"pairs": pairs}))
    meta = {"class_values": [0, 1, 2, 4], "splits": {"test": {"ids": ["a", "b"]}}, **kw}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    return evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                          {"raw": tmp_path / "pred"}, tmp_path / "per_image.csv",
                          tmp_path / "summary.json", class_names=names, regions=regions)


def test_brats_regions_score_the_union_not_any_class(tmp_path):
    summary = _evaluate(tmp_path, BRATS)
    classes = summary["methods"]["raw"]["classes"]
    class_dice = [classes[c]["global"]["dice"] for c in ("1", "2", "3")]
    assert class_dice == pytest.approx([0, 0, 2 / 3])
    regions = summary["regions"]
    assert regions["classes"] == {"whole_tumour": [1, 2, 3], "tumour_core": [1, 3],
                                  "enhancing": [3]}
    raw = regions["methods"]["raw"]
    assert raw["whole_tumour"]["global"]["dice"] == pytest.approx(500 / 550)
    assert raw["whole_tumour"]["global"]["iou"] == pytest.approx(250 / 300)
    assert raw["tumour_core"]["global"]["dice"] == pytest.approx(100 / 350)
    assert raw["enhancing"]["global"]["dice"] == pytest.approx(2 / 3)
    for name in ("whole_tumour", "tumour_core"):
        assert all(abs(raw[name]["global"]["dice"] - d) > 0.1 for d in class_dice)
    # image b holds no scored class: 1 by the convention in the mean over images, and out of
    # the mean over the images whose ground truth holds the region
    wt = raw["whole_tumour"]
    assert wt["mean_per_image"]["dice"] == pytest.approx((500 / 550 + 1) / 2)
    assert wt["mean_positive"]["dice"] == pytest.approx(500 / 550)
    assert wt["images"]["positive"] == 1 and wt["images"]["true_negative"] == 1
    assert json.loads((tmp_path / "summary.json").read_text())["regions"] == regions


def test_regions_by_class_name(tmp_path):
    names = ["background", "necrosis", "edema", "enhancing"]
    summary = _evaluate(tmp_path, {"core": ["necrosis", "enhancing"]}, names)
    assert summary["regions"]["methods"]["raw"]["core"]["global"]["dice"] == pytest.approx(
        100 / 350)


def test_unset_regions_leave_the_summary_as_before(tmp_path):
    summary = _evaluate(tmp_path, None)
    assert "regions" not in summary
    assert "regions" not in json.loads((tmp_path / "summary.json").read_text())


@pytest.mark.parametrize(("regions", "match"), [
    ({"wt": [1, 2, 3]}, r"evaluate\.regions\.wt: no class of the data has the mask value 3"),
    ({"wt": ["tumour"]}, r"evaluate\.regions\.wt: no class of the data is named 'tumour'"),
])
def test_values_the_data_lacks_are_refused_naming_the_key(tmp_path, regions, match):
    from unet.evaluate.regions import RegionError

    with pytest.raises(RegionError, match=match):
        _evaluate(tmp_path, regions)
    assert not (tmp_path / "summary.json").exists()  # nothing that looks complete


def test_part_of_a_class_of_several_values_is_refused():
    from unet.evaluate.regions import RegionError, region_classes

    groups = [[0], [1, 2, 4]]  # masks.values [0, [1, 2, 4]]: one class, BraTS' whole tumour
    assert region_classes({"wt": [1, 2, 4]}, groups, None) == {"wt": [1]}
    with pytest.raises(RegionError, match=r"evaluate\.regions\.core lists part of class 1"):
        region_classes({"core": [1, 4]}, groups, None)


@pytest.mark.parametrize(("masks", "regions", "match"), [
    ({"values": [0, 1, 2, 4]}, {"core": [1, 3]}, r"evaluate\.regions\.core: .*mask value 3"),
    ({"values": [0, 1, 2, 4], "names": ["bg", "ncr", "ed", "et"]}, {"wt": ["ncr", "edema"]},
     r"evaluate\.regions\.wt: .*named 'edema'"),
    ({"colors": [[0, 0, 0], [255, 0, 0]]}, {"car": [1]}, r"colour masks: names only"),
    # the masks hold 255 (VOC's void): 'no class has it, list the values the masks hold' misled
    ({"values": [0, 1, 2, 4], "ignore": 255}, {"wt": [1, 2, 4, 255]},
     r"evaluate\.regions\.wt: 255 is masks\.ignore.*unscored.*leave it out"),
])
def test_the_config_refuses_regions_its_masks_lack_at_planning(config, masks, regions, match):
    from unet.config.experiments import ConfigError, check_config

    config["masks"].update(masks)
    config["evaluate"]["regions"] = regions
    with pytest.raises(ConfigError, match=match):
        check_config(config)


def test_regions_the_config_cannot_answer_for_wait_for_the_data(config):
    from unet.config.experiments import check_config

    config["evaluate"]["regions"] = {"wt": [1, 2, 4], "core": ["necrosis"]}  # values detected
    check_config(config)


def _tsv(path: Path) -> list[dict]:
    import csv

    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_the_report_table_has_a_row_per_region(tmp_path):
    from unet.report.plot import metrics_table

    summary = _evaluate(tmp_path, BRATS)
    metrics_table(summary, tmp_path / "metrics.tsv", [0.7, 0.1, 0.15, 0.05])
    rows = {r["name"]: r for r in _tsv(tmp_path / "metrics.tsv") if r["class"] == "region"}
    assert list(rows) == list(BRATS)
    wt = rows["whole_tumour"]
    assert (wt["method"], wt["value"], wt["train_share"]) == ("raw", "[1, 2, 4]", "0.3000")
    assert float(wt["global_dice"]) == pytest.approx(500 / 550, abs=1e-4)
    assert float(wt["mean_dice_positive"]) == pytest.approx(500 / 550, abs=1e-4)
    assert (wt["images_held"], wt["images_missed"]) == ("1", "0")  # HD95: test_region_boundary
    assert float(rows["tumour_core"]["global_dice"]) == pytest.approx(100 / 350, abs=1e-4)


def test_experiments_tsv_compares_the_regions_and_is_unchanged_without(tmp_path):
    from unet.report.compare import compare_experiments

    _evaluate(tmp_path, None)
    plain = tmp_path / "plain.json"
    (tmp_path / "summary.json").rename(plain)
    compare_experiments({"a": plain}, tmp_path / "plain.tsv")
    assert not any("region" in c for c in _tsv(tmp_path / "plain.tsv")[0])
    _evaluate(tmp_path, BRATS)
    compare_experiments({"a": tmp_path / "summary.json"}, tmp_path / "e.tsv")
    row = _tsv(tmp_path / "e.tsv")[0]
    assert float(row["region_whole_tumour_dice_global"]) == pytest.approx(500 / 550, abs=1e-4)
    assert float(row["region_whole_tumour_dice_mean"]) == pytest.approx(
        (500 / 550 + 1) / 2, abs=1e-4)
    assert float(row["region_tumour_core_dice_global"]) == pytest.approx(100 / 350, abs=1e-4)


def test_values_given_on_the_command_line_are_values(tmp_path, config):
    """--config evaluate='{regions: {wt: [1, 2, 4]}}' gives strings: '1' is the value 1."""
    from unet.config.experiments import ConfigError, check_config

    summary = _evaluate(tmp_path, {"wt": ["1", "2", "4"]})
    assert summary["regions"]["methods"]["raw"]["wt"]["global"]["dice"] == pytest.approx(
        500 / 550)
    assert summary["regions"]["listed"] == {"wt": [1, 2, 4]}
    config["masks"]["values"] = [0, 1, 2, 4]
    config["evaluate"]["regions"] = {"core": ["1", "3"]}
    with pytest.raises(ConfigError, match=r"evaluate\.regions\.core: .*mask value 3"):
        check_config(config)
