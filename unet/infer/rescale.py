"""unet predict --rescale: new images at another pixel size than the training images'."""

from __future__ import annotations


def rescaled(ckpt: dict, factor: float) -> dict:
    """The checkpoint `ckpt` with each image entering its native-size model `factor` times the
    size it would (its `scale` times `factor`), the masks still written at the image's own
    size: images at another pixel size than the training's (HuBMAP's test slides at 0.229 um
    beside training ones at 0.4 um: 0.229 / 0.4) reach the model at the training's pixel size.
    A model trained at one size (preprocess.mode resize) takes every image at that size, so it
    is refused there."""
    if factor == 1:
        return ckpt
    if (ckpt.get("mode") or "resize") != "native":
        raise ValueError(
            f"--rescale {factor:g}: the model was trained on images resized to one size "
            f"({'x'.join(map(str, ckpt.get('size') or ()))}, preprocess.mode resize), which "
            "every image is resized to whatever its pixel size; --rescale needs a model of "
            "preprocess.mode native (or resize the images yourself first)")
    return {**ckpt, "scale": (ckpt.get("scale") or 1.0) * factor}
