"""Data sets of many small images: per-image work scales with the image, not a fixed size."""

from __future__ import annotations

import tracemalloc

import numpy as np

from unet.evaluate import distances
from unet.evaluate.boundary import image_scores


def _disc_pair(side: int) -> tuple[np.ndarray, np.ndarray]:
    """A disc and the same disc shifted by 2 px: every distance is small and near."""
    yy, xx = np.mgrid[:side, :side]
    target = ((yy - side / 2) ** 2 + (xx - side / 2) ** 2 < (side / 4) ** 2).astype(np.uint8)
    return np.roll(target, 2, axis=1), target


def test_a_small_images_distance_histogram_is_sized_by_its_distances():
    # It was MARGIN**2 + 1 bins (65,537 int64, 512 kB) whatever the image: a 64x64 nuclei
    # crop's 12 directed distance sets (2 classes, 2 ways, 3 methods) each zeroed, summed,
    # cumsummed and square-rooted that many bins, most of evaluate_masks' time per image.
    pred, target = _disc_pair(64)
    d = distances.Directed(target != np.roll(target, 1, 0), pred != np.roll(pred, 1, 0))
    assert d.near.size <= 2 * 63 ** 2 + 1
    assert d.near.sum() == d.n_near > 0


def test_scoring_a_small_image_allocates_on_the_scale_of_the_image():
    pred, target = _disc_pair(32)
    image_scores(pred, target, 2)  # imports and caches warmed outside the measure
    tracemalloc.start()
    try:
        got = image_scores(pred, target, 2, tolerance=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, f"{peak} bytes for a 32x32 image"  # was over 1 MB
    assert 0 < got["boundary_f1"][1] < 1 and 0 < got["hd95"][1] <= 2
