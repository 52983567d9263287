"""GeoTIFFs mark the pixels outside the scene with a nodata value (GDAL's tag 42113, e.g.
-9999 beside elevations or reflectances, 65535 beside 16-bit counts): those pixels read as
the lowest value and stay out of the intensity range, as NaN does, so the scene's values are
not squeezed into a few grey levels by a fill value far outside them."""

import logging

import numpy as np
import pytest
import tifffile

from unet.cache.intensity import _image_range
from unet.common.bands import read_bands
from unet.common.imageio import read_image
from unet.common.maskio import read_mask_values
from unet.common.nodata import image_nodata

NODATA = 42113


def _scene(dtype, fill):
    arr = np.tile(np.linspace(0, 3000, 32), (24, 1)).astype(dtype)
    arr[:4] = fill  # outside the scene
    return arr


def _write(path, arr, fill):
    tifffile.imwrite(path, arr, photometric="minisblack",
                     extratags=[(NODATA, "s", 0, str(fill), True)])


def test_a_grey_geotiffs_nodata_is_left_out_of_its_range(tmp_path):
    path = tmp_path / "dem.tif"
    _write(path, _scene(np.int16, -9999), -9999)
    got = read_image(path)[..., 0]
    assert got[:4].max() == 0  # nodata: the lowest grey
    assert got[4:].max() == 255 and got[4:, 0].max() == 0  # 0..3000 spans the 8 bits
    assert _image_range((str(path), False)) == (0.0, 3000.0)


def test_a_float_geotiffs_nodata_reads_as_nan_does(tmp_path):
    path = tmp_path / "refl.tif"
    _write(path, _scene(np.float32, -3.4028235e38) / 3000, -3.4028235e38)
    got = read_image(path)[..., 0]
    assert got[:4].max() == 0 and got[4:].max() == 255


def test_multi_band_geotiffs_nodata_is_left_out_of_the_bands_range(tmp_path):
    path = tmp_path / "scene.tif"
    bands = np.stack([_scene(np.uint16, 65535)] * 4, axis=-1)
    _write(path, bands, 65535)
    got = read_bands(path)
    assert got[:4].max() == 0 and got[4:].max() == 255
    assert _image_range((str(path), True)) == (0.0, 3000.0)


def test_a_masks_nodata_tag_leaves_its_values_alone(tmp_path):
    path = tmp_path / "labels.tif"
    labels = np.zeros((24, 32), np.uint16)
    labels[:4], labels[10:, 10:] = 65535, 2
    _write(path, labels, 65535)
    values, packed = read_mask_values(path)
    assert not packed and np.array_equal(values, labels)


@pytest.mark.parametrize("text", ["-3.4028234663852886e+38", "-3.4e+38"])
def test_gdals_float32_fill_is_read_without_a_warning_per_open(tmp_path, caplog, text):
    # GDAL's usual float32 fill (-FLT_MAX, as gdal_translate writes it; -3.4e+38 by other
    # tools): tifffile warned 'not castable to float32' on every open, three a scene's nodata
    path = tmp_path / "refl.tif"
    arr = _scene(np.float32, 0) / 3000
    arr[:4] = float(text)
    _write(path, arr, text)
    with caplog.at_level(logging.WARNING):
        got, void = read_image(path)[..., 0], image_nodata(path)
    assert got[:4].max() == 0 and got[4:].max() == 255 and void[:4].all() and not void[4:].any()
    assert not [r for r in caplog.records if "GDAL_NODATA" in r.getMessage()]


def test_a_nodata_written_with_a_decimal_comma_is_read_as_gdal_reads_it(tmp_path):
    # GDAL's CPLAtofM takes ',' as the decimal point (a tool run in a German locale wrote it)
    path = tmp_path / "dem.tif"
    _write(path, _scene(np.int16, -9999), "-9999,0")
    assert _image_range((str(path), False)) == (0.0, 3000.0)
    assert read_image(path)[4:, 0].max() == 0  # 0 m stays black: the fill is out of the range
