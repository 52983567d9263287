"""Band files that hold no nodata tag (Sentinel-2's .jp2 reflectances, where 0 is no data)
declare it with dataset.<source>.band_nodata or `unet stack --nodata`: written as the stack's
GDAL_NODATA tag, so that the existing no-data handling reads the fill as missing. Before,
nothing marked it, and the fill was trained and predicted as a class."""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.common.gdal_fill import tiff_nodata
from unet.common.nodata import image_nodata
from unet.dataset.band_files import stack_bands, stack_folder
from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, layout_from

S = 24
CORNER = np.add.outer(np.arange(S), np.arange(S)) < 10  # the swath's edge: a tilted fill


def _jp2(path, arr: np.ndarray):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(imagecodecs.jpeg2k_encode(arr, level=0, codecformat="jp2"))
    return path


def _band(seed: int) -> np.ndarray:
    """A uint16 reflectance band, 0 in the corner outside the swath."""
    band = np.random.default_rng(seed).integers(100, 10000, (S, S)).astype(np.uint16)
    band[CORNER] = 0
    return band


def _scenes(root, n: int = 2) -> dict:
    for i in range(n):
        _jp2(root / f"R10m/T{i}_B02_10m.jp2", _band(i))
        _jp2(root / f"R10m/T{i}_B08_10m.jp2", _band(i + 5))
        (root / "labels").mkdir(exist_ok=True)
        Image.fromarray(np.zeros((S, S), np.uint8)).save(root / f"labels/T{i}.png")
    return {"images": "R10m", "image_suffix": "_B02_10m", "masks": "labels",
            "image_extensions": [".jp2"], "band_files": ["R10m/{id}_B08_10m.jp2"]}


def test_band_nodata_is_the_stacks_nodata_and_marks_the_fill(tmp_path):
    settings = {**_scenes(tmp_path), "band_nodata": 0}
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path,
                              layout_from(settings, "local"))
    stack = manifest["pairs"][0]["image"]
    assert tiff_nodata(stack) == 0
    assert np.array_equal(image_nodata(stack), CORNER)  # what masks.ignore, CRF, metrics read
    assert np.array_equal(tifffile.imread(stack)[..., 1], _band(5))  # the samples as they were
    # Without it, as before: no tag, the fill a class like any other
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path,
                              layout_from(_scenes(tmp_path), "local"))
    assert tiff_nodata(manifest["pairs"][0]["image"]) is None


def test_unet_stack_nodata(tmp_path, monkeypatch):
    from unet.cli import main

    _scenes(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["stack", "R10m", "R10m/{id}_B08_10m.jp2", "--suffix", "_B02_10m",
                 "--nodata", "0", "-o", "out"]) == 0
    assert tiff_nodata("out/T1.tif") == 0 and np.array_equal(image_nodata("out/T1.tif"), CORNER)
    out = stack_folder("R10m", ["R10m/{id}_B08_10m.jp2"], "plain", suffix="_B02_10m")
    assert tiff_nodata(out[0]) is None


def test_a_band_files_own_nodata_tag_is_kept(tmp_path):
    """A GeoTIFF band that declares its own fill (a DEM's -9999) keeps it as its fill, set to
    the stack's one; the declared 0 is the fill of the files that declare none."""
    dem = np.full((S, S), 120.0, np.float32)
    dem[CORNER] = -9999
    tifffile.imwrite(tmp_path / "dem.tif", dem, extratags=[(42113, "s", 0, "-9999", True)])
    tifffile.imwrite(tmp_path / "b02.tif", _band(0).astype(np.float32))
    stack = stack_bands(([tmp_path / "b02.tif", tmp_path / "dem.tif"], tmp_path / "s.tif", 0))
    assert tiff_nodata(stack) == 0 and np.array_equal(image_nodata(stack), CORNER)
    assert (tifffile.imread(stack)[..., 1][~CORNER] == 120).all()


def test_a_nodata_value_the_samples_cannot_hold_is_refused_naming_the_key(tmp_path):
    settings = {**_scenes(tmp_path), "band_nodata": -9999}
    with pytest.raises(DataLayoutError, match=r"band_nodata.* -9999 .*uint16"):
        write_manifest(tmp_path / "m.json", "local", tmp_path, layout_from(settings, "local"))


def test_band_nodata_marks_the_fill_of_single_file_images_too(tmp_path):
    """Without band_files, each image is written as a TIFF with the declared nodata (its GeoJP2
    place and its bands kept); before, band_nodata was silently ignored there."""
    _scenes(tmp_path, 1)
    rgb = np.stack([_band(1), _band(2), _band(3)], axis=-1) // 40  # a 3-band .jp2 of uint16
    _jp2(tmp_path / "rgb/T0.jp2", rgb.astype(np.uint16))
    settings = {"images": "rgb", "masks": "labels", "image_extensions": [".jp2"],
                "band_nodata": 0}
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path,
                              layout_from(settings, "local"))
    pair = manifest["pairs"][0]
    assert pair["image"].endswith("stacked_images/T0.tif") and "image_bands" not in pair
    assert pair["image_from"] == str(tmp_path / "rgb/T0.jp2")
    assert tiff_nodata(pair["image"]) == 0
    assert np.array_equal(image_nodata(pair["image"]), CORNER)
    assert np.array_equal(tifffile.imread(pair["image"]), rgb)  # every band as it was
    # one band, and a TIFF whose own nodata tag is kept, not the declared one
    settings = {**settings, "images": "R10m", "image_suffix": "_B02_10m"}
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path,
                              layout_from(settings, "local"))
    assert np.array_equal(image_nodata(manifest["pairs"][0]["image"]), CORNER)
    (tmp_path / "tif").mkdir()
    tifffile.imwrite(tmp_path / "tif/T0.tif", np.where(CORNER, 7, _band(0)).astype(np.uint16),
                     extratags=[(42113, "s", 0, "7", True)])
    settings = {"images": "tif", "masks": "labels", "band_nodata": 0}
    manifest = write_manifest(tmp_path / "m.json", "local", tmp_path,
                              layout_from(settings, "local"))
    assert tiff_nodata(manifest["pairs"][0]["image"]) == 7
    assert np.array_equal(image_nodata(manifest["pairs"][0]["image"]), CORNER)


def test_a_lone_photos_copy_is_turned_as_its_exif_says(tmp_path):
    # band_nodata's copy of a JPEG whose EXIF turns it a quarter (a drone's, a phone's) kept
    # the stored pixels: a 40x20 TIFF beside its 20x40 mask, the pair's size, as shown
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :10] = 200  # the stored left edge: the top once turned (orientation 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "images/a.jpg", exif=exif, quality=100)
    Image.fromarray(np.zeros((40, 20), np.uint8)).save(tmp_path / "masks/a.png")
    settings = {"path": str(tmp_path), "images": "images", "masks": "masks", "band_nodata": 0}
    manifest = write_manifest(tmp_path / "out/manifest.json", "local", tmp_path,
                              layout_from(settings, "local"))
    pair = manifest["pairs"][0]
    copy = tifffile.imread(pair["image"])
    assert pair["size"] == [20, 40] and copy.shape == (40, 20, 3)
    assert copy[:8].min() > 150 and copy[12:].max() < 50  # bright on top, as shown
