"""preprocess.intensity_top: a few hot pixels (a camera's stuck pixel, a speck of fluorescent
debris) in one training image set the top of the data set's range only when it is 100."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from tests.test_intensity import H, W, _dataset
from unet.cache import intensity
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.applicable import applicable


def _hot_pixel(root) -> None:
    """One stuck pixel at 65535 in training image i1 (12-bit fields, objects at 3000)."""
    img = tifffile.imread(root / "i1.tif")
    img[0, 0] = 65535
    tifffile.imwrite(root / "i1.tif", img)


@pytest.mark.parametrize(("top", "span"), [(100, 65535.0), (99.9, 3000.0)])
def test_one_hot_pixel_sets_the_range_only_at_100(tmp_path, top, span):
    root = _dataset(tmp_path)
    _hot_pixel(root)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H, intensity_top=top))
    assert meta["intensity_range"] == [0.0, span]
    val = np.load(root / "cache" / "val_images.npy")[0]
    # objects at 3000 reach 255 of 255, not 12 (3000 / 65535 of it) as at 100
    assert val.max() == (255 if top < 100 else round(3000 * 255 / 65535))


def test_the_default_is_left_out_of_the_params():
    # a cache made before the key existed is not rerun; 99.9 reruns it, `image` ignores it
    assert "intensity_top" not in applicable("preprocess", {"mode": "native", "intensity_top": 100})
    assert "intensity_top" in applicable("preprocess", {"mode": "native", "intensity_top": 99.9})
    assert "intensity_top" not in applicable(
        "preprocess", {"mode": "native", "intensity": "image", "intensity_top": 99.9})


def _warnings(caplog) -> list[str]:
    """The intensity module's warnings."""
    return [r.getMessage() for r in caplog.records
            if r.name == "unet.cache.intensity" and r.levelno == logging.WARNING]


def test_a_hot_pixel_that_tops_the_range_is_named(tmp_path, caplog):
    # Preprocessing cached every field at 12 of 255 grey levels without a word: the one
    # stuck pixel at 65535 in i1 set the range, and the fix (intensity_top) went unmentioned.
    root = _dataset(tmp_path)
    _hot_pixel(root)
    preprocess(root / "manifest.json", root / "split.json", root / "cache",
               PreprocessSettings(width=W, height=H))
    (note,) = _warnings(caplog)
    assert "i1.tif" in note and "i0.tif" not in note
    assert "12 of 255" in note and "preprocess.intensity_top: 99.99" in note


@pytest.mark.parametrize("case", ["clean", "real", "topped", "8-bit"])
def test_no_warning_where_the_top_is_the_datas_own(tmp_path, caplog, case):
    # real: a bright object of 40 pixels at 60000 is data, not a hot pixel; topped: the fix
    root = _dataset(tmp_path)
    if case == "real":
        img = tifffile.imread(root / "i1.tif")
        img[14:19, 2:10] = 60000
        tifffile.imwrite(root / "i1.tif", img)
    elif case == "topped":
        _hot_pixel(root)
    elif case == "8-bit":
        for i in range(6):
            img = (tifffile.imread(root / f"i{i}.tif") // 16).astype(np.uint8)
            img[0, 0] = 255
            tifffile.imwrite(root / f"i{i}.tif", img)
    top = 99.99 if case == "topped" else 100
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H, intensity_top=top))
    assert meta["intensity_range"] == {"clean": [0.0, 3000.0], "real": [0.0, 60000.0],
                                       "topped": [0.0, 3000.0], "8-bit": None}[case]
    assert _warnings(caplog) == []


def test_floats_below_one_are_not_blamed_on_a_pixel(tmp_path):
    # value_range's floor of 1 tops floats in [0, 0.1]: no pixel set it, intensity_top
    # cannot lower it, so the advice would point the wrong way
    arr = np.random.default_rng(0).random((20, 24)).astype(np.float32) / 10
    tifffile.imwrite(tmp_path / "f.tif", arr)
    assert intensity.hot_pixel_note({str(tmp_path / "f.tif"): (0.0, 1.0)},
                               {str(tmp_path / "f.tif"): 0.1}, [0.0, 1.0]) is None


def test_a_hot_pixel_under_intensity_image_is_named(tmp_path, caplog):
    # Each image by its own range: the stuck pixel at 65535 left i1's cells (3000) at 12 of
    # 255 grey levels in training and prediction alike, without a word (intensity_top, the fix
    # under `dataset`, is unused here).
    root = _dataset(tmp_path)
    _hot_pixel(root)
    preprocess(root / "manifest.json", root / "split.json", root / "cache",
               PreprocessSettings(width=W, height=H, intensity="image"))
    (note,) = _warnings(caplog)
    assert "i1.tif (up to 65535" in note and "i0.tif" not in note
    assert "99.99 % of its pixels in at most 12 of 255" in note
    assert "preprocess.intensity: image" in note


def test_no_hot_pixel_under_intensity_image_is_no_warning(tmp_path, caplog):
    root = _dataset(tmp_path)
    preprocess(root / "manifest.json", root / "split.json", root / "cache",
               PreprocessSettings(width=W, height=H, intensity="image"))
    assert _warnings(caplog) == []


def test_intensity_top_set_under_intensity_image_hides_no_hot_pixel(tmp_path, caplog):
    root = _dataset(tmp_path)
    _hot_pixel(root)
    preprocess(root / "manifest.json", root / "split.json", root / "cache",
               PreprocessSettings(width=W, height=H, intensity="image", intensity_top=99.9))
    assert "i1.tif (up to 65535" in _warnings(caplog)[0]
