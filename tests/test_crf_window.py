"""The CRF tuning's scoring window centred on the foreground, found from row and column
counts: the centre the foreground's coordinates gave, without holding them."""

import tracemalloc

import numpy as np
import pytest

from unet.common.labels import IGNORE_INDEX
from unet.crf.tune import scoring_window


def _centred(target: np.ndarray, side: int) -> tuple[slice, slice]:
    """The window as the coordinates of every foreground pixel give it (the reference)."""
    h, w = target.shape
    ys, xs = np.nonzero((target > 0) & (target != IGNORE_INDEX))
    cy, cx = (int(ys.mean()), int(xs.mean())) if ys.size else (h // 2, w // 2)

    def span(centre, size):
        if size <= side:
            return slice(0, size)
        start = min(max(centre - side // 2, 0), size - side)
        return slice(start, start + side)

    return span(cy, h), span(cx, w)


@pytest.mark.parametrize("seed", range(6))
def test_window_equals_the_one_the_coordinates_give(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(300, 900, 2)
    target = np.zeros((h, w), np.uint8)
    y, x = rng.integers(0, h - 50), rng.integers(0, w - 50)
    target[y : y + rng.integers(1, 50), x : x + rng.integers(1, 50)] = rng.integers(1, 4)
    target[rng.random((h, w)) < 0.01] = IGNORE_INDEX  # not foreground
    target[rng.random((h, w)) < 0.001 * seed] = 2
    assert scoring_window(target, 128) == _centred(target, 128)
    assert scoring_window(np.zeros((h, w), np.uint8), 128) == _centred(np.zeros((h, w)), 128)


def test_a_large_foreground_is_centred_without_its_coordinates():
    """A half-foreground 2048x2048 mask: np.nonzero's coordinates traced 32 MB."""
    target = np.zeros((2048, 2048), np.uint8)
    target[:, 700:1724] = 1
    tracemalloc.start()
    try:
        window = scoring_window(target, 1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak / 2**20:.1f} MB traced"
    assert window == _centred(target, 1024)
