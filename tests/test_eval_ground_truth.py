"""Tests for evaluate.ground_truth: the test split scored against other masks (ISPRS's eroded
`_noBoundary` ground truth, black borders not scored)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.common.fileio import write_json
from unet.evaluate.evaluate import evaluate_masks

# ISPRS Vaihingen's colours: impervious, building, low vegetation, tree, car, clutter
COLOURS = np.array([[255, 255, 255], [0, 0, 255], [0, 255, 255], [0, 255, 0], [255, 255, 0],
                    [255, 0, 0]], np.uint8)
PACKED = [(int(r) << 16) | (int(g) << 8) | int(b) for r, g, b in COLOURS]


def _data(tmp_path: Path) -> Path:
    """A 40x40 tile: left half impervious, right half building; the prediction is 2 px off at
    the border, the eroded truth blacks out a 4 px band there. Returns the data root."""
    root = tmp_path / "vaihingen"
    for sub in ("gts", "gts_eroded", "raw"):
        (root / sub).mkdir(parents=True)
    truth = np.zeros((40, 40), np.uint8)
    truth[:, 20:] = 1
    pred = np.zeros_like(truth)
    pred[:, 22:] = 1  # two columns of building called impervious
    Image.fromarray(COLOURS[truth]).save(root / "gts/area1.tif")
    Image.fromarray(COLOURS[pred]).save(root / "raw/area1.png")
    eroded = COLOURS[truth].copy()
    eroded[:, 18:23] = 0  # the not-scored band along the class border
    Image.fromarray(eroded).save(root / "gts_eroded/area1_noBoundary.tif")
    write_json(tmp_path / "manifest.json", {"source": "local", "root": str(root), "pairs": [
        {"id": "area1", "image": "", "mask": str(root / "gts/area1.tif")}]})
    write_json(tmp_path / "meta.json", {"class_values": PACKED, "mask_rgb": True,
                                        "background": False,
                                        "splits": {"test": {"ids": ["area1"]}}})
    return root


def _evaluate(tmp_path: Path, ground_truth: dict | None) -> dict:
    return evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                          {"raw": tmp_path / "vaihingen/raw"}, tmp_path / "rows.csv",
                          tmp_path / "s.json", ground_truth=ground_truth)


ERODED = {"masks": "gts_eroded", "suffix": "_noBoundary", "ignore": [0, 0, 0]}


def test_the_eroded_truth_leaves_the_black_border_unscored(tmp_path):
    _data(tmp_path)
    full = _evaluate(tmp_path, None)["methods"]["raw"]
    eroded = _evaluate(tmp_path, ERODED)
    # 80 of 1600 px wrong against the full truth; every one lies in the black band
    assert full["pixel_accuracy"] == pytest.approx(1520 / 1600)
    assert eroded["methods"]["raw"]["pixel_accuracy"] == 1.0
    assert eroded["methods"]["raw"]["classes"]["1"]["global"]["dice"] == 1.0
    assert eroded["ground_truth"]["masks"].endswith("gts_eroded")


def test_an_absolute_folder_is_read_too(tmp_path):
    root = _data(tmp_path)
    summary = _evaluate(tmp_path, {**ERODED, "masks": str(root / "gts_eroded")})
    assert summary["methods"]["raw"]["pixel_accuracy"] == 1.0


def test_a_test_image_without_a_mask_there_is_named_with_the_fix(tmp_path):
    root = _data(tmp_path)
    (root / "gts_eroded/area1_noBoundary.tif").unlink()
    with pytest.raises(FileNotFoundError, match=r"area1.*gts_eroded.*test_ids"):
        _evaluate(tmp_path, ERODED)


def test_black_unlisted_without_the_ignore_is_refused_naming_the_file(tmp_path):
    _data(tmp_path)
    with pytest.raises(ValueError, match=r"area1_noBoundary\.tif"):
        _evaluate(tmp_path, {**ERODED, "ignore": None})
