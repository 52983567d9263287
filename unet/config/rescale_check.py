"""predict.rescale's refusal under preprocess.mode resize, as unet predict --rescale's
(unet.infer.rescale, which the prediction rules list as code: kept apart so that adding the key
reran no prediction)."""

from __future__ import annotations


def rescale_refusal(factor: float, mode: str) -> str | None:
    """Why predict.rescale `factor` cannot apply to a model trained in preprocess.mode `mode`,
    or None: a model trained at one size (mode resize) takes every image at that size, whatever
    its pixel size."""
    if factor == 1 or mode == "native":
        return None
    return (f"predict.rescale {factor:g}: the model is trained on images resized to one size "
            "(preprocess.mode resize), which every new image is resized to whatever its pixel "
            "size; predict.rescale needs preprocess.mode native (or resize the images yourself "
            "first, and leave it at 1)")
