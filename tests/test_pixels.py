"""Pixels copied out of PIL a block of rows at a time: the values np.asarray gives, without the
whole-image bytes objects it makes on the way."""

import tracemalloc

import numpy as np
import pytest
from PIL import Image

from unet.common import pixels as pixels_module
from unet.common.imageio import read_image
from unet.common.maskio import read_mask_values
from unet.common.pixels import pixels


def _image(mode: str) -> Image.Image:
    rng = np.random.default_rng(0)
    if mode in ("I;16", "I", "F"):
        dtype = {"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]
        return Image.fromarray(rng.integers(0, 60000, (37, 23)).astype(dtype))
    im = Image.fromarray(rng.integers(0, 256, (37, 23, 3)).astype(np.uint8), "RGB")
    return im.convert(mode)


@pytest.mark.parametrize("block", [1, 200, 1 << 20])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "1", "LA", "I;16", "I", "F"])
def test_pixels_equal_numpys_view_of_the_image(monkeypatch, mode, block):
    monkeypatch.setattr(pixels_module, "PIXEL_BLOCK", block)
    im = _image(mode)
    want = np.asarray(im)
    got = pixels(im)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert got.flags.writeable


def _traced_peak(read, path) -> int:
    tracemalloc.start()
    try:
        read(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_large_images_and_masks_are_read_without_whole_image_byte_copies(tmp_path):
    """A 2048x2048 RGB image (12 MB of values) and grey mask (4 MB): np.asarray's tobytes
    traced two copies of each (24 MB and 12 MB with the array); by blocks the array and a
    block."""
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (2048, 2048, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.png", compress_level=0)
    Image.fromarray(rgb[..., 0] // 128 * 255).save(tmp_path / "m.png", compress_level=0)
    peak = _traced_peak(read_image, tmp_path / "a.png")
    assert peak < 18 << 20, f"image: {peak / 2**20:.1f} MB traced"
    peak = _traced_peak(read_mask_values, tmp_path / "m.png")
    assert peak < 8 << 20, f"mask: {peak / 2**20:.1f} MB traced"
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)
