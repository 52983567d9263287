"""16-bit, 32-bit and float images scaled to 8 bits a block of rows at a time: the same values
as one float64 pass over the whole image, in memory bounded by a block."""

import tracemalloc

import numpy as np
import pytest
from PIL import Image

from unet.common import decoders
from unet.common.decoders import scaled_8_bits, value_range, wide_to_8_bits
from unet.common.imageio import read_image


def _whole(arr, lo, hi):
    """The scaling as one float64 expression over the whole array (the reference)."""
    arr = np.nan_to_num(np.asarray(arr, np.float64), nan=lo, posinf=hi, neginf=lo)
    return np.clip(np.round((arr - lo) * 255.0 / (hi - lo)), 0, 255).astype(np.uint8)


def _samples():
    rng = np.random.default_rng(0)
    floats = rng.normal(0, 3, (37, 23)).astype(np.float32)
    floats[3, 4], floats[5, 6], floats[7, 8] = np.nan, np.inf, -np.inf
    return {
        "uint16": rng.integers(0, 65536, (37, 23)).astype(np.uint16),
        "int32": rng.integers(-70000, 70000, (37, 23)).astype(np.int32),
        "float32": floats,
        "rgb16": rng.integers(0, 4096, (37, 23, 3)).astype(np.uint16),
    }


@pytest.mark.parametrize("block", [1, 23 * 5, 1 << 20])
@pytest.mark.parametrize("kind", ["uint16", "int32", "float32", "rgb16"])
def test_blocks_equal_one_whole_image_pass(monkeypatch, block, kind):
    monkeypatch.setattr(decoders, "BLOCK_PIXELS", block)
    arr = _samples()[kind]
    finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
    lo, hi = min(0.0, float(finite.min())), max(1.0, float(finite.max()))
    assert value_range(arr) == (lo, hi)
    np.testing.assert_array_equal(wide_to_8_bits(arr), _whole(arr, lo, hi))
    np.testing.assert_array_equal(scaled_8_bits(arr, 100.0, 900.0), _whole(arr, 100.0, 900.0))


def test_all_nan_and_empty_images_keep_the_default_range():
    assert value_range(np.full((4, 5), np.nan, np.float32)) == (0.0, 1.0)
    assert value_range(np.empty((0, 5), np.uint16)) == (0.0, 1.0)


def test_a_wide_image_is_read_without_float64_copies_of_it(tmp_path):
    """A 2048x2048 16-bit PNG (8 MB of values): whole-image float64 temporaries traced 128 MB
    (copies of 32 MB); a block at a time 28 MB: PIL's bytes, the values, the 8-bit copies."""
    arr = (np.arange(2048 * 2048, dtype=np.uint32) % 4001).astype(np.uint16).reshape(2048, 2048)
    Image.fromarray(arr).save(tmp_path / "w.png", compress_level=1)
    tracemalloc.start()
    try:
        out = read_image(tmp_path / "w.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 << 20, f"{peak / 2**20:.1f} MB traced"
    np.testing.assert_array_equal(out[..., 0], _whole(arr, 0.0, 4000.0))
