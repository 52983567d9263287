"""An orthomosaic exported as an RGBA PNG or WebP (QGIS "Save as image", Agisoft's PNG tiles)
marks the ground outside the flight transparent, as a TIFF's alpha band does: its masks,
scores and CRF leave it out alike (before 2026-12-06 only a TIFF's alpha counted)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

H, W = 24, 32


def _outside() -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return xx < 4 + yy // 3  # a tilted edge of the flight


def _export(path, hidden=None, mode: str = "RGBA", **save) -> None:
    """An RGBA (or LA) image, alpha 0 and white over `hidden` (the outside by default)."""
    hidden = _outside() if hidden is None else hidden
    img = np.random.default_rng(0).integers(60, 200, (H, W, 4)).astype(np.uint8)
    img[..., 3] = np.where(hidden, 0, 255)
    img[hidden, :3] = 255
    im = Image.fromarray(img, "RGBA")
    (im if mode == "RGBA" else im.convert(mode)).save(path, **save)


@pytest.mark.parametrize("name, save", [("field.png", {}), ("grey.png", {"mode": "LA"}),
                                        ("field.webp", {"lossless": True})])
def test_transparent_pixels_of_a_png_or_webp_are_no_data(tmp_path, name, save):
    from unet.common.nodata import image_and_nodata, image_nodata

    _export(tmp_path / name, **save)
    void = image_nodata(tmp_path / name)
    assert void is not None and (void == _outside()).all()
    img, void = image_and_nodata(tmp_path / name)  # the CRF's one decode
    assert img.shape[:2] == (H, W) and (void == _outside()).all()


def test_a_palette_pngs_transparent_index_is_no_data(tmp_path):
    from unet.common.nodata import image_nodata

    im = Image.fromarray(np.where(_outside(), 0, 1).astype(np.uint8), "P")
    im.putpalette([255, 255, 255, 30, 120, 40])
    im.save(tmp_path / "tile.png", transparency=0)  # index 0 clear: the outside
    assert (image_nodata(tmp_path / "tile.png") == _outside()).all()


def test_an_opaque_or_wholly_clear_png_alpha_marks_nothing(tmp_path):
    from unet.common.nodata import image_and_nodata, image_nodata

    _export(tmp_path / "opaque.png", np.zeros((H, W), bool))
    _export(tmp_path / "clear.png", np.ones((H, W), bool))  # a bad export: no mask
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(tmp_path / "rgb.png")
    for name in ("opaque.png", "clear.png", "rgb.png"):
        assert image_nodata(tmp_path / name) is None, name
        assert image_and_nodata(tmp_path / name)[1] is None, name


def test_a_turned_pngs_no_data_is_turned_as_the_model_sees_it(tmp_path):
    from unet.common.imageio import read_image
    from unet.common.nodata import image_nodata

    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    _export(tmp_path / "turned.png", exif=exif)
    void = image_nodata(tmp_path / "turned.png")
    assert void is not None and void.shape == read_image(tmp_path / "turned.png").shape[:2]
    assert (void == np.rot90(_outside(), -1)).all()


def test_the_predicted_mask_of_a_png_marks_its_transparent_ground(tmp_path):
    from unet.common.georef import write_georef

    _export(tmp_path / "field.png")
    (tmp_path / "pred").mkdir()
    Image.fromarray(np.ones((H, W), np.uint8)).save(tmp_path / "pred" / "field.png")
    assert write_georef(tmp_path / "field.png", tmp_path / "pred" / "field.png", 255)
    mask = np.array(Image.open(tmp_path / "pred" / "field.png"))
    assert (mask[_outside()] == 255).all() and (mask[~_outside()] == 1).all()
    side = (tmp_path / "pred" / "field.png.aux.xml").read_text()
    assert "<NoDataValue>255</NoDataValue>" in side


def test_scores_and_the_training_warning_see_a_pngs_transparent_ground(tmp_path):
    from unet.cache.fill_labels import fill_note
    from unet.common.labels import IGNORE_INDEX, MaskMapping
    from unet.evaluate.void import without_nodata

    _export(tmp_path / "field.png")
    target = without_nodata(np.zeros((H, W), np.int64), tmp_path / "field.png", 255)
    assert (target[_outside()] == IGNORE_INDEX).all() and (target[~_outside()] == 0).all()
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "field_mask.png")
    pairs = [{"id": "field", "image": str(tmp_path / "field.png"),
              "mask": str(tmp_path / "field_mask.png")}]
    note = fill_note(pairs, MaskMapping(values=(0, 1)))
    assert note and "alpha" in note and "masks.ignore" in note
