"""Image-level detection counts: on sparse data (SIIM-ACR's 78 % of images without a mask,
defect-free steel) what matters first is whether an image is flagged at all, which pixel
scores blur: one speck predicted on an empty image costs its Dice 1.0 -> 0.0, and a missed
small object barely moves the global Dice."""

from __future__ import annotations

import numpy as np

# Copied into the summary beside mean_per_image_rule: which images the `_positive` means count.
MEAN_POSITIVE_RULE: str = (
    "mean_positive (per class) averages only the images whose ground truth holds the class, "
    "and foreground_dice_mean_positive only those holding some scored class (each image's "
    "foreground Dice over the classes its target or prediction holds): an empty image left "
    "empty adds no 1.0, one flagged adds no 0 (see images: true_negative, false_positive); "
    "null without such an image"
)


def target_holds(results: list[dict], m: str, num_classes: int) -> np.ndarray:
    """(N, C) bool: the classes each image's ground truth holds (labelled pixels), method `m`."""
    cms = np.array([r["scores"][m]["confusion"] for r in results]).reshape(
        len(results), num_classes, num_classes)  # (N, C, C): rows target, columns prediction
    return cms.sum(axis=2) > 0


def _counts(target: np.ndarray, predicted: np.ndarray) -> dict[str, int]:
    """(N,) bool each: which images' target / prediction hold the class (or any)."""
    return {
        "positive": int(target.sum()),  # images whose ground truth holds it
        "negative": int((~target).sum()),  # images without it: SIIM-ACR's empty masks
        "detected": int((target & predicted).sum()),
        "missed": int((target & ~predicted).sum()),  # held, predicted nowhere in the image
        "false_positive": int((~target & predicted).sum()),  # predicted on an image without it
        "true_negative": int((~target & ~predicted).sum()),  # empty, and left empty
    }


def image_level(results: list[dict], m: str, num_classes: int, first: int) -> dict:
    """Per scored class (`first` and up) and for any of them ('any'), how many test images
    hold it and how many the method `m` detected, missed, flagged falsely or left empty."""
    cms = np.array([r["scores"][m]["confusion"] for r in results]).reshape(
        len(results), num_classes, num_classes)  # (N, C, C): rows target, columns prediction
    target, predicted = target_holds(results, m, num_classes), cms.sum(axis=1) > 0  # (N, C)
    out = {str(c): _counts(target[:, c], predicted[:, c]) for c in range(first, num_classes)}
    out["any"] = _counts(target[:, first:].any(axis=1), predicted[:, first:].any(axis=1))
    return out
