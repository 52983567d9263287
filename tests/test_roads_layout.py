"""Massachusetts Roads' layout: tiff/train/X.tiff beside tiff/train_labels/X.tif, by {group}."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import Layout

S = 12
ROADS = dict(images="{group}", masks="{group}_labels")


def _roads(root):
    """Two parts, each image .tiff with its label .tif of the same stem."""
    for part in ("train", "test"):
        for stem in ("10078660_15", "10078677_15"):
            (root / part).mkdir(parents=True, exist_ok=True)
            (root / f"{part}_labels").mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((S, S, 3), 90, np.uint8)).save(root / part / f"{stem}.tiff")
            label = np.zeros((S, S), np.uint8)
            label[:, 5:8] = 255  # a road 3 px wide
            Image.fromarray(label).save(root / f"{part}_labels" / f"{stem}.tif")


def _pairs(tmp_path, layout):
    manifest = write_manifest(tmp_path / "out/manifest.json", "local", tmp_path / "d", layout)
    return {p["id"]: p for p in manifest["pairs"]}


def test_labels_folders_are_not_groups_nor_warned(tmp_path, caplog):
    # train_labels matches images '{group}' too; it is the train part's masks folder, not a
    # part without masks: warning that it was passed over advised missing_mask: empty
    _roads(tmp_path / "d")
    with caplog.at_level(logging.INFO):
        pairs = _pairs(tmp_path, Layout(**ROADS))
    assert sorted(pairs) == ["test_10078660_15", "test_10078677_15",
                             "train_10078660_15", "train_10078677_15"]
    assert pairs["train_10078660_15"]["mask"].endswith("train_labels/10078660_15.tif")
    assert not [r for r in caplog.records if "passed over" in r.getMessage()]


def test_labels_folders_stay_masks_with_missing_mask_empty(tmp_path):
    # with missing_mask: empty (a part whose labels are withheld), the labels folders were
    # taken as parts of their own: each label tile became an image with an all-0 mask
    _roads(tmp_path / "d")
    (tmp_path / "d/extra").mkdir()
    Image.fromarray(np.zeros((S, S, 3), np.uint8)).save(tmp_path / "d/extra/1.tiff")
    pairs = _pairs(tmp_path, Layout(**ROADS, missing_mask="empty"))
    assert sorted(pairs) == ["extra_1", "test_10078660_15", "test_10078677_15",
                             "train_10078660_15", "train_10078677_15"]


def test_challenge_gt_folder_is_not_warned(tmp_path, caplog):
    # the Cell Tracking Challenge's 01_GT holds 01's masks folder 01_GT/SEG: no part of its own
    root = tmp_path / "d"
    for seq in ("01", "02"):
        (root / seq).mkdir(parents=True)
        (root / f"{seq}_GT/SEG").mkdir(parents=True)
        Image.fromarray(np.full((S, S), 90, np.uint8)).save(root / seq / "t000.tif")
        Image.fromarray(np.zeros((S, S), np.uint8)).save(root / f"{seq}_GT/SEG/man_seg000.tif")
    layout = Layout(images="{group}", masks="{group}_GT/SEG", image_prefix="t",
                    mask_prefix="man_seg")
    with caplog.at_level(logging.INFO):
        assert sorted(_pairs(tmp_path, layout)) == ["01_000", "02_000"]
    assert not [r for r in caplog.records if "passed over" in r.getMessage()]
