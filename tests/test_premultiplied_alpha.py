"""Grey with premultiplied (associated) alpha, as GIMP's TIFF export writes it by default
(PIL's mode La): read as the grey it holds, alpha divided out as PIL does for colour (RGBa),
for images (training, prediction, the CRF) and masks alike."""

import numpy as np
import tifffile

from unet.cache.channel_count import data_channels as _channels
from unet.cache.preprocess import resize_image
from unet.common.imageio import GREY_MODES, image_header, is_grey_image, open_image, read_image
from unet.common.maskio import mask_header, read_mask_values

GREY = np.array([[0, 40, 200], [255, 90, 10]], np.uint8)


def _write(path, grey, alpha) -> None:
    """grey stored premultiplied by alpha, ExtraSamples = 1 (associated alpha)."""
    stored = np.round(grey.astype(float) * alpha / 255).astype(np.uint8)
    tifffile.imwrite(path, np.dstack([stored, alpha]), photometric="minisblack",
                     extrasamples=["assocalpha"])


def test_opaque_image_reads_as_its_grey(tmp_path):
    path = tmp_path / "a.tif"
    _write(path, GREY, np.full_like(GREY, 255))
    assert image_header(path)[0] in GREY_MODES
    assert is_grey_image(path)
    out = read_image(path)
    assert out.shape == (2, 3, 1) and np.array_equal(out[..., 0], GREY)
    assert np.array_equal(resize_image(open_image(path), (3, 2), 1)[..., 0], GREY)
    assert np.array_equal(resize_image(open_image(path), (3, 2), 3),
                          np.repeat(GREY[..., None], 3, axis=-1))
    assert _channels([{"image": str(path)}]) == 1


def test_half_transparent_pixels_are_divided_out(tmp_path):
    path = tmp_path / "a.tif"
    alpha = np.array([[255, 128, 128], [255, 255, 0]], np.uint8)
    _write(path, GREY, alpha)
    out = read_image(path)[..., 0].astype(int)
    seen = alpha > 0
    assert np.abs(out[seen] - GREY[seen].astype(int)).max() <= 2  # 8-bit rounding
    assert out[1, 2] == 0  # fully transparent: nothing stored


def test_mask_reads_as_grey_levels(tmp_path):
    path = tmp_path / "m.tif"
    mask = np.array([[0, 255, 255], [0, 0, 255]], np.uint8)
    _write(path, mask, np.full_like(mask, 255))
    values, packed = read_mask_values(path)
    assert not packed and values.shape == (2, 3) and np.array_equal(values, mask)
    assert mask_header(path)[0] in GREY_MODES
