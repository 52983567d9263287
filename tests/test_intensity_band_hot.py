"""preprocess.intensity_bands: each gives each band a range of its own, so a hot pixel in one
band squeezes that band alone: the warning names the band and its images, as joint's names
the images whose hot pixel tops the one range."""

from __future__ import annotations

import logging

import tifffile

from tests.test_intensity_bands import _cache, _dataset


def _hot_in_band_2(root, value: int = 4000) -> None:
    """A stuck pixel in band 2 (0-300) of training image i1, as bright as band 1's top."""
    img = tifffile.imread(root / "i1.tif")
    img[3, 3, 1] = value
    tifffile.imwrite(root / "i1.tif", img, planarconfig="contig", photometric="minisblack")


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("unet.cache") and r.levelno == logging.WARNING
            and "hot pixel" in r.getMessage()]


def test_a_hot_pixel_in_one_band_is_named_with_its_band(tmp_path, caplog):
    # Band 2 (0-300) was cached in 19 of 255 grey levels by i1's one pixel at 4000 without a
    # word: the check was not run per band (joint's range, 0-4000, is band 1's own).
    root = _dataset(tmp_path / "each")
    _hot_in_band_2(root)
    meta = _cache(root, intensity_bands="each")
    assert meta["intensity_range"][1] == [0.0, 4000.0]
    (note,) = _warnings(caplog)
    assert "band 2" in note and "i1.tif (up to 4000)" in note and "i0.tif" not in note
    assert "19 of 255" in note and "preprocess.intensity_top: 99.99" in note


def test_joint_warns_as_before(tmp_path, caplog):
    root = _dataset(tmp_path / "joint")
    _hot_in_band_2(root)
    _cache(root)
    assert _warnings(caplog) == []  # band 1 reaches 4000: the range is the data's own
    _hot_in_band_2(root, 65535)
    _cache(root)
    (note,) = _warnings(caplog)
    assert "i1.tif (up to 65535)" in note and "band" not in note


def test_clean_bands_are_no_warning(tmp_path, caplog):
    _cache(_dataset(tmp_path / "clean"), intensity_bands="each")
    assert _warnings(caplog) == []


def test_a_hot_pixel_in_one_band_under_intensity_image_is_named_with_its_band(tmp_path, caplog):
    # Each band of each image by its own range: i1's pixel at 4000 left its band 2 (0-300) at
    # 19 of 255 grey levels without a word, the image judged with band 1 (up to 4000) beside.
    root = _dataset(tmp_path / "each")
    _hot_in_band_2(root)
    assert _cache(root, intensity="image", intensity_bands="each")["intensity_range"] is None
    (note,) = _warnings(caplog)
    assert "band 2" in note and "i1.tif (up to 4000: " in note and "i0.tif" not in note
    assert "99.99 % of its band 2 pixels in at most 19 of 255" in note
    assert "preprocess.intensity: image" in note


def test_joint_under_intensity_image_warns_as_before(tmp_path, caplog):
    root = _dataset(tmp_path / "joint")
    _hot_in_band_2(root)
    _cache(root, intensity="image")
    assert _warnings(caplog) == []  # band 1 reaches 4000: the image's range is its own
    _hot_in_band_2(root, 65535)
    _cache(root, intensity="image")
    (note,) = _warnings(caplog)
    assert "i1.tif (up to 65535: 99.99 % of its pixels in at most" in note
    assert "band" not in note


def test_clean_bands_under_intensity_image_are_no_warning(tmp_path, caplog):
    _cache(_dataset(tmp_path / "clean"), intensity="image", intensity_bands="each")
    assert _warnings(caplog) == []
