"""Patch training: fixed-size random patches from cached images of any size (nnU-Net style).

A share of the patches is centred on a foreground pixel: a class the image holds is drawn
first, then one of its pixels, so small or rare structures are seen often enough to be learnt.
Foreground means the scored classes: 1 and up, or every class, 0 too, without a background
class (masks.background: false, Cityscapes' road). The rest lie anywhere in the image. An
image smaller than the patch is padded: zeros in the image, IGNORE_INDEX in the mask, so the
loss skips the padding."""

from __future__ import annotations

import os

import numpy as np
import torch

from unet.common.label_tables import IGNORE_INDEX, class_counts
from unet.common.logs import progress
from unet.train.augment import apply
from unet.train.border import BorderSettings, margin, sample_map
from unet.train.dataset import CachedRows, Row

MAX_LOCATIONS = 10_000  # foreground pixels kept per class and image to draw centres from
TRIES = 20  # augmentations drawn for a foreground patch until one keeps its class in view


class PatchRows(CachedRows):
    """`per_image` patches of (h, w) `patch` per cached row and epoch, as (image (C, h, w)
    float in [0, 1], mask (h, w) long)."""

    def __init__(
        self,
        cache_dir: str | os.PathLike,
        rows: list[Row],
        patch: tuple[int, int],
        foreground: float,
        per_image: int = 1,
        transform=None,
        first_class: int = 1,
    ) -> None:
        super().__init__(cache_dir, rows, transform)
        self.patch, self.foreground, self.per_image = tuple(patch), foreground, per_image
        self.first_class = first_class  # the first scored class: 0 without a background
        self._locations: dict[Row, list[np.ndarray]] = {}  # lazily, or all first: prepare()
        self.margin, self.wide = 0, None  # train.border_weight: see use_border

    def use_border(self, settings: BorderSettings, build=None) -> None:
        """The map of each patch is drawn on the patch plus a margin (border.margin px a side)
        augmented as a whole (`build(h, w)`: the augmentation at that size; None: none), then
        cropped back: an object just beyond the patch's edge weighs the gap at its edge."""
        super().use_border(settings)
        m = self.margin = margin(settings) if self.border is not None else 0
        size = (self.patch[0] + 2 * m, self.patch[1] + 2 * m)
        self.wide = build(*size) if m and build is not None else None

    def __len__(self) -> int:
        return len(self.rows) * self.per_image

    def locations(self, row: Row, mask: np.ndarray) -> list[np.ndarray]:
        """Flat indices of (a sample of) each present foreground class's pixels in `mask`."""
        if row not in self._locations:
            self._locations[row] = foreground_locations(mask, seed=row[1],
                                                        first_class=self.first_class)
        return self._locations[row]

    def prepare(self) -> None:
        """Find every row's foreground pixels now, in the training process, when DataLoader
        workers will load the patches: each epoch starts its workers afresh (forked with that
        epoch's seed), so what a worker found was lost with it and found again every epoch,
        by every worker that drew the image (a scan of the whole mask, 0.14 s at 4096x4096);
        forked after this, every epoch's workers share these."""
        if self.foreground <= 0:
            return
        for row in progress(self.rows, "foreground pixels"):
            self.locations(row, self._open(row[0])[1][row[1]])

    def corner(self, row: Row, mask: np.ndarray) -> tuple[int, int, int | None]:
        """Top-left (y, x) of the next patch and the class it is centred on (None: placed
        uniformly); torch's RNG, so DataLoader seeding applies."""
        (h, w), (ph, pw) = mask.shape, self.patch
        lo_y, hi_y = min(0, h - ph), max(0, h - ph)  # patch inside the image where it fits
        lo_x, hi_x = min(0, w - pw), max(0, w - pw)
        found = self.locations(row, mask) if self.foreground > 0 else []
        if found and float(torch.rand(())) < self.foreground:
            where = found[int(torch.randint(len(found), ()))]
            cy, cx = divmod(int(where[int(torch.randint(len(where), ()))]), w)
            return (
                min(max(cy - ph // 2, lo_y), hi_y),
                min(max(cx - pw // 2, lo_x), hi_x),
                int(mask[cy, cx]),
            )
        return (
            int(torch.randint(lo_y, hi_y + 1, ())),
            int(torch.randint(lo_x, hi_x + 1, ())),
            None,
        )

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        row = self.rows[i % len(self.rows)]
        images, masks = self._open(row[0])
        image, mask = images[row[1]], masks[row[1]]  # (h, w, C), (h, w) memory-mapped views
        m, (ph, pw) = self.margin, self.patch  # m: 0 unless train.border_weight is on
        transform = self.wide if m else self.transform
        with self.draws(i):
            y, x, kept = self.corner(row, mask)
            img, msk = crop_padded(image, mask, y - m, x - m, (ph + 2 * m, pw + 2 * m))
            img_t = torch.from_numpy(img).permute(2, 0, 1).float().div_(255.0)  # (C, ph, pw)
            msk_t = torch.from_numpy(msk).long()
            for _ in range(TRIES):
                out = apply(transform, img_t, msk_t)
                # An object at the image's edge lies at the patch's edge, where a zoom's crop
                # or the elastic fill cut it away (65 % of such patches held none): drawn
                # again, so train.patch.foreground stays the share of patches holding it.
                inner = out[1][m : m + ph, m : m + pw]
                if kept is None or transform is None or bool((inner == kept).any()):
                    break
        if self.border is None:
            return out
        return out[0][:, m : m + ph, m : m + pw], inner, sample_map(inner, self.border, out[1], m)

def foreground_locations(
    mask: np.ndarray, seed: int, chunk: int = 1 << 20, first_class: int = 1
) -> list[np.ndarray]:
    """Per foreground class (`first_class` and up) present in `mask` (h, w), up to
    MAX_LOCATIONS of its pixels' flat indices, drawn evenly. Read in chunks, so a 8192x8192
    mask never needs full-size temporary arrays; the seed makes the sample the same in every
    DataLoader worker."""
    flat = mask.reshape(-1)
    counts = class_counts(flat, chunk)
    classes = [c for c in np.flatnonzero(counts) if first_class <= c != IGNORE_INDEX]
    rng = np.random.default_rng(seed)
    found = []
    for c in classes:
        keep = min(1.0, MAX_LOCATIONS / counts[c])  # the share of this class's pixels kept
        parts = []
        for start in range(0, len(flat), chunk):
            where = np.flatnonzero(flat[start : start + chunk] == c) + start
            parts.append(where if keep == 1.0 else where[rng.random(len(where)) < keep])
        found.append(np.concatenate(parts))
    return found


def crop_padded(
    image: np.ndarray, mask: np.ndarray, y: int, x: int, patch: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The (ph, pw) window at (y, x) of image (h, w, C) and mask (h, w); outside the image the
    window is 0 (image) and IGNORE_INDEX (mask)."""
    (h, w), (ph, pw) = mask.shape, patch
    img = np.zeros((ph, pw, image.shape[2]), np.uint8)
    msk = np.full((ph, pw), IGNORE_INDEX, np.uint8)
    y0, y1, x0, x1 = max(y, 0), min(y + ph, h), max(x, 0), min(x + pw, w)
    img[y0 - y : y1 - y, x0 - x : x1 - x] = image[y0:y1, x0:x1]
    msk[y0 - y : y1 - y, x0 - x : x1 - x] = mask[y0:y1, x0:x1]
    return img, msk
