"""The U-Net paper's border weight map (Ronneberger et al. 2015, eq. 2): pixels outside every
object weigh w0 exp(-(d1 + d2)^2 / (2 sigma^2)) more in the cross-entropy, d1 and d2 their
distances to the nearest and second-nearest object (a 4-connected component of one class), so
the network learns the thin separations between touching objects."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from unet.common.labels import IGNORE_INDEX
from unet.common.schema import defaults

_D = defaults("train", "border_weight")  # field defaults: config/schema.yaml
TOLERANCE = 1e-3  # the term is cut off where it falls below this: objects further are unseen


@dataclass(frozen=True)
class BorderSettings:
    """Config `train.border_weight`: off while w0 is 0 or objects is null."""

    w0: float = _D["w0"]  # the term's height, between objects touching
    sigma: float = _D["sigma"]  # its fall-off in px
    objects: int | None = _D["objects"]  # the class whose components are the objects

    @property
    def on(self) -> bool:
        """Whether the map is computed at all (off: the loss is today's, bit for bit)."""
        return self.w0 > 0 and self.objects is not None


def reach(w0: float, sigma: float) -> float:
    """The distance (px) beyond which d1 + d2 puts the term below TOLERANCE."""
    return sigma * math.sqrt(2 * math.log(max(w0, TOLERANCE) / TOLERANCE))


def margin(settings: BorderSettings) -> int:
    """Pixels around a training patch whose objects still weigh its gaps (0 when off): an
    object that far beyond the edge gives an edge pixel a term of at most TOLERANCE."""
    return int(math.ceil(reach(settings.w0, settings.sigma))) if settings.on else 0


def border_map(mask: np.ndarray, objects: int, w0: float, sigma: float) -> np.ndarray:
    """The border term (h, w) float32 of `mask` (h, w) class indices; 0 on objects and ignored.

    One distance transform per object over its bounding box grown by the cut-off radius,
    not over the whole mask: the term is below TOLERANCE beyond it, and a 512x512 EM section
    of 300 cells costs milliseconds instead of a whole-mask transform per cell."""
    cut = reach(w0, sigma)
    r = int(math.ceil(cut))
    labels, _ = ndimage.label(mask == objects)
    d1 = np.full(mask.shape, np.inf, np.float32)
    d2 = np.full(mask.shape, np.inf, np.float32)
    h, w = mask.shape
    for k, box in enumerate(ndimage.find_objects(labels), start=1):
        y0, y1 = max(box[0].start - r, 0), min(box[0].stop + r, h)
        x0, x1 = max(box[1].start - r, 0), min(box[1].stop + r, w)
        # exact inside the window: every pixel of object k lies in it
        d = ndimage.distance_transform_edt(labels[y0:y1, x0:x1] != k).astype(np.float32)
        d[d > cut] = np.inf
        a, b = d1[y0:y1, x0:x1], d2[y0:y1, x0:x1]  # views: updated in place
        np.minimum(b, np.maximum(a, d), out=b)
        np.minimum(a, d, out=a)
    out = w0 * np.exp(-((d1 + d2) ** 2) / (2 * sigma**2))  # inf -> 0
    # only between objects (the paper's Fig. 3d): inside one, d1 = 0 would leave w0 exp(-d2^2 /
    # 2 sigma^2), 9.2 beside a 1-px gap and 3.8 at 6 px deep, weighing the objects themselves
    out[(mask == objects) | (mask == IGNORE_INDEX)] = 0
    return out.astype(np.float32)


def sample_map(mask: torch.Tensor, settings: BorderSettings, wide: torch.Tensor | None = None,
               m: int = 0) -> torch.Tensor:
    """The border term (h, w) of one training sample's `mask` (h, w), made in the DataLoader
    worker; from `wide`, the mask with `m` px more on every side, cropped back, where given."""
    h, w = mask.shape
    src = (mask if wide is None else wide).numpy()
    out = border_map(src, settings.objects, settings.w0, settings.sigma)[m : m + h, m : m + w]
    return torch.from_numpy(np.ascontiguousarray(out))


def batch_weights(masks: torch.Tensor, settings: BorderSettings) -> torch.Tensor | None:
    """The border term of a batch of masks (B, H, W), on the CPU; None when off. Training takes
    the map from its batches (sample_map, in the workers); this is for batches made without."""
    if not settings.on:
        return None
    maps = [border_map(m, settings.objects, settings.w0, settings.sigma)
            for m in masks.cpu().numpy()]
    return torch.from_numpy(np.stack(maps))  # (B, H, W)
