"""Data sets mixing 8-bit and wide (16-bit, float) images: 8-bit ones are read as they are,
wide ones scaled by the data set's range, so the same picture reaches the model at two grey
levels; preprocess and `unet predict` name them."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.infer.input_checks import warn_unprepared_values

W, H = 16, 12


def _picture(i: int) -> np.ndarray:
    """A grey field (40-120) with a 200 square: one picture, shifted per image."""
    img = np.random.default_rng(i).integers(40, 120, (H, W)).astype(np.uint8)
    img[3:9, 2 + i:8 + i] = 200
    return img


def _dataset(root: Path, eight: set[int]) -> Path:
    """Six pairs; images in `eight` saved as 8-bit PNG, the rest as 16-bit TIFF (x16)."""
    pairs = []
    for i in range(6):
        img, path = _picture(i), root / (f"i{i}.png" if i in eight else f"i{i}.tif")
        Image.fromarray(img).save(path) if i in eight else tifffile.imwrite(
            path, img.astype(np.uint16) * 16)
        mask = np.zeros((H, W), np.uint8)
        mask[3:9, 2 + i:8 + i] = 255
        Image.fromarray(mask).save(root / f"m{i}.png")
        pairs.append({"id": f"p{i}", "image": str(path), "mask": str(root / f"m{i}.png"),
                      "size": [W, H]})
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ["p0", "p1", "p2", "p3"], "val": ["p4"],
                                     "test": ["p5"]})
    return root


def _cache(root: Path, caplog, **settings) -> tuple[dict, list[str]]:
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                          PreprocessSettings(width=W, height=H, **settings))
    return meta, [r.getMessage() for r in caplog.records if "8-bit" in r.getMessage()]


@pytest.mark.parametrize("settings", [{}, {"intensity": "image"},
                                      {"intensity_window": [0, 4095]}])
def test_a_data_set_of_two_depths_is_named(tmp_path, caplog, settings):
    # Two of four training images exported as 8-bit PNG beside 16-bit TIFFs: the same square
    # (200, x16 in the TIFFs) was cached at 200 in the PNGs and 255 in the TIFFs (the range
    # 0 to 3200), without a word; the model saw two distributions of one tissue.
    root = _dataset(tmp_path, eight={0, 1})
    meta, notes = _cache(root, caplog, **settings)
    cached = np.load(root / "cache" / "train_images.npy")[..., 0]
    assert np.abs(cached[0].astype(int) - _picture(0)).max() == 0  # 8-bit: as it is
    if not settings:
        assert meta["intensity_range"] == [0.0, 3200.0]
        assert cached[2].max() == 255  # the same square, 55 grey levels brighter
    (note,) = notes
    assert "2 of 4 training images are 8-bit" in note and "i0.png" in note and "i1.png" in note
    assert "i2.tif" in note and "one depth" in note


def test_one_depth_is_not_named(tmp_path, caplog):
    (tmp_path / "a").mkdir()
    assert _cache(_dataset(tmp_path / "a", eight=set()), caplog)[1] == []
    assert _cache(_dataset(tmp_path, eight=set(range(6))), caplog)[1] == []


def test_an_eight_bit_image_given_to_a_model_of_wide_ones_is_named(tmp_path, caplog):
    # A model that learnt 16-bit images scaled by 0 to 3200 was given an 8-bit export of the
    # same field: read as it is, its 200 square reached the model 55 levels dimmer, unnamed.
    root = _dataset(tmp_path, eight={5})
    ckpt = {"intensity": "dataset", "intensity_range": [0.0, 3200.0], "in_channels": 1}
    with caplog.at_level(logging.WARNING):
        warn_unprepared_values([root / "i4.tif"], ckpt)
        assert caplog.text == ""
        warn_unprepared_values([root / "i4.tif", root / "i5.png"], ckpt)
    assert "i5.png" in caplog.text and "i4.tif" not in caplog.text
    assert "8-bit" in caplog.text and "0 to 3200" in caplog.text


@pytest.mark.parametrize("intensity", ["dataset", "image"])
def test_the_depth_check_reuses_the_band_pass_headers(tmp_path, caplog, monkeypatch, intensity):
    # Under intensity_bands: each the range pass read each training image's header, then the
    # depth check read it again: two reads an image (40 for 20), now one.
    from unet.cache import band_intensity
    from unet.cache import intensity as module

    images = []
    for i in range(20):
        path = tmp_path / (f"i{i}.png" if i % 2 else f"i{i}.tif")
        Image.fromarray(_picture(i % 6)).save(path) if i % 2 else tifffile.imwrite(
            path, _picture(i % 6).astype(np.uint16) * 16)
        images.append(str(path))
    reads = []
    header = module.image_header
    monkeypatch.setattr(module, "image_header", lambda p: reads.append(p) or header(p))
    settings = PreprocessSettings(width=W, height=H, intensity=intensity, intensity_bands="each")
    with caplog.at_level(logging.WARNING):
        band_intensity.data_range(images, 1, settings, 1)
    assert len(reads) == 20 and set(reads) == set(images), len(reads)
    assert "10 of 20 training images are 8-bit" in caplog.text  # still named
