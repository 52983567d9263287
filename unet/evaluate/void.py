"""Pixels a predicted mask leaves as no data (the scene's fill, written as `masks.ignore`):
not scored, as outside a region of interest, whatever class the ground truth gives them."""

from __future__ import annotations

import numpy as np

from unet.common.labels import IGNORE_INDEX


def unscored(preds: list[np.ndarray], outside: np.ndarray | None) -> np.ndarray | None:
    """(H, W) bool: `outside` (beyond the region of interest, or None) and every pixel some
    method's mask (class indices) holds as ignored; None where there is neither."""
    void = [p == IGNORE_INDEX for p in preds]
    void = [v for v in void if v.any()]
    if not void:
        return outside
    return np.logical_or.reduce([*void, *([] if outside is None else [outside])])
