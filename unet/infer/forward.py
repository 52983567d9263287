"""The forward passes of inference: models loaded for it, flip averaging, whole-image batches,
and the sliding window a patch-trained model is given."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from unet.common.device import amp_dtype, pick_device, set_threads
from unet.common.schema import defaults
from unet.infer.rescale import rescaled
from unet.infer.tiles import ALL_FLIPS, NO_FLIPS, Flips, Window, predict_logits
from unet.infer.upsample import band_rows, resized_rows
from unet.model import checkpoint
from unet.model.build import SmallSides, size_multiple
from unet.model.trained import note_untrained, trained_only
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
    # unet predict --rescale (no config key): each image enters a native-size model this
    # factor times its cached size; the ratio of its pixel size to the training images'
    rescale: float = 1.0


def ensemble_logits(
    models: list[torch.nn.Module], x: torch.Tensor, flips: Flips, dtype: torch.dtype | None
) -> list[torch.Tensor]:
    """Each model's (B, C, h, w) logits of a batch, at its input size."""
    return [predict_logits(model, x, flips, dtype) for model in models]


def probs_bands(
    logits: list[torch.Tensor], size: tuple[int, int]
) -> Iterator[tuple[int, torch.Tensor]]:
    """(y, rows) of one image's class probabilities at its original size (H, W), band by band
    on the CPU: each model's logits (C, h, w) resized to (H, W), softmaxed, then averaged over
    the models. Only a band is ever held at the original size."""
    height, width = size
    step = band_rows(logits[0].shape[0], width)
    for y in range(0, height, step):
        stop = min(y + step, height)
        probs = sum(resized_rows(one, size, y, stop).softmax(0) for one in logits)
        yield y, (probs / len(logits)).cpu()


def load_for_inference(
    model_path: str | os.PathLike, settings: PredictSettings, threads: int
) -> tuple[torch.nn.Module, dict, torch.dtype | None]:
    """The trained model on its device in eval mode, its checkpoint, and the autocast dtype;
    it gives the classes it never trained on probability 0 (model.trained), and takes images
    with a side under 2**depth (a native-size model's small images) as the ONNX export does."""
    set_threads(threads)
    device = pick_device(settings.device, "predict.device (unet predict's --device)")
    model, ckpt = checkpoint.load_model(model_path, device)
    model = trained_only(model, ckpt).to(device)
    model = SmallSides(model, size_multiple(UNetConfig(**ckpt["model_config"])))
    model = model.to(memory_format=torch.channels_last)  # NHWC convolutions are faster
    return model, ckpt, amp_dtype(device, settings.amp, settings.amp_cpu)


def load_ensemble(
    model_paths: list[str | os.PathLike], settings: PredictSettings, threads: int
) -> tuple[list[torch.nn.Module], dict, torch.dtype | None]:
    """Several models (cross-validation folds) trained on the same data layout."""
    loaded = [load_for_inference(p, settings, threads) for p in model_paths]
    checkpoint.check_same_data([ckpt for _, ckpt, _ in loaded], model_paths)
    note_untrained([ckpt for _, ckpt, _ in loaded], model_paths)
    # the checkpoint its inputs are sized by: --rescale's new images at another pixel size
    return [m for m, _, _ in loaded], rescaled(loaded[0][1], settings.rescale), loaded[0][2]


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
