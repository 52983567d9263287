"""Run-length encodings with images in subfolders (the 2018 Data Science Bowl's
stage1_train_labels.csv beside stage1_train/<id>/images/<id>.png and one PNG per nucleus in
stage1_train/<id>/masks/): files in subfolders that hold no image the CSV names are not
images with empty masks."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout

RLE = {"csv": "labels.csv", "id_column": "ImageId", "rle_column": "EncodedPixels",
       "class_column": None, "order": "columns", "absent": "unpaired"}
IDS = ["0a1b", "2c3d", "4e5f"]


def _dsb(root):
    rows = []
    for k, pid in enumerate(IDS):
        (root / "stage1_train" / pid / "images").mkdir(parents=True)
        (root / "stage1_train" / pid / "masks").mkdir()
        Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(
            root / "stage1_train" / pid / "images" / f"{pid}.png")
        for n in range(2):  # one mask per nucleus
            mask = np.zeros((6, 8), np.uint8)
            mask[n * 3 : n * 3 + 2, k : k + 2] = 255
            Image.fromarray(mask).save(root / "stage1_train" / pid / "masks" / f"h{k}{n}.png")
            rows.append((pid, f"{k * 6 + n * 3 + 1} 2"))
    with open(root / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows([("ImageId", "EncodedPixels"), *rows])


def _layout(**rle):
    return dict(images="stage1_train", recursive=True,
                rle=tuple(sorted({**RLE, **rle}.items())))


def test_the_refusal_says_the_unnamed_files_are_in_other_subfolders(tmp_path):
    # Advised rle.absent: empty, which made the 6 nucleus masks images with empty masks.
    _dsb(tmp_path)
    with pytest.raises(DataLayoutError) as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path, Layout(**_layout()))
    text = str(err.value)
    assert "6 files the CSV does not name, in 3 subfolders that hold no image it names" in text
    assert "stage1_train/0a1b/masks" in text and "allow_unpaired: true" in text
    assert "Set dataset.local.images to a folder of images only" in text
    assert "if an image missing from the CSV has no objects" not in text


def test_the_dsb_layout_pairs_each_image_once(tmp_path, caplog):
    _dsb(tmp_path)
    layout = Layout(**_layout(), allow_unpaired=True)
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    assert [p["id"] for p in manifest["pairs"]] == IDS
    assert all(np.asarray(Image.open(p["mask"])).sum() == 4 * 255 for p in manifest["pairs"])


def test_absent_empty_warns_of_files_in_subfolders_without_named_images(tmp_path, caplog):
    _dsb(tmp_path)
    with caplog.at_level(logging.WARNING):
        write_manifest(tmp_path / "m.json", "local", tmp_path, Layout(**_layout(absent="empty")))
    assert "6 files the CSV does not name, in 3 subfolders" in caplog.text
