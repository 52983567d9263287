"""No-data marking on the masks the pipeline writes for palette and 1-bit data: a palette of
as many colours as classes (PIL writes 1 bit a pixel for 2) and 1-bit PNGs (0/255 only)."""

from __future__ import annotations

import numpy as np
import tifffile
from PIL import Image

from unet.common.georef import write_georef
from unet.common.maskio import read_mask, write_mask_png


def _scene(path) -> np.ndarray:
    """An 8-bit grey scene with nodata 0 in its first two rows; its void (H, W)."""
    img = np.full((6, 8), 90, np.uint8)
    img[:2] = 0
    tifffile.imwrite(path, img, photometric="minisblack", extratags=[(42113, "s", 0, "0", True)])
    return img == 0


def test_a_two_colour_palette_mask_gets_the_ignore_value_not_class_1(tmp_path):
    void = _scene(tmp_path / "s.tif")
    classes = np.zeros((6, 8), np.uint8)
    classes[:, 4:] = 1
    write_mask_png(tmp_path / "s.png", classes, palette=(0, 0, 0, 200, 0, 0), alpha=(0, 255))
    assert write_georef(tmp_path / "s.tif", tmp_path / "s.png", 255)
    out = Image.open(tmp_path / "s.png")
    arr = np.array(out)
    assert out.mode == "P" and out.getpalette()[3:6] == [200, 0, 0]
    assert (arr[void] == 255).all() and (arr[~void] == classes[~void]).all()
    alpha = np.array(out.convert("RGBA"))[..., 3]  # the data's transparency kept
    assert alpha[5, 0] == 0 and alpha[5, 7] == 255
    assert "<NoDataValue>255</NoDataValue>" in (tmp_path / "s.png.aux.xml").read_text()


def test_a_one_bit_mask_gets_the_ignore_value(tmp_path):
    void = _scene(tmp_path / "s.tif")
    fg = np.zeros((6, 8), np.uint8)
    fg[:, 4:] = 255
    for ignore in (128, 1):  # 1: a 1-bit PNG held it as white, class 255
        write_mask_png(tmp_path / "s.png", fg, bits=1)
        assert write_georef(tmp_path / "s.tif", tmp_path / "s.png", ignore)
        arr = read_mask(tmp_path / "s.png", ignore=ignore)
        assert (arr[void] == ignore).all() and (arr[~void] == fg[~void]).all()
        assert f"<NoDataValue>{ignore}</NoDataValue>" in (tmp_path / "s.png.aux.xml").read_text()


def test_an_ignore_value_no_png_holds_is_warned_of_with_the_keys_that_mark(tmp_path, caplog,
                                                                           monkeypatch):
    # Sen1Floods11: float dB bands, NaN where the swath is missing, int16 labels of -1/0/1
    from unet.common import georef

    monkeypatch.setattr(georef, "_WARNED", set())
    img = np.full((2, 6, 8), -12.0, np.float32)
    img[:, :, :2] = np.nan
    tifffile.imwrite(tmp_path / "s.tif", img, photometric="minisblack", planarconfig="separate")
    Image.fromarray(np.ones((6, 8), np.uint16)).save(tmp_path / "s.png")
    with caplog.at_level("WARNING"):
        write_georef(tmp_path / "s.tif", tmp_path / "s.png", -1)
    assert np.array(Image.open(tmp_path / "s.png")).max() == 1  # -1 not written: said, with the fix
    assert "cannot hold masks.ignore -1" in caplog.text
    assert "masks.unlisted: ignore" in caplog.text and "e.g. 255" in caplog.text
