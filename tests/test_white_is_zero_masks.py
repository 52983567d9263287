"""TIFF masks whose PhotometricInterpretation is WhiteIsZero hold their labels as stored:
tifffile writes a bool array (`mask > 0`) that way as a 1-bit file, and ImageJ saves binary
masks with an inverted LUT so (objects 255, shown black). PIL shows them inverted, which made
every object background and the background class 1; they read as tifffile, scikit-image and
ImageJ read them (16-bit ones already did)."""

import numpy as np
import pytest
import tifffile

from unet.common.maskio import pack_rgb, read_mask, read_mask_values
from unet.common.roi import read_roi


def _objects():
    mask = np.zeros((24, 32), np.uint8)
    mask[4:12, 6:20] = 255
    return mask


def test_a_bool_mask_saved_by_tifffile_reads_as_its_values(tmp_path):
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, _objects() > 0)  # 1-bit, WhiteIsZero
    assert tifffile.TiffFile(path).pages[0].photometric == tifffile.PHOTOMETRIC.MINISWHITE
    values, packed = read_mask_values(path)
    assert not packed and np.array_equal(values, _objects())


@pytest.mark.parametrize("soft", [False, True])
def test_an_imagej_inverted_lut_mask_reads_as_stored(tmp_path, soft):
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, _objects(), photometric="miniswhite")
    assert np.array_equal(read_mask_values(path, soft=soft)[0], _objects())
    assert np.array_equal(read_mask(path, luminance=soft), _objects())


def test_white_is_zero_reads_alike_at_8_and_16_bits(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", _objects() // 255, photometric="miniswhite")
    tifffile.imwrite(tmp_path / "b.tif", (_objects() // 255).astype(np.uint16),
                     photometric="miniswhite")
    eight, sixteen = (read_mask_values(tmp_path / n)[0] for n in ("a.tif", "b.tif"))
    assert np.array_equal(eight, sixteen)


def test_a_white_is_zero_mask_in_a_colour_data_set_reads_as_stored(tmp_path):
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, _objects() > 0)
    expected = pack_rgb(np.repeat(_objects()[..., None], 3, axis=-1))
    assert np.array_equal(read_mask(path, colour=True), expected)


def test_a_white_is_zero_region_of_interest_is_its_stored_ones(tmp_path):
    path = tmp_path / "fov.tif"
    tifffile.imwrite(path, _objects() > 0)
    assert np.array_equal(read_roi(path, (24, 32), "m.png"), _objects() > 0)


def test_a_turned_white_is_zero_mask_is_not_inverted_twice(tmp_path):
    # A TIFF whose Orientation swaps its sides is decoded by tifffile (PIL scrambles it), which
    # gives the stored values already: undoing PIL's inversion there inverted the labels.
    stored = np.zeros((6, 10), np.uint8)
    stored[1:3, 2:5] = 255
    tifffile.imwrite(tmp_path / "m.tif", stored, photometric="miniswhite",
                     extratags=[(274, 3, 1, 6, True)])  # Orientation 6: turned 90 degrees
    values = read_mask_values(tmp_path / "m.tif")[0]
    assert values.shape == (10, 6) and int((values == 255).sum()) == 6
