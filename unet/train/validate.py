"""Validation during training: loss and per-class Dice over the whole split."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from unet.common.argmax import class_index
from unet.common.labels import IGNORE_INDEX
from unet.evaluate.metrics import confusion_matrix
from unet.infer.tiles import NO_FLIPS, Window, window_bands
from unet.model.unet import UNet


@torch.no_grad()
def evaluate_split(
    model: UNet,
    loader: DataLoader,
    loss_fn,
    device: torch.device,
    dtype: torch.dtype | None,
    num_classes: int,
) -> tuple[float, np.ndarray]:
    """Validation loss and the confusion matrix summed over the whole split."""
    model.eval()
    cm, total, n = np.zeros((num_classes, num_classes), np.int64), 0.0, 0
    for images, masks in loader:
        images, masks = images.to(device), masks.to(device)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(images)
        total += loss_fn(logits, masks).item() * len(images)
        n += len(images)
        cm += confusion_matrix(
            logits.argmax(1).cpu().numpy(),
            masks.cpu().numpy(),
            num_classes,
            ignore_index=IGNORE_INDEX,
        )
    return total / n, cm


@torch.no_grad()
def evaluate_tiled(
    model: torch.nn.Module,
    val_set: Dataset,
    loss_fn,
    device: torch.device,
    dtype: torch.dtype | None,
    num_classes: int,
    window: Window,
) -> tuple[float, np.ndarray]:
    """Validation of a patch-trained model as it will predict: each whole image through the
    sliding window. The loss is each whole image's, from its bands' blended probabilities
    (their sums added: a band without foreground would score its own Dice near 0), averaged
    over the images; returns it and the confusion matrix summed over the split."""
    model.eval()
    cm, total, n = np.zeros((num_classes, num_classes), np.int64), 0.0, 0
    views = getattr(val_set, "views", None)
    for i in range(len(val_set)):
        # the cache's uint8 views where it has them, converted a band at a time (the sliding
        # window takes either), else (C, H, W) float and (H, W) long whole
        image, mask = (views and views(i)) or val_set[i]
        sums = 0
        for y, x, band in window_bands([model], image, window, NO_FLIPS, dtype):
            target = _band(mask, y, x, band.shape[1], band.shape[2])  # rows or columns
            logp = band.clamp_min(1e-8).log()[None]  # softmax(log p) = p: the loss sees p
            sums = sums + loss_fn.sums(logp.to(device), target[None].to(device))
            cm += confusion_matrix(
                class_index(band), target.numpy(), num_classes, ignore_index=IGNORE_INDEX
            )
        total += loss_fn.from_sums(sums).item()
        n += 1
    return total / max(n, 1), cm


def _band(mask: np.ndarray | torch.Tensor, y: int, x: int, h: int, w: int) -> torch.Tensor:
    """(h, w) long class indices of `mask` at (y, x): a tensor's slice, or an array's copied
    once, straight to int64 (a copy then .long() made two)."""
    part = mask[y : y + h, x : x + w]
    return part if isinstance(part, torch.Tensor) else torch.from_numpy(np.array(part, np.int64))
