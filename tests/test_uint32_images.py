"""32-bit unsigned grey TIFFs (photon counts, summed frames): PIL holds them as signed 32-bit
(mode I), so values from 2**31 up read as negative; they are decoded by tifffile instead."""

import numpy as np
import tifffile

from unet.cache.intensity import _image_range
from unet.common.imageio import image_header, read_image

COUNTS = np.array([[0, 1_000_000_000], [3_000_000_000, 4_000_000_000]], np.uint32)


def test_values_above_two_to_the_31_keep_their_order(tmp_path):
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, COUNTS)
    expected = np.round(COUNTS.astype(float) * 255 / 4e9)
    assert read_image(path)[..., 0].tolist() == expected.tolist()
    lo, hi = _image_range((str(path), False))
    assert lo == 0 and hi >= 3.99e9
    assert image_header(path) in (("I", (2, 2)), ("F", (2, 2)))  # wide grey


def test_small_counts_stay_integers(tmp_path):
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, (COUNTS // 1_000_000).astype(np.uint32))  # up to 4000
    assert read_image(path)[..., 0].tolist() == [[0, 64], [191, 255]]
    assert image_header(path)[0] == "I"
