"""Images of different sizes in one flat memory-mapped array, indexed like a stacked one.

A native-size cache cannot stack (N, H, W, C): each split is one flat uint8 `.npy` holding the
images one after another, and meta.json lists each one's shape. Item k is a view, so reading a
patch of a 8192x8192 image touches only the pages of that patch.
"""

from __future__ import annotations

import numpy as np


class RaggedImages:
    """Item k: a (h_k, w_k, C) view (images) or (h_k, w_k) view (masks, channels None)."""

    def __init__(self, flat: np.ndarray, shapes: list[list[int]], channels: int | None) -> None:
        self.flat, self.channels = flat, channels
        self.shapes = [tuple(s) for s in shapes]  # (h, w) of each item
        self.offsets = flat_offsets(self.shapes, channels)
        if self.offsets[-1] != len(flat):
            raise ValueError(
                f"native cache holds {len(flat)} values but meta.json's shapes need "
                f"{self.offsets[-1]}; delete the cache folder and rerun preprocess"
            )

    def __len__(self) -> int:
        return len(self.shapes)

    def __getitem__(self, k: int) -> np.ndarray:
        if not -len(self) <= k < len(self):
            raise IndexError(f"item {k} of {len(self)}")
        k %= len(self)
        h, w = self.shapes[k]
        view = self.flat[self.offsets[k] : self.offsets[k + 1]]
        return view.reshape((h, w, self.channels) if self.channels else (h, w))


def flat_offsets(shapes: list[tuple[int, int]], channels: int | None) -> np.ndarray:
    """Start of each item in the flat array, and the total length as the last entry."""
    per = channels or 1
    return np.concatenate([[0], np.cumsum([h * w * per for h, w in shapes], dtype=np.int64)])
