"""A drone orthomosaic (OpenDroneMap, Metashape, Pix4D) marks the ground outside the flight
with a transparent alpha band, not a nodata tag: GDAL and QGIS mask those pixels, and so must
the masks, scores and CRF here (before 2026-12-06 they were data, their white or black fill
given a class and scored as background)."""

from __future__ import annotations

import numpy as np
import tifffile
from PIL import Image

from tests.test_georef import _geokeys

H, W = 24, 32


def _outside() -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return xx < 4 + yy // 3  # a tilted edge of the flight


def _ortho(path, bands: int = 3, alpha: int = 2, transparent=None) -> None:
    """A GeoTIFF of `bands` uint8 bands and an alpha band (ExtraSamples `alpha`: 2
    unassociated, 1 premultiplied), 0 over `transparent` (the outside by default), white there."""
    rng = np.random.default_rng(0)
    img = rng.integers(60, 200, (H, W, bands + 1)).astype(np.uint8)
    hidden = _outside() if transparent is None else transparent
    img[..., -1] = np.where(hidden, 0, 255)
    img[hidden, :-1] = 255  # what the exporter left under the transparency
    keys, rgb = _geokeys(32633), bands == 3
    extra = [0] * (0 if rgb else bands - 1) + [alpha]  # further bands unspecified, alpha last
    tifffile.imwrite(path, img, photometric="rgb" if rgb else "minisblack",
                     planarconfig="contig", extrasamples=extra, extratags=[
                         (33550, "d", 3, (0.02, 0.02, 0.0), True),
                         (33922, "d", 6, (0.0, 0.0, 0.0, 500000.0, 5000000.0, 0.0), True),
                         (34735, "H", len(keys), keys, True)])


def test_transparent_pixels_of_an_orthomosaic_are_no_data(tmp_path):
    from unet.common.nodata import image_nodata

    _ortho(tmp_path / "rgba.tif")
    _ortho(tmp_path / "premultiplied.tif", alpha=1)
    for name in ("rgba", "premultiplied"):
        void = image_nodata(tmp_path / f"{name}.tif")
        assert void is not None and (void == _outside()).all(), name


def test_an_opaque_or_wholly_transparent_alpha_marks_nothing(tmp_path):
    from unet.common.nodata import image_nodata

    _ortho(tmp_path / "opaque.tif", transparent=np.zeros((H, W), bool))
    _ortho(tmp_path / "clear.tif", transparent=np.ones((H, W), bool))  # a bad export: no mask
    assert image_nodata(tmp_path / "opaque.tif") is None
    assert image_nodata(tmp_path / "clear.tif") is None


def test_a_multi_band_orthomosaics_alpha_is_its_no_data(tmp_path):
    from unet.common.nodata import bands_nodata, image_and_nodata

    _ortho(tmp_path / "rgbn.tif", bands=4)  # RGB + near-infrared + alpha
    arr, void = bands_nodata(tmp_path / "rgbn.tif")
    assert arr.shape == (H, W, 4) and void is not None and (void == _outside()).all()
    img, void = image_and_nodata(tmp_path / "rgbn.tif")
    assert img.shape == (H, W, 4) and (void == _outside()).all()


def test_the_masks_sidecar_declares_the_transparent_ground_no_data(tmp_path):
    from unet.common.georef import write_georef

    _ortho(tmp_path / "field.tif")
    Image.fromarray(np.ones((H, W), np.uint8)).save(tmp_path / "field.png")
    assert write_georef(tmp_path / "field.tif", tmp_path / "field.png", 255)
    mask = np.array(Image.open(tmp_path / "field.png"))
    assert (mask[_outside()] == 255).all() and (mask[~_outside()] == 1).all()
    side = (tmp_path / "field.png.aux.xml").read_text()
    assert "<NoDataValue>255</NoDataValue>" in side and "<GeoTransform>" in side


def test_the_scores_leave_the_transparent_ground_out(tmp_path):
    from unet.common.labels import IGNORE_INDEX
    from unet.evaluate.void import without_nodata

    _ortho(tmp_path / "field.tif")
    target = without_nodata(np.zeros((H, W), np.int64), tmp_path / "field.tif", 255)
    assert (target[_outside()] == IGNORE_INDEX).all() and (target[~_outside()] == 0).all()


def test_preprocess_warns_where_the_labels_give_the_transparent_ground_a_class(tmp_path):
    from unet.cache.fill_labels import fill_note
    from unet.common.labels import MaskMapping

    _ortho(tmp_path / "field.tif")
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "field_mask.png")
    pairs = [{"id": "field", "image": str(tmp_path / "field.tif"),
              "mask": str(tmp_path / "field_mask.png")}]
    note = fill_note(pairs, MaskMapping(values=(0, 1)))
    assert note and "alpha" in note and "masks.ignore" in note and "class 0" in note
    assert fill_note(pairs, MaskMapping(values=(0, 1), ignore=255)) is None
