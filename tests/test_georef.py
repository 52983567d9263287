"""GeoTIFF georeferencing (CRS and geotransform) of new images reaches their predicted masks
as a GDAL sidecar (<mask>.png.aux.xml), so QGIS lays the masks over the scenes; before, the
PNG masks of a GeoTIFF came out with no position at all."""

from __future__ import annotations

import numpy as np
import tifffile

from tests.test_bands import _rgbir
from tests.test_value_spaces import H, W, _preprocess, _train_and_predict
from unet.cache.settings import PreprocessSettings
from unet.common.georef import georef_of

UTM33 = 32633


def _geokeys(epsg: int, raster_type: int = 1) -> tuple[int, ...]:
    """A GeoKeyDirectory: projected model, raster type (1 area, 2 point), projected CRS."""
    return (1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, raster_type, 3072, 0, 1, epsg)


def _geotiff(path, arr, scale=(10.0, 10.0), corner=(500000.0, 4600000.0), raster_type=1):
    keys = _geokeys(UTM33, raster_type)
    tifffile.imwrite(path, arr, photometric="minisblack", planarconfig="contig", extratags=[
        (33550, "d", 3, (*scale, 0.0), True),
        (33922, "d", 6, (0.0, 0.0, 0.0, *corner, 0.0), True),
        (34735, "H", len(keys), keys, True)])
    return path


def _model_and_scene(tmp_path):
    """A tiny 5-band model at tmp_path/model.pt, and scene.tif: a GeoTIFF of one of its images."""
    _rgbir(tmp_path, bands=5)
    _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    _train_and_predict(tmp_path)
    return _geotiff(tmp_path / "scene.tif", tifffile.imread(tmp_path / "img6.tif"))


def test_the_georeferencing_is_read(tmp_path):
    arr = np.zeros((6, 5, 5), np.uint16)
    geo = georef_of(_geotiff(tmp_path / "a.tif", arr))
    assert geo == ((500000.0, 10.0, 0.0, 4600000.0, 0.0, -10.0), f"EPSG:{UTM33}")
    # PixelIsPoint: the tie point is the first pixel's centre, half a pixel in from the corner
    point = georef_of(_geotiff(tmp_path / "p.tif", arr, raster_type=2))
    assert point[0] == (499995.0, 10.0, 0.0, 4600005.0, 0.0, -10.0)
    tifffile.imwrite(tmp_path / "plain.tif", arr, photometric="minisblack")
    assert georef_of(tmp_path / "plain.tif") is None


def test_predicted_masks_of_geotiffs_keep_their_place(tmp_path):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    scene = _model_and_scene(tmp_path)
    out = tmp_path / "new"
    predict_files([tmp_path / "model.pt"], [scene, tmp_path / "img7.tif"], out,
                  PredictSettings(device="cpu"))
    side = (out / "scene.png.aux.xml").read_text()
    assert f"<SRS>EPSG:{UTM33}</SRS>" in side
    assert "<GeoTransform>500000, 10, 0, 4600000, 0, -10</GeoTransform>" in side
    assert not (out / "img7.png.aux.xml").exists()  # no georeferencing, no sidecar


def test_stacked_band_files_keep_the_first_ones_georeferencing_and_nodata(tmp_path):
    from unet.common.gdal_fill import tiff_nodata
    from unet.dataset.band_files import stack_bands

    paths = []
    for k in range(3):
        band = np.full((6, 5), 300.0 + 100 * k, np.float32)
        band[0] = -9999.0  # the fill outside the scene
        keys = _geokeys(UTM33)
        tifffile.imwrite(tmp_path / f"b{k}.tif", band, extratags=[
            (33550, "d", 3, (10.0, 10.0, 0.0), True),
            (33922, "d", 6, (0.0, 0.0, 0.0, 500000.0, 4600000.0, 0.0), True),
            (34735, "H", len(keys), keys, True), (42113, "s", 0, "-9999", True)])
        paths.append(tmp_path / f"b{k}.tif")
    stack = stack_bands((paths, tmp_path / "stack.tif"))
    assert georef_of(stack) == georef_of(paths[0])
    assert tiff_nodata(stack) == -9999.0  # so the fill stays out of the range


