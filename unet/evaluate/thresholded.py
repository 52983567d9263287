"""Thresholded Jaccard (ISIC 2018 Task 1): each image's IoU, counted 0 under a threshold."""

from __future__ import annotations

import logging

import numpy as np

from unet.evaluate.metrics import foreground_iou

log = logging.getLogger(__name__)
THRESHOLDED_IOU_RULE: str = (
    "each image's foreground IoU (its mean over the scored classes its target or prediction "
    "holds, as foreground_iou_global per image) counts 0 where it is under the threshold, as "
    "it is; mean averages every scored image; images_below counts those counted 0"
)


def thresholded_iou(results: list[dict], methods: list[str], first: int, threshold: float
                    ) -> dict:
    """summary.json's `iou_threshold`: per method the mean over images of each image's
    foreground IoU, 0 where under `threshold` (ISIC's challenge score at 0.65)."""
    out: dict = {"threshold": threshold, "rule": THRESHOLDED_IOU_RULE, "methods": {}}
    for m in methods:
        iou = np.array([foreground_iou(r["scores"][m]["confusion"], first) for r in results])
        kept = np.where(iou >= threshold, iou, 0.0)  # (N,)
        below = int((iou < threshold).sum())
        out["methods"][m] = {"mean": float(kept.mean()), "images_below": below}
        log.info("%s: thresholded IoU %.4f (an image's IoU under %g counts 0: %d of %d images)",
                 m, out["methods"][m]["mean"], threshold, below, len(results))
    return out
