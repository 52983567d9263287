"""Reading the cache: each split's images and masks, memory-mapped (no decoding, no copy)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def load_split(cache_dir: str | os.PathLike, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Memory-map a cached split: images (N, H, W, C) uint8 and masks (N, H, W) uint8."""
    cache_dir = Path(cache_dir)
    return (
        np.load(cache_dir / f"{name}_images.npy", mmap_mode="r"),
        np.load(cache_dir / f"{name}_masks.npy", mmap_mode="r"),
    )
