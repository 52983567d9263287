"""Pixels a predicted mask leaves as no data (the scene's fill, written as `masks.ignore`):
not scored, as outside a region of interest, whatever class the ground truth gives them."""

from __future__ import annotations

import os

import numpy as np

from unet.common.labels import IGNORE_INDEX
from unet.common.nodata import image_nodata


def unscored(preds: list[np.ndarray], outside: np.ndarray | None) -> np.ndarray | None:
    """(H, W) bool: `outside` (beyond the region of interest, or None) and every pixel some
    method's mask (class indices) holds as ignored; None where there is neither."""
    void = [p == IGNORE_INDEX for p in preds]
    void = [v for v in void if v.any()]
    if not void:
        return outside
    return np.logical_or.reduce([*void, *([] if outside is None else [outside])])


def without_nodata(target: np.ndarray, image: str | os.PathLike | None,
                   ignore: int | None) -> np.ndarray:
    """The ground truth `target` (H, W class indices) with its scene's no-data pixels ignored,
    where `ignore` (masks.ignore) is set: the masks written hold it there and `unscored` leaves
    them out, so scores taken from the probabilities (CRF tuning, the final choice) do too."""
    void = None if ignore is None or image is None else image_nodata(image)
    if void is None or void.shape != target.shape:  # a turned scene: its mask is not marked
        return target
    return np.where(void, IGNORE_INDEX, target).astype(target.dtype)
