"""`unet predict --rle-id stem` ids of OME-TIFF images, as their masks are named."""

from __future__ import annotations

import csv

import numpy as np

from unet.common.labels import MaskMapping
from unet.dataset.rle_submission import write_submission


def test_an_ome_tiff_images_stem_id_is_its_name_less_both_extensions(tmp_path):
    """x.ome.tif is image x everywhere else (its mask x.png, its pairing with x.tif), but
    --rle-id stem wrote 'x.ome', an id the competition's CSV does not hold; in a subfolder
    too (s1/x.ome.tiff: s1/x)."""
    binary = MaskMapping((0, 255))
    binary.write(tmp_path / "x.png", np.eye(4, 6, dtype=np.uint8))
    masks = [("x.ome.tif", tmp_path / "x.png"), ("s1/y.OME.TIFF", tmp_path / "x.png"),
             ("z.tif", tmp_path / "x.png")]
    write_submission(masks, binary, tmp_path / "s.csv", columns=("id", "rle_mask"), stem=True)
    with open(tmp_path / "s.csv", newline="") as f:
        assert [r["id"] for r in csv.DictReader(f)] == ["x", "s1/y", "z"]
