"""DRIVE as published: training/ and test/ side by side, each with images/, 1st_manual/ and
mask/, the file names carrying the part (21_training.tif, 01_test.tif, 01_test_mask.gif). Before,
{group} was filled in images and masks only: image_suffix '_{group}' paired nothing, and a roi
with {group} folders was refused, so the official test images could not be the test split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_roi import _fov
from tests.test_value_spaces import _disc
from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, data_files, layout_from

DRIVE = {"images": "{group}/images", "image_suffix": "_{group}", "masks": "{group}/1st_manual",
         "mask_suffix": "_manual1", "roi": "{group}/mask/{id}_{group}_mask.gif"}


def _drive(root: Path) -> None:
    """training/ ids 21-24 and test/ ids 01-03, as the DRIVE download holds them."""
    for part, ids in (("training", range(21, 25)), ("test", range(1, 4))):
        for d in ("images", "1st_manual", "mask"):
            (root / part / d).mkdir(parents=True)
        for i in ids:
            disc = _disc(i) > 0.5
            grey = (60 + 150 * disc).astype(np.uint8)
            Image.fromarray(grey).save(root / part / f"images/{i:02d}_{part}.tif")
            Image.fromarray(disc.astype(np.uint8) * 255).save(
                root / part / f"1st_manual/{i:02d}_manual1.gif")
            Image.fromarray(_fov().astype(np.uint8) * 255).save(
                root / part / f"mask/{i:02d}_{part}_mask.gif")


def _manifest(root: Path, **changes) -> dict:
    return write_manifest(root / "manifest.json", "local", root,
                          layout_from({**DRIVE, **changes}, "local"))


def test_drive_training_and_test_folders_pair_with_their_rois(tmp_path):
    _drive(tmp_path)
    pairs = {p["id"]: p for p in _manifest(tmp_path)["pairs"]}
    assert sorted(pairs) == ["test_01", "test_02", "test_03", "training_21", "training_22",
                             "training_23", "training_24"]
    assert pairs["test_02"]["roi"] == str(tmp_path / "test/mask/02_test_mask.gif")
    assert pairs["training_21"]["roi"] == str(tmp_path / "training/mask/21_training_mask.gif")
    files = data_files(tmp_path, layout_from(DRIVE, "local"))
    assert tmp_path / "test/mask/03_test_mask.gif" in files  # a changed ROI makes it stale


def test_a_group_roi_missing_is_named(tmp_path):
    _drive(tmp_path)
    (tmp_path / "test/mask/02_test_mask.gif").unlink()
    with pytest.raises(DataLayoutError, match=r"test/mask/02_test_mask\.gif.*dataset\.local\.roi"):
        _manifest(tmp_path)


def test_a_group_roi_without_group_is_refused_naming_the_fix(tmp_path):
    """Without {group}, two groups' images of one file id would share a region file."""
    _drive(tmp_path)
    with pytest.raises(DataLayoutError, match=r"dataset\.local\.roi.*\{group\}"):
        _manifest(tmp_path, roi="mask/{id}_mask.gif")


def test_band_files_of_group_folders_are_found_per_group(tmp_path):
    """38-Cloud's parts as {group} folders: each image's band file in its own group's folder."""
    for part in ("train", "test"):
        for d in ("red", "nir", "gt"):
            (tmp_path / part / d).mkdir(parents=True)
        for i in range(2):
            grey = (_disc(i) * 200).astype(np.uint8)
            Image.fromarray(grey).save(tmp_path / part / f"red/red_{i}.tif")
            Image.fromarray(255 - grey).save(tmp_path / part / f"nir/nir_{i}.tif")
            Image.fromarray(np.where(grey > 100, 255, 0).astype(np.uint8)).save(
                tmp_path / part / f"gt/gt_{i}.tif")
    layout = layout_from({"images": "{group}/red", "image_prefix": "red_", "masks": "{group}/gt",
                          "mask_prefix": "gt_", "band_files": ["{group}/nir/nir_{id}.tif"]},
                         "local")
    pairs = {p["id"]: p for p in write_manifest(tmp_path / "m/manifest.json", "local", tmp_path,
                                                layout)["pairs"]}
    assert sorted(pairs) == ["test_0", "test_1", "train_0", "train_1"]
    assert pairs["test_1"]["image_bands"][1] == str(tmp_path / "test/nir/nir_1.tif")
    assert tmp_path / "train/nir/nir_0.tif" in data_files(tmp_path, layout)


@pytest.mark.parametrize("key", ["image_suffix", "roi", "masks"])
def test_group_outside_a_group_layout_is_refused_naming_images(key):
    """{group} in a suffix, roi or masks but not in images (DRIVE's training/ folder given as
    the data folder, with the DRIVE settings kept) was read as the literal text '{group}': the
    errors were 'masks with no image' or missing files named '..._{group}_mask.gif'."""
    settings = {**DRIVE, "images": "images"}
    if key != "image_suffix":
        settings["image_suffix"] = "_training"
    if key != "roi":
        settings["roi"] = "mask/{id}_training_mask.gif"
    if key != "masks":
        settings["masks"] = "1st_manual"
    with pytest.raises(DataLayoutError, match=rf"dataset\.local\.{key} .*\{{group\}}.*"
                       r"dataset\.local\.images 'images' has none"):
        layout_from(settings, "local")
