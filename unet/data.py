"""Training data straight from the memory-mapped cache: no decoding per step."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch.utils.data import Dataset

from unet.augment import apply
from unet.preprocess import load_split


class CachedSplit(Dataset):
    """One split of the `.npy` cache as (image (C, H, W) float in [0, 1], mask (H, W) long)."""

    def __init__(self, cache_dir: str | os.PathLike, split: str, transform=None) -> None:
        self.cache_dir, self.split, self.transform = cache_dir, split, transform
        images, _ = load_split(cache_dir, split)
        self.length = len(images)
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    def _open(self) -> tuple[np.ndarray, np.ndarray]:
        # Opened lazily so every DataLoader worker maps the file itself (no pickled arrays).
        if self._arrays is None:
            self._arrays = load_split(self.cache_dir, self.split)
        return self._arrays

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        images, masks = self._open()
        image = torch.from_numpy(np.array(images[i])).permute(2, 0, 1)  # (C, H, W) uint8
        mask = torch.from_numpy(np.array(masks[i])).long()  # (H, W)
        return apply(self.transform, image.float().div_(255.0), mask)
