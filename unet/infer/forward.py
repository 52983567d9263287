"""The forward passes of inference: models loaded for it, flip averaging, whole-image batches,
and the sliding window a patch-trained model is given."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unet.common.device import amp_dtype, pick_device, set_threads
from unet.common.schema import defaults
from unet.infer.tiles import ALL_FLIPS, NO_FLIPS, Flips, Window, predict_logits
from unet.model import checkpoint
from unet.model.build import size_multiple
from unet.model.unet import UNetConfig

_D = defaults("predict")  # field defaults: config/schema.yaml


@dataclass(frozen=True)
class PredictSettings:
    """Inference settings (config section `predict`)."""

    batch_size: int = _D["batch_size"]  # images, or tiles of a sliding window, per pass
    tta: bool = _D["tta"]  # average over flips: the trained axis (tta_flips), else both
    device: str = _D["device"]
    amp: bool = _D["amp"]
    amp_cpu: bool | str = _D["amp_cpu"]  # bf16 autocast on the CPU too: auto | true | false
    overlap: float = _D["overlap"]  # sliding window: share of a tile its neighbour shares


def upsample_probs(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Upsample one image's logits (C, h, w) to (C, H, W) = original size, then softmax."""
    up = F.interpolate(logits[None], size=size, mode="bilinear", align_corners=False)[0]
    return up.softmax(0)


def ensemble_probs(
    models: list[torch.nn.Module],
    x: torch.Tensor,
    sizes: list[tuple[int, int]],
    flips: Flips,
    dtype: torch.dtype | None,
) -> list[torch.Tensor]:
    """Per image (C, H, W) class probabilities at its (w, h) size, averaged over the models."""
    out: list[torch.Tensor | None] = [None] * len(x)
    for model in models:
        logits = predict_logits(model, x, flips, dtype)
        for k, logit in enumerate(logits):
            w, h = sizes[k]
            probs = upsample_probs(logit, (h, w))
            out[k] = probs if out[k] is None else out[k].add_(probs)
    return [p / len(models) for p in out]


def load_for_inference(
    model_path: str | os.PathLike, settings: PredictSettings, threads: int
) -> tuple[torch.nn.Module, dict, torch.dtype | None]:
    """The trained model on its device in eval mode, its checkpoint, and the autocast dtype."""
    set_threads(threads)
    device = pick_device(settings.device, "predict.device (unet predict's --device)")
    model, ckpt = checkpoint.load_model(model_path, device)
    model = model.to(memory_format=torch.channels_last)  # NHWC convolutions are faster
    return model, ckpt, amp_dtype(device, settings.amp, settings.amp_cpu)


def load_ensemble(
    model_paths: list[str | os.PathLike], settings: PredictSettings, threads: int
) -> tuple[list[torch.nn.Module], dict, torch.dtype | None]:
    """Several models (cross-validation folds) trained on the same data layout."""
    loaded = [load_for_inference(p, settings, threads) for p in model_paths]
    checkpoint.check_same_data([ckpt for _, ckpt, _ in loaded], model_paths)
    return [m for m, _, _ in loaded], loaded[0][1], loaded[0][2]


def tta_flips(tta: bool, ckpt: dict) -> Flips:
    """The views test-time augmentation averages: the flips the model was trained with
    (`train.augment.flip: horizontal` makes no model invariant to up-down flips, and averaging
    over them would blur what it learnt of the up-down orientation), both flips for a model
    trained with both or with none; only the image as is without `tta`."""
    if not tta:
        return NO_FLIPS
    one_axis = {"horizontal": ((), (-1,)), "vertical": ((), (-2,))}
    return one_axis.get(checkpoint.trained_flip(ckpt), ALL_FLIPS)


def window_for(ckpt: dict, settings: PredictSettings) -> Window | None:
    """The sliding window a patch-trained model predicts with (tiles of its patch size);
    None for a model trained on whole images, which predicts whole images."""
    patch = checkpoint.trained_patch(ckpt)
    if patch is None:
        return None
    align = size_multiple(UNetConfig(**ckpt["model_config"]))
    return Window(patch[::-1], settings.overlap, settings.batch_size, align)  # tile (h, w)
