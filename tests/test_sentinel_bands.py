"""Sentinel-2 bands kept as JPEG 2000 files, a file per band and resolution (B02, B03, B04,
B08 at 10 m; B05, B11, B12 at 20 m): stacked by band_files and `unet stack`."""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest
import tifffile

from unet.dataset.band_files import stack_bands, stack_folder
from unet.dataset.layout import DataLayoutError


def _jp2(path, arr: np.ndarray):
    """A lossless JPEG 2000 band, as Sentinel-2 L2A keeps each band (uint16 reflectances)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(imagecodecs.jpeg2k_encode(arr, level=0, codecformat="jp2"))
    return path


def _band(size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 10000, (size, size)).astype(np.uint16)


def test_jp2_band_files_are_read_and_stacked(tmp_path):
    b02, b08 = _band(40, 0), _band(40, 1)
    paths = [_jp2(tmp_path / "T32TQM_B02_10m.jp2", b02), _jp2(tmp_path / "T32TQM_B08_10m.jp2", b08)]
    stacked = tifffile.imread(stack_bands((paths, tmp_path / "s.tif")))
    assert np.array_equal(stacked[..., 0], b02) and np.array_equal(stacked[..., 1], b08)


def test_a_coarser_band_is_refused_naming_the_resampling_fix(tmp_path):
    """A 20 m band beside 10 m ones is half their size: the refusal says so and how to
    resample it to the image's grid, not to replace or remove the file."""
    b02 = _jp2(tmp_path / "R10m/T32TQM_B02_10m.jp2", _band(40))
    b11 = _jp2(tmp_path / "R20m/T32TQM_B11_20m.jp2", _band(20))
    with pytest.raises(DataLayoutError) as err:
        stack_bands(([b02, b11], tmp_path / "s.tif"))
    message = str(err.value)
    assert "1/2" in message and "-outsize 40 40" in message and "-r bilinear" in message
    assert "remove the image" not in message


def test_unet_stack_takes_a_folder_of_jp2_bands(tmp_path):
    """`unet stack R10m/ "R10m/{id}_B08_10m.jp2" --suffix _B02_10m`: the folder's .jp2 files
    are its images (before, 'no images (.png, ...)' in a folder of Sentinel-2 bands)."""
    b02, b08 = _band(40, 0), _band(40, 1)
    _jp2(tmp_path / "R10m/T32TQM_20230704_B02_10m.jp2", b02)
    _jp2(tmp_path / "R10m/T32TQM_20230704_B08_10m.jp2", b08)
    out = stack_folder(tmp_path / "R10m", [str(tmp_path / "R10m/{id}_B08_10m.jp2")],
                       tmp_path / "out", suffix="_B02_10m")
    assert [p.name for p in out] == ["T32TQM_20230704.tif"]
    assert np.array_equal(tifffile.imread(out[0]), np.stack([b02, b08], axis=-1))
