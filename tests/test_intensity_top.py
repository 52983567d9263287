"""preprocess.intensity_top: a few hot pixels (a camera's stuck pixel, a speck of fluorescent
debris) in one training image set the top of the data set's range only when it is 100."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tests.test_intensity import H, W, _dataset
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
