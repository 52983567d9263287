"""postprocess.candidates threshold: the foreground cut chosen on validation probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.common.fileio import write_json
from unet.common.labels import MaskMapping
from unet.config.checks import ConfigError, check_classes, check_threshold
from unet.crf.dense import CRFParams
from unet.postprocess.finalize import FinalSettings, finalize_masks

H, W = 24, 32
MAPPING = MaskMapping((255, 0))  # ISBI-like: class 1 is the dark value


def _case(root: Path, classes: int = 2) -> None:
    """Thin structures under-called at 0.5: the membrane's foreground probability is 0.42 and
    the cells' 0.33 or 0.1, so every cut in [0.35, 0.40] of the grid separates them exactly
    (0.40 nearest 0.5), 0.5 calls nothing, 0.30 also calls the 0.33 cells."""
    rng = np.random.default_rng(0)
    truth = np.zeros((H, W), np.uint8)
    truth[:, 10:12] = 1  # a 2-px membrane
    fg = np.where(truth == 1, 0.42, 0.1)
    fg[:, 20:22] = 0.33  # a faint cell line: a cut under 0.33 takes it
    pairs, ids = [], {"val": ["v0", "v1"], "test": ["t0"]}
    for split, names in ids.items():
        for name in names:
            image, gt = root / f"{name}.png", root / f"{name}_gt.png"
            Image.fromarray(rng.integers(0, 255, (H, W, 3), np.uint8)).save(image)
            MAPPING.write(gt, truth)
            pairs.append({"id": name, "image": str(image), "mask": str(gt), "size": [W, H]})
            probs = np.stack([1.0 - fg, fg] + [np.zeros_like(fg)] * (classes - 2))
            if split == "test":  # membrane at 0.45: above the chosen 0.40, under 0.5
                probs = probs.copy()
                probs[1][truth == 1], probs[0][truth == 1] = 0.45, 0.55
            (root / split / "probs").mkdir(parents=True, exist_ok=True)
            np.save(root / split / "probs" / f"{name}.npy", probs.astype(np.float16))
            MAPPING.write(root / split / "masks" / f"{name}.png", probs.argmax(0))
    meta = {"class_values": [255, 0, 128][:classes], "num_classes": classes,
            "splits": {s: {"ids": v} for s, v in ids.items()}}
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "meta.json", meta)


def _finalize(root: Path, candidates=("threshold",), min_gain: float = 0.005) -> dict:
    return finalize_masks(root / "manifest.json", root / "meta.json", root / "val",
                          root / "test", None, root / "final",
                          FinalSettings(tuple(candidates), min_gain), CRFParams(), 8)


def test_the_cut_best_on_validation_is_chosen_and_applied_to_the_test_split(tmp_path):
    _case(tmp_path)
    choice = _finalize(tmp_path, ("largest_component", "threshold"))
    assert choice["chosen"] == "threshold"
    assert choice["threshold"]["cut"] == pytest.approx(0.40)
    cuts = choice["threshold"]["val_foreground_dice"]
    assert cuts["0.40"] == pytest.approx(1.0) and cuts["0.35"] == pytest.approx(1.0)
    assert cuts["0.50"] == pytest.approx(0.0) and cuts["0.30"] < 1.0
    assert choice["val_foreground_dice"]["threshold"] == pytest.approx(1.0)
    assert "0.40" in choice["reason"]
    out = MAPPING.read_index(tmp_path / "final/masks/t0.png", "final")
    truth = MAPPING.read_index(tmp_path / "t0_gt.png", "truth")
    assert np.array_equal(out, truth)  # 0.45 membranes kept, 0.33 and 0.1 cells not
    # a rerun gives the same cut and the same masks
    again = _finalize(tmp_path, ("largest_component", "threshold"))
    assert again == choice
    assert np.array_equal(MAPPING.read_index(tmp_path / "final/masks/t0.png", "f"), out)


def test_a_cut_that_gains_under_min_gain_is_not_chosen(tmp_path):
    _case(tmp_path)
    choice = _finalize(tmp_path, min_gain=1.5)  # no gain reaches 1.5 Dice
    assert choice["chosen"] == "raw" and "threshold 1.0000" in choice["reason"]
    assert choice["threshold"]["cut"] == pytest.approx(0.40)  # recorded even when not used
    raw = MAPPING.read_index(tmp_path / "test/masks/t0.png", "raw")
    assert np.array_equal(MAPPING.read_index(tmp_path / "final/masks/t0.png", "f"), raw)


def test_more_than_two_classes_do_not_compete_and_the_reason_says_so(tmp_path):
    _case(tmp_path, classes=3)
    choice = _finalize(tmp_path)
    assert choice["chosen"] == "raw" and "threshold" not in choice["val_foreground_dice"]
    assert "postprocess.candidates threshold" in choice["reason"]


def test_planning_refuses_threshold_where_masks_values_lists_more_classes():
    config = {"masks": {"values": [0, 1, 2]}, "postprocess": {"candidates": ["threshold"]}}
    with pytest.raises(ConfigError, match="postprocess.candidates.*masks.values lists 3"):
        check_classes(config, {}, {"enabled": True, "prob_clip": 1e-5})  # as the config is read
    check_threshold({"values": [255, 0]}, {"candidates": ["threshold"]})
    check_threshold({"values": [0, 1, 2]}, {"candidates": ["crf"]})
    check_threshold({}, {"candidates": ["threshold"]})  # classes detected later
