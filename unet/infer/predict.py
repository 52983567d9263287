"""`predict_masks`: batched inference, logits upsampled to each image's original size."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from unet.cache.reader import load_split
from unet.common.device import amp_dtype, pick_device, set_threads
from unet.common.fileio import atomic_path, read_json
from unet.common.labels import MaskMapping, mapping_from_meta
from unet.common.logs import progress
from unet.common.schema import defaults
from unet.model import checkpoint

log = logging.getLogger(__name__)
_D = defaults("predict")  # field defaults: config/schema.yaml


@dataclass(frozen=True)
class PredictSettings:
    """Inference settings (config section `predict`)."""

    batch_size: int = _D["batch_size"]
    tta: bool = _D["tta"]  # average over horizontal and vertical flips
    device: str = _D["device"]
    amp: bool = _D["amp"]


@torch.no_grad()
def predict_probs(
    model: torch.nn.Module, images: torch.Tensor, tta: bool, dtype: torch.dtype | None
) -> torch.Tensor:
    """Logits (B, C, h, w) at the model's input size, averaged over flips when `tta`."""
    flips = [(), (-1,), (-2,)] if tta else [()]
    total = None
    for dims in flips:
        x = images.flip(dims) if dims else images
        with torch.autocast(images.device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(x).float()
        logits = logits.flip(dims) if dims else logits
        total = logits if total is None else total + logits
    return total / len(flips)  # averaged logits; softmax after upsampling


def upsample_probs(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Upsample one image's logits (C, h, w) to (C, H, W) = original size, then softmax."""
    up = F.interpolate(logits[None], size=size, mode="bilinear", align_corners=False)[0]
    return up.softmax(0)


def save_prediction(
    out_dir: Path, image_id: str, probs: torch.Tensor, mapping: MaskMapping
) -> None:
    """Write masks/<id>.png (data's own values) and probs/<id>.npz (float16, compressed)."""
    mapping.write(out_dir / "masks" / f"{image_id}.png", probs.argmax(0).cpu().numpy())
    with atomic_path(out_dir / "probs" / f"{image_id}.npz") as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, probs=probs.cpu().numpy().astype(np.float16))


def load_for_inference(
    model_path: str | os.PathLike, settings: PredictSettings, threads: int
) -> tuple[torch.nn.Module, dict, torch.dtype | None]:
    """The trained model on its device in eval mode, its checkpoint, and the autocast dtype."""
    set_threads(threads)
    device = pick_device(settings.device)
    model, ckpt = checkpoint.load_model(model_path, device)
    model = model.to(memory_format=torch.channels_last)  # NHWC convolutions are faster
    return model, ckpt, amp_dtype(device, settings.amp)


def load_ensemble(
    model_paths: list[str | os.PathLike], settings: PredictSettings, threads: int
) -> tuple[list[torch.nn.Module], dict, torch.dtype | None]:
    """Several models (cross-validation folds) trained on the same data layout."""
    loaded = [load_for_inference(p, settings, threads) for p in model_paths]
    checkpoint.check_same_data([ckpt for _, ckpt, _ in loaded], model_paths)
    return [m for m, _, _ in loaded], loaded[0][1], loaded[0][2]


def ensemble_probs(
    models: list[torch.nn.Module],
    x: torch.Tensor,
    sizes: list[tuple[int, int]],
    tta: bool,
    dtype: torch.dtype | None,
) -> list[torch.Tensor]:
    """Per image (C, H, W) class probabilities at its (w, h) size, averaged over the models."""
    out: list[torch.Tensor | None] = [None] * len(x)
    for model in models:
        logits = predict_probs(model, x, tta, dtype)
        for k, logit in enumerate(logits):
            w, h = sizes[k]
            probs = upsample_probs(logit, (h, w))
            out[k] = probs if out[k] is None else out[k].add_(probs)
    return [p / len(models) for p in out]


def predict_masks(
    model_paths: list[str | os.PathLike],
    cache_dir: str | os.PathLike,
    split: str,
    out_dir: str | os.PathLike,
    settings: PredictSettings,
    threads: int = 1,
) -> int:
    """Predict every cached image of `split` with the models' averaged probabilities (one
    model, or the ensemble of cross-validation folds); returns the number of images written."""
    models, ckpt, dtype = load_ensemble(model_paths, settings, threads)
    device, mapping = next(models[0].parameters()).device, mapping_from_meta(ckpt)
    meta = read_json(Path(cache_dir) / "meta.json")
    ids, sizes = meta["splits"][split]["ids"], meta["splits"][split]["orig_sizes"]
    images, _ = load_split(cache_dir, split)
    out_dir = Path(out_dir)
    step = settings.batch_size
    starts = range(0, len(ids), step)
    for start in progress(starts, f"predict {split}", total=len(starts)):
        batch = np.array(images[start : start + step])  # (B, h, w, C) uint8
        # (B, h, w, C) -> (B, C, h, w) as a channels_last view: no copy.
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255).to(device)
        probs = ensemble_probs(models, x, sizes[start : start + step], settings.tta, dtype)
        for k, p in enumerate(probs):
            save_prediction(out_dir, ids[start + k], p, mapping)
    log.info("%d masks written to %s (%d model(s))", len(ids), out_dir / "masks", len(models))
    return len(ids)
