"""Nearest-neighbour resizing of label maps: the cache's masks, and the checks that ask what
a resize keeps."""

from __future__ import annotations

import numpy as np


def resize_mask(raw: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a label map (h, w) to `size` (w, h): never invents values."""
    h, w = raw.shape
    if (w, h) == tuple(size):  # native size: nothing to resample
        return raw
    # Sample at pixel centres, as PIL's NEAREST does; works for any dtype (8- or 16-bit).
    rows = np.minimum(((np.arange(size[1]) + 0.5) * h / size[1]).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(size[0]) + 0.5) * w / size[0]).astype(np.int64), w - 1)
    return raw[rows[:, None], cols[None, :]]
