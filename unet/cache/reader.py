"""Reading the cache: each split's images and masks, memory-mapped (no decoding, no copy)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from unet.cache.ragged import RaggedImages


def load_split(cache_dir: str | os.PathLike, name: str) -> tuple:
    """Memory-map a cached split. Resize mode: images (N, H, W, C) and masks (N, H, W) uint8
    arrays. Native mode: RaggedImages whose item k is image k at its own (h, w)."""
    cache_dir = Path(cache_dir)
    images = np.load(cache_dir / f"{name}_images.npy", mmap_mode="r")
    masks = np.load(cache_dir / f"{name}_masks.npy", mmap_mode="r")
    meta = json.loads((cache_dir / "meta.json").read_text())
    if meta.get("mode", "resize") != "native":
        return images, masks
    shapes = meta["splits"][name]["shapes"]
    return RaggedImages(images, shapes, meta["in_channels"]), RaggedImages(masks, shapes, None)


def cached_shapes(meta: dict, split: str) -> list[tuple[int, int]]:
    """(h, w) of every cached image of `split`: its own in native mode, else the one size."""
    entry = meta["splits"][split]
    if "shapes" in entry:
        return [tuple(s) for s in entry["shapes"]]
    w, h = meta["size"]
    return [(h, w)] * len(entry["ids"])