def test_band_files_of_different_places_are_refused(tmp_path):
    import pytest

    from unet.dataset.band_files import stack_bands
    from unet.dataset.layout import DataLayoutError

    band = np.zeros((6, 5), np.uint16)
    red = _geotiff(tmp_path / "red.tif", band)
    nir = _geotiff(tmp_path / "nir.tif", band, corner=(510000.0, 4600000.0))  # the next tile's
    with pytest.raises(DataLayoutError, match="nir.tif.*red.tif"):
        stack_bands(([red, nir], tmp_path / "stack.tif"))
    assert not (tmp_path / "stack.tif").exists()
    same = _geotiff(tmp_path / "green.tif", band, corner=(500000.0 + 1e-7, 4600000.0))
    stack_bands(([red, same], tmp_path / "stack.tif"))  # a rounding apart: one grid


def test_overwrite_removes_the_replaced_masks_sidecars(tmp_path):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    scene = _model_and_scene(tmp_path)
    out = tmp_path / "new"
    predict_files([tmp_path / "model.pt"], [scene], out, PredictSettings(device="cpu"))
    assert (out / "scene.png.aux.xml").is_file()
    predict_files([tmp_path / "model.pt"], [tmp_path / "img7.tif"], out,
                  PredictSettings(device="cpu", tta=True), overwrite=True)
    assert not (out / "scene.png").exists()
    assert not (out / "scene.png.aux.xml").exists()  # no place left beside no mask


def test_a_rerun_gives_masks_made_before_sidecars_theirs(tmp_path):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    scene = _model_and_scene(tmp_path)
    out = tmp_path / "new"
    predict_files([tmp_path / "model.pt"], [scene, tmp_path / "img7.tif"], out,
                  PredictSettings(device="cpu"))
    (out / "scene.png.aux.xml").unlink()  # as a run before 2026-12-06 left it
    mask = (out / "scene.png").read_bytes()
    assert predict_files([tmp_path / "model.pt"], [scene, tmp_path / "img7.tif"], out,
                         PredictSettings(device="cpu")) == 0  # both up to date: skipped
    assert "<GeoTransform>500000, 10," in (out / "scene.png.aux.xml").read_text()
    assert (out / "scene.png").read_bytes() == mask
    assert not (out / "img7.png.aux.xml").exists()


def test_a_stack_whose_first_band_file_is_plain_keeps_a_later_ones_place(tmp_path):
    # band_files' first file is the image itself: a plain one (a PNG export) before GeoTIFF
    # bands gave a stack of no place, and its masks no sidecar; nor were the others compared
    import pytest

    from unet.dataset.band_files import stack_bands
    from unet.dataset.layout import DataLayoutError

    band = np.zeros((6, 5), np.uint16)
    tifffile.imwrite(tmp_path / "red.tif", band)  # no georeferencing
    nir = _geotiff(tmp_path / "nir.tif", band)
    stack = stack_bands(([tmp_path / "red.tif", nir], tmp_path / "stack.tif"))
    assert georef_of(stack) == georef_of(nir)
    swir = _geotiff(tmp_path / "swir.tif", band, corner=(510000.0, 4600000.0))  # the next tile's
    with pytest.raises(DataLayoutError, match="swir.tif.*nir.tif"):
        stack_bands(([tmp_path / "red.tif", nir, swir], tmp_path / "stack2.tif"))


