"""Class folders that hold their images too (BUSI's benign/, malignant/ and normal/ as three
classes, each image beside its <stem>_mask.png and a second lesion's <stem>_mask_1.png):
mask_suffix tells masks from images, and mask_parts' further masks join their class."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout

H, W = 12, 16
CLASSES = ("benign", "malignant", "normal")
BUSI = dict(images=".", masks=CLASSES, mask_suffix="_mask", recursive=True,
            mask_parts=r"_\d+", mask_folders="classes")


def _busi(root):
    """Two images a class; benign (2) has a second lesion in benign (2)_mask_1.png."""
    for k, name in enumerate(CLASSES, 1):
        (root / name).mkdir(parents=True)
        for i in (1, 2):
            stem = f"{name} ({i})"
            Image.fromarray(np.full((H, W), 50 * i, np.uint8)).save(root / name / f"{stem}.png")
            mask = np.zeros((H, W), np.uint8)
            mask[k : k + 3, i : i + 3] = 255
            Image.fromarray(mask).save(root / name / f"{stem}_mask.png")
    second = np.zeros((H, W), np.uint8)
    second[8:11, 10:14] = 255
    Image.fromarray(second).save(root / "benign" / "benign (2)_mask_1.png")


@pytest.mark.parametrize("unpaired", [False, True])
def test_masks_beside_their_images_pair_and_further_masks_join_their_class(tmp_path, unpaired):
    # Every _mask.png was listed as an image with no mask (refused), and with allow_unpaired
    # the second lesion's benign (2)_mask_1.png was dropped without a word.
    _busi(tmp_path / "data")
    layout = Layout(**BUSI, allow_unpaired=unpaired)
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path / "data",
                              layout)
    pairs = {p["id"]: p for p in manifest["pairs"]}
    assert sorted(pairs) == sorted(f"{n} ({i})" for n in CLASSES for i in (1, 2))
    merged = np.asarray(Image.open(pairs["benign (2)"]["mask"]))
    assert (merged == 1).sum() == 9 + 12  # both lesions, class 1
    assert (np.asarray(Image.open(pairs["normal (1)"]["mask"])) == 3).sum() == 9


def test_a_file_that_is_both_image_and_mask_is_refused_by_name(tmp_path):
    _busi(tmp_path / "data")
    layout = Layout(**{**BUSI, "mask_suffix": "", "mask_parts": ""})
    with pytest.raises(DataLayoutError, match=r"both an image and a mask.*mask_suffix"):
        write_manifest(tmp_path / "m.json", "local", tmp_path / "data", layout)


def test_the_manifest_lists_every_file_of_a_class(tmp_path):
    _busi(tmp_path / "data")
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path / "data", Layout(**BUSI))
    pair = next(p for p in manifest["pairs"] if p["id"] == "benign (2)")
    assert [n.rsplit("/", 1)[1] for n in pair["mask_parts"]["1"]] == [
        "benign (2)_mask.png", "benign (2)_mask_1.png"]


def test_class_folders_read_as_parts_of_one_mask_name_the_key(tmp_path):
    # Without mask_folders: classes, the folders were read as parts of one mask: the error
    # listed benign (1)_mask.png among "images with no mask" and said to fix the names.
    _busi(tmp_path / "data")
    layout = Layout(**{k: v for k, v in BUSI.items() if k != "mask_folders"})
    with pytest.raises(DataLayoutError, match=r"mask_folders: classes") as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path / "data", layout)
    assert "_mask.png" not in str(err.value).split("images with no mask")[-1].split(";")[0]
