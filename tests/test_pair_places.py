"""A label GeoTIFF georeferenced elsewhere than its scene (a neighbouring tile's) is refused."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet.cache.pair_headers import check_pair_headers
from unet.common.labels import MaskValueError

KEYS = [1, 1, 0, 1, 3072, 0, 1, 32633]  # EPSG:32633


def _tiff(path, arr, x0: float) -> str:
    tags = [(34735, "H", len(KEYS), KEYS, True), (33550, "d", 3, [0.5, 0.5, 0.0], True),
            (33922, "d", 6, [0, 0, 0, x0, 5000000.0, 0], True)]
    tifffile.imwrite(path, arr, photometric="minisblack", extratags=tags)
    return str(path)


def test_a_mask_of_a_neighbouring_tile_is_refused_naming_both(tmp_path):
    # Tiles paired by name: tile_07's labels were rasterised on tile_08's grid (same size).
    # The pair was cached and trained on, each building 150 m off, without a word.
    image = np.zeros((4, 20, 30), np.uint16)
    label = np.zeros((20, 30), np.uint8)
    pairs = [{"image": _tiff(tmp_path / "a.tif", image, 400000.0),
              "mask": _tiff(tmp_path / "a_mask.tif", label, 400000.0), "size": [30, 20]},
             {"image": _tiff(tmp_path / "b.tif", image, 400000.0),
              "mask": _tiff(tmp_path / "b_mask.tif", label, 400150.0), "size": [30, 20]}]
    with pytest.raises(MaskValueError, match="b_mask.tif") as err:
        check_pair_headers(pairs)
    assert "a_mask.tif" not in str(err.value) and "400150" in str(err.value)
    assert "gdalwarp" in str(err.value)


def test_masks_without_a_place_and_alike_ones_pass(tmp_path):
    image = np.zeros((20, 30), np.uint16)
    plain = tmp_path / "p.tif"
    tifffile.imwrite(plain, np.zeros((20, 30), np.uint8))
    pairs = [{"image": _tiff(tmp_path / "a.tif", image, 1.0), "mask": str(plain)},
             {"image": _tiff(tmp_path / "b.tif", image, 1.0),
              "mask": _tiff(tmp_path / "b_mask.tif", image.astype(np.uint8), 1.0 + 1e-5)}]
    for pair in pairs:
        pair["size"] = [30, 20]
    check_pair_headers(pairs)  # nothing raised
