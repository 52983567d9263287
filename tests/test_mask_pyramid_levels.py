"""A label-mask pyramid (PANDA's train_label_masks) is read at its own reduced level."""

from __future__ import annotations

import numpy as np
import tifffile

from unet.cache.preprocess import load_pair, load_pair_counted
from unet.common.labels import MaskMapping


def _panda_pyramid(path, levels: list[np.ndarray]) -> None:
    """PANDA's layout: RGB, tiled, reduced levels as pages marked reduced-resolution."""
    with tifffile.TiffWriter(path) as tif:
        for k, level in enumerate(levels):
            tif.write(level, tile=(16, 16), photometric="rgb", subfiletype=1 if k else 0)


def _red(label: np.ndarray) -> np.ndarray:
    """A label as PANDA stores it: (v, 0, 0)."""
    rgb = np.zeros((*label.shape, 3), np.uint8)
    rgb[..., 0] = label
    return rgb


def test_a_mask_pyramid_cached_at_its_level_reads_that_level(tmp_path):
    # Level 0 random labels; level 2 its top-left samples, as the provider's downsample made
    # it: a nearest resize of level 0 samples other pixels, so only reading level 2 matches.
    rng = np.random.default_rng(3)
    full = rng.integers(0, 6, (96, 128)).astype(np.uint8)
    levels = [full, full[::4, ::4], full[::16, ::16]]
    _panda_pyramid(tmp_path / "slide.tiff", [np.repeat(a[..., None], 3, -1) * 40 for a in levels])
    _panda_pyramid(tmp_path / "slide_mask.tiff", [_red(a) for a in levels])
    pair = {"image": str(tmp_path / "slide.tiff"), "mask": str(tmp_path / "slide_mask.tiff"),
            "size": [128, 96]}
    mapping = MaskMapping(tuple(v << 16 for v in range(6)), rgb=True)
    _, index = load_pair((pair, (8, 6), 3, mapping, None))
    assert index.shape == (6, 8)
    assert np.array_equal(index, levels[2])  # the red channel at the level used
    _, index = load_pair((pair, (32, 24), 3, mapping, None))
    assert np.array_equal(index, levels[1])


def test_a_pyramid_levels_labelled_pixels_are_counted_at_full_size(tmp_path):
    # the thinned-strokes check compares the cache's labelled share with the count at full
    # size: a level's own count taken as full made every share 256x too high at level 2
    levels = [np.full((96, 128), 2, np.uint8), np.full((24, 32), 2, np.uint8),
              np.full((6, 8), 2, np.uint8)]
    _panda_pyramid(tmp_path / "slide.tiff", [np.repeat(a[..., None], 3, -1) * 40 for a in levels])
    _panda_pyramid(tmp_path / "slide_mask.tiff", [_red(a) for a in levels])
    pair = {"image": str(tmp_path / "slide.tiff"), "mask": str(tmp_path / "slide_mask.tiff"),
            "size": [128, 96]}
    mapping = MaskMapping(tuple(v << 16 for v in range(6)), rgb=True)
    assert load_pair_counted((pair, (8, 6), 3, mapping, None))[2] == 128 * 96
