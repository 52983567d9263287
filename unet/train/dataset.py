"""Training rows straight from the memory-mapped cache, augmented on the fly."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset

from unet.cache.reader import load_split
from unet.train.augment import apply
from unet.train.border import BorderSettings, sample_map

Row = tuple[str, int]  # (cached split, row in it)


class CachedRows(Dataset):
    """Rows of the `.npy` cache as (image (C, H, W) float in [0, 1], mask (H, W) long).

    The rows may come from several cached splits: a cross-validation fold trains on rows of
    both `train` and `val`.
    """

    def __init__(self, cache_dir: str | os.PathLike, rows: list[Row], transform=None) -> None:
        self.cache_dir, self.rows, self.transform = cache_dir, list(rows), transform
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # Set by training before each epoch: sample i then draws its crop and augmentation
        # from a generator seeded by (epoch_seed, i), not from whichever DataLoader worker's
        # RNG it lands in, so train.num_workers does not change the weights. None: global RNG.
        self.epoch_seed: int | None = None
        # train.border_weight: each sample's map is made here, after its augmentation, by the
        # DataLoader workers, not by the training process between steps (23 ms a 256x256 patch)
        self.border: BorderSettings | None = None

    def use_border(self, settings: BorderSettings, build=None) -> None:
        """Add train.border_weight's map to every sample (image, mask, map (H, W) float32) when
        `settings` is on; `build(h, w)`: the augmentation at another size (PatchRows)."""
        self.border = settings if settings.on else None

    def with_map(self, image: torch.Tensor, mask: torch.Tensor) -> tuple:
        """(image, mask), and the mask's border map when train.border_weight is on."""
        if self.border is None:
            return image, mask
        return image, mask, sample_map(mask, self.border)

    @contextlib.contextmanager
    def draws(self, i: int) -> Iterator[None]:
        """Context for sample `i`'s random draws (torch's CPU RNG, restored afterwards)."""
        if self.epoch_seed is None:
            yield
            return
        with torch.random.fork_rng(devices=[]):
            # The CPU generator alone: torch.manual_seed would re-seed the GPU's too, which
            # fork_rng(devices=[]) does not restore (its dropout in the training process).
            torch.default_generator.manual_seed((self.epoch_seed * 1_000_003 + i) % (1 << 63))
            yield

    def _open(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        # Opened lazily so every DataLoader worker maps the files itself (no pickled arrays).
        if split not in self._arrays:
            self._arrays[split] = load_split(self.cache_dir, split)
        return self._arrays[split]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        split, k = self.rows[i]
        images, masks = self._open(split)
        image = torch.from_numpy(np.array(images[k])).permute(2, 0, 1)  # (C, H, W) uint8
        mask = torch.from_numpy(np.array(masks[k])).long()  # (H, W)
        with self.draws(i):
            out = apply(self.transform, image.float().div_(255.0), mask)
        # a whole image's edges are the image's: nothing lies beyond them to be seen
        return self.with_map(*out)

    def views(self, i: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Row i as the cache holds it, image (H, W, C) uint8 and mask (H, W), memory-mapped
        views (no copy), for a split read as it is (no augmentation, no border map); else None.
        Tiled validation reads them a band at a time: __getitem__'s float image and int64 mask
        of a 5000x5000 tile held 500 MB beside the views."""
        if self.transform is not None or self.border is not None:
            return None
        split, k = self.rows[i]
        images, masks = self._open(split)
        return images[k], masks[k]


class CachedSplit(CachedRows):
    """Every row of one cached split."""

    def __init__(self, cache_dir: str | os.PathLike, split: str, transform=None) -> None:
        images, _ = load_split(cache_dir, split)
        super().__init__(cache_dir, [(split, k) for k in range(len(images))], transform)
