"""CRF tuning on validation images whose ground truth holds no foreground: a setting then
scores only by erasing the raw masks' false positives (1.0 against raw's 0.0), so neither the
tuning result nor the report's verdict may say it beat the raw masks; final/ keeps raw."""

from __future__ import annotations

import numpy as np
from PIL import Image

from unet.common.fileio import write_json
from unet.common.labels import MaskMapping
from unet.crf.dense import CRFParams
from unet.crf.tune import tune_crf
from unet.report.plot import crf_verdict

H, W = 32, 32
MAPPING = MaskMapping((0, 255))


def _val_without_foreground(root, with_object: bool = False):
    rng = np.random.default_rng(0)
    pairs = []
    for name in ("v0", "v1"):
        image, gt = root / f"{name}.png", root / f"{name}_gt.png"
        Image.fromarray(rng.integers(90, 110, (H, W, 3), np.uint8)).save(image)
        truth = np.zeros((H, W), np.uint8)
        if with_object:
            truth[8:24, 8:24] = 1
        MAPPING.write(gt, truth)
        pairs.append({"id": name, "image": str(image), "mask": str(gt), "size": [W, H]})
        fg = np.full((H, W), 0.05, np.float32)
        fg[8:24, 8:24] = 0.9 if with_object else 0.0
        fg[2:4, 2:4] = 0.55  # a faint false positive the CRF smooths away
        (root / "val/probs").mkdir(parents=True, exist_ok=True)
        np.save(root / "val/probs" / f"{name}.npy", np.stack([1 - fg, fg]).astype(np.float16))
    meta = {"class_values": [0, 255], "num_classes": 2,
            "splits": {"val": {"ids": ["v0", "v1"]}, "test": {"ids": []}}}
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "meta.json", meta)


def _tune(root) -> dict:
    return tune_crf(root / "manifest.json", root / "meta.json", root / "val", root / "t.json",
                    CRFParams(iterations=3), {"gaussian_compat": [1.0, 10.0]}, 12)


def _summary(tuning: dict) -> dict:
    reason = "the validation images scored hold no foreground in their ground truth"
    return {"split": "test",
            "methods": {"raw": {"foreground_dice_global": 0.8},
                        "crf": {"foreground_dice_global": 0.7}},
            "final": {"chosen": "raw", "images": tuning["images"], "split": "val",
                      "reason": reason}}


def test_tuning_on_validation_without_foreground_says_it_could_not_judge(tmp_path):
    _val_without_foreground(tmp_path)
    tuning = _tune(tmp_path)
    assert tuning["raw_dice"] == 0.0 and tuning["best_dice"] == 1.0  # erased the speck
    assert tuning["val_foreground_pixels"] == 0
    assert tuning["helps"] is False
    verdict = crf_verdict(_summary(tuning), tuning)
    assert "beat the raw masks" not in verdict
    assert "hold no foreground" in verdict and "could not be judged" in verdict
    assert "final/masks holds the raw masks" in verdict


def test_tuning_with_foreground_still_says_beat(tmp_path):
    _val_without_foreground(tmp_path, with_object=True)
    tuning = _tune(tmp_path)
    assert tuning["val_foreground_pixels"] == 2 * 16 * 16
    assert tuning["helps"] is (tuning["best_dice"] > tuning["raw_dice"])
    verdict = crf_verdict(_summary(tuning), tuning)
    assert ("did not beat" in verdict) is not tuning["helps"]
    assert "could not be judged" not in verdict


def test_the_test_crf_keeps_the_configured_settings_when_tuning_could_not_judge(tmp_path):
    # crf/masks (and the report's "crf" rows) used the setting that won only by erasing the
    # most: the one most likely to erase true objects on the test split.
    from unet.crf.dense import chosen_params, crf_params

    section = {"gaussian_compat": 3.0, "iterations": 3}
    _val_without_foreground(tmp_path)
    _tune(tmp_path)
    assert chosen_params(section, str(tmp_path / "t.json")) == crf_params(section)
    _val_without_foreground(tmp_path, with_object=True)
    tuning = _tune(tmp_path)
    assert chosen_params(section, str(tmp_path / "t.json")) == CRFParams(**tuning["best"])


def _tuning_rows(tmp_path, with_object: bool) -> list[dict]:
    import csv

    from unet.report.plot import tuning_table

    _val_without_foreground(tmp_path, with_object)
    tuning_table(_tune(tmp_path), tmp_path / "tuning.tsv")
    with open(tmp_path / "tuning.tsv") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_tuning_table_marks_the_settings_the_test_crf_used(tmp_path):
    # crf_tuning.tsv put the grid's best first and its caption said the test split's CRF used
    # that row; where tuning could not judge, the test CRF used the configured settings (above)
    # while the table still showed a best row scoring 1.0 against raw's 0.0.
    rows = _tuning_rows(tmp_path, with_object=False)
    assert [r["used_on_test"] for r in rows] == ["no", "no"]  # the configured settings were
    rows = _tuning_rows(tmp_path, with_object=True)
    assert [r["used_on_test"] for r in rows] == ["yes", "no"]
