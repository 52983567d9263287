"""Thresholded colour and palette masks read by their unrounded luminance (float32) cost about
what the rounded 8-bit luminance did: no decoded colour copy, no int64 search of the floats."""

import tracemalloc

import numpy as np
import pytest
from PIL import Image

from unet.common.labels import MaskMapping
from unet.common.maskio import read_mask


def _exact(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luminance, unrounded: (299 r + 587 g + 114 b) / 1000 in float32."""
    weighted = rgb.astype(np.int64) @ np.asarray([299, 587, 114])
    return (weighted.astype(np.float32) / np.float32(1000)).astype(np.float32)


def _masks(tmp_path, side: int) -> dict:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (side, side, 3), np.uint8)
    rgb[: side // 2] = 0
    rgb[: side // 2, :4] = ((1, 0, 0), (0, 0, 1), (0, 1, 0), (2, 2, 2))  # near-black ids
    Image.fromarray(rgb).save(tmp_path / "colour.png")
    Image.fromarray(np.dstack([rgb, np.full((side, side), 200, np.uint8)])).save(
        tmp_path / "colour_alpha.png")
    index = rng.integers(0, 7, (side, side), np.uint8)  # 7 indices, a 5-colour palette
    palette = rng.integers(0, 256, 15).tolist()
    pal = Image.fromarray(index, mode="P")
    pal.putpalette(palette)
    pal.save(tmp_path / "palette.png")
    pal.save(tmp_path / "palette.gif")
    return {"colour.png": rgb, "colour_alpha.png": rgb,
            "palette.png": np.asarray(pal.convert("RGB")),
            "palette.gif": np.asarray(Image.open(tmp_path / "palette.gif").convert("RGB"))}


def test_luminance_is_exact(tmp_path):
    for name, rgb in _masks(tmp_path, 64).items():
        got = read_mask(tmp_path / name, luminance=True)
        assert got.dtype == np.float32 and np.array_equal(got, _exact(rgb)), name
    assert read_mask(tmp_path / "colour.png", luminance=True)[0, :4].tolist() == pytest.approx(
        [0.299, 0.114, 0.587, 2.0])


def test_palette_luminance_holds_no_decoded_colour_copy(tmp_path):
    # A palette mask's float luminance (Carvana's GIFs under masks.threshold) went through
    # its colours decoded, a uint32 copy of them and float64 bands: 3.5x the time of the 8-bit
    # read (56 vs 15 ms a Carvana mask). Now PIL gives the float luminance from the palette:
    # beside the (H, W) float32 result, only the indices and masks.ignore's pixels are traced.
    _masks(tmp_path, 1024)
    for name in ("palette.png", "palette.gif"):
        tracemalloc.start()
        out = read_mask(tmp_path / name, luminance=True, ignore=3)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        extra = (peak - out.nbytes) / out.size
        assert extra < 3.5, f"{name}: {extra:.1f} bytes a pixel beside the result"


def test_thresholding_float_luminance_needs_no_wide_copies():
    # Float luminance went through the int64 binary search: about 26 bytes a pixel of
    # temporaries and 3x the time of an 8-bit mask's lookup table.
    raw = np.zeros((4096, 4096), np.float32)
    raw[100:900, 200:1500] = 0.299  # (1, 0, 0): above masks.threshold 0
    raw[1000:1010, :] = 255.0  # the ignore value
    mapping = MaskMapping((0, 255), ignore=255, threshold=0)
    tracemalloc.start()
    idx = mapping.to_index(raw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert idx.dtype == np.uint8 and int((idx == 1).sum()) == 800 * 1300
    assert int((idx == 255).sum()) == 10 * 4096
    assert peak < 1.5 * raw.size, f"{peak / raw.size:.1f} bytes a pixel"


@pytest.mark.parametrize("threshold", [0, 0.5, 127])
def test_thresholded_floats_map_as_the_search_did(threshold):
    rng = np.random.default_rng(1)
    raw = rng.uniform(-1, 300, (64, 64)).astype(np.float32)
    raw[0, :3] = (np.nan, threshold, np.nextafter(np.float32(threshold), np.float32(1e9)))
    raw[1, :2] = (7, 250)
    for mapping in (MaskMapping((0, 255), threshold=threshold),
                    MaskMapping((255, 0), ignore=7, threshold=threshold),
                    MaskMapping((0, 255), ignore=250, threshold=threshold, background=False)):
        want = np.where(raw > threshold, mapping.values.index(255), mapping.values.index(0))
        if mapping.ignore is not None:
            want[raw == mapping.ignore] = 255
        assert np.array_equal(mapping.to_index(raw), want.astype(np.uint8))