def test_a_stack_keeps_the_nodata_of_a_plain_first_band_beside_georeferenced_ones(tmp_path):
    # Taking every tag from the first georeferenced band file dropped the nodata value a plain
    # first file carried: its -9999 fill then counted as data in the scaling range.
    from unet.dataset.band_files import stack_bands

    band = np.full((6, 5), 300, np.int16)
    tifffile.imwrite(tmp_path / "red.tif", band, extratags=[(42113, "s", 0, "-9999", True)])
    nir = _geotiff(tmp_path / "nir.tif", band)
    stack = stack_bands(([tmp_path / "red.tif", nir], tmp_path / "stack.tif"))
    assert georef_of(stack) == georef_of(nir)
    with tifffile.TiffFile(stack) as tif:
        assert tif.pages[0].tags.valueof(42113).strip("\0 ") == "-9999"


def test_a_band_files_own_nodata_fill_becomes_the_stacks(tmp_path):
    # The stack keeps one nodata value, its first file's: a later band's own -9999 fill (beside
    # a first band filled with 0) stayed -9999, read as data, which squeezed that band's scene.
    from unet.common.gdal_fill import nodata_as_nan, tiff_nodata
    from unet.dataset.band_files import stack_bands

    red, dem = np.full((6, 5), 300, np.int16), np.full((6, 5), 1200, np.int16)
    red[0], dem[0] = 0, -9999  # the fill outside the scene, each file's own value
    tifffile.imwrite(tmp_path / "red.tif", red, extratags=[(42113, "s", 0, "0", True)])
    tifffile.imwrite(tmp_path / "dem.tif", dem, extratags=[(42113, "s", 0, "-9999", True)])
    stack = stack_bands(([tmp_path / "red.tif", tmp_path / "dem.tif"], tmp_path / "stack.tif"))
    read = nodata_as_nan(tifffile.imread(stack), tiff_nodata(stack))
    assert np.isnan(read[0]).all() and not np.isnan(read[1:]).any()
    assert np.nanmin(read[..., 1]) == 1200


def test_a_stack_keeps_a_fill_that_no_bands_data_holds(tmp_path):
    # The first file's 0 fill became the stack's for all: a DEM (its own fill -9999) at sea
    # level holds real 0s, which the stack then read as missing, the coast cut out.
    from unet.common.gdal_fill import nodata_as_nan, tiff_nodata
    from unet.dataset.band_files import stack_bands

    red, dem = np.full((6, 5), 300, np.int16), np.full((6, 5), 1200, np.int16)
    red[0], dem[0], dem[3] = 0, -9999, 0  # row 3: the sea, elevation 0
    tifffile.imwrite(tmp_path / "red.tif", red, extratags=[(42113, "s", 0, "0", True)])
    tifffile.imwrite(tmp_path / "dem.tif", dem, extratags=[(42113, "s", 0, "-9999\0", True)])
    stack = stack_bands(([tmp_path / "red.tif", tmp_path / "dem.tif"], tmp_path / "stack.tif"))
    read = nodata_as_nan(tifffile.imread(stack), tiff_nodata(stack))
    assert np.isnan(read[0]).all() and not np.isnan(read[1:]).any()
    assert (read[3, :, 1] == 0).all() and (read[3, :, 0] == 300).all()


def test_a_sidecar_given_to_a_skipped_mask_is_on_disk(tmp_path, monkeypatch):
    # a rerun that only gave old masks their sidecars synced nothing: after a power cut an
    # empty scene.png.aux.xml stood there, and the next rerun, seeing it, never rewrote it
    import os

    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    scene = _model_and_scene(tmp_path)
    out = tmp_path / "new"
    predict_files([tmp_path / "model.pt"], [scene], out, PredictSettings(device="cpu"))
    (out / "scene.png.aux.xml").unlink()  # as a run before 2026-12-06 left it
    synced, sync = [], os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")),
                                                 sync(fd))[1])
    assert predict_files([tmp_path / "model.pt"], [scene], out, PredictSettings(device="cpu")) == 0
    assert str(out / "scene.png.aux.xml") in synced, synced
