"""Training data straight from the memory-mapped cache: no decoding per step."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch.utils.data import Dataset

from unet.preprocess import load_split


class CachedSplit(Dataset):
    """One split of the `.npy` cache as (image (C, H, W) float in [0, 1], mask (H, W) long)."""

    def __init__(self, cache_dir: str | os.PathLike, split: str) -> None:
        self.cache_dir, self.split = cache_dir, split
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
        return image.float().div_(255.0), mask


def random_flips(
    images: torch.Tensor, masks: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Flip each sample left-right and up-down with probability 1/2, image and mask alike."""
    flips = torch.rand(images.shape[0], 2, generator=generator) < 0.5
    for dim, column in ((-1, 0), (-2, 1)):
        sel = flips[:, column].nonzero().flatten().to(images.device)
        if len(sel):
            images[sel] = images[sel].flip(dim)
            masks[sel] = masks[sel].flip(dim)
    return images, masks
