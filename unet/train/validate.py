"""Validation during training: loss and per-class Dice over the whole split."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from unet.common.labels import IGNORE_INDEX
from unet.evaluate.metrics import confusion_matrix, scores_from_confusion
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
    """Validation loss and per-class Dice from counts summed over the whole split."""
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
    return total / n, scores_from_confusion(cm)["dice"]
