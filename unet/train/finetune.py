"""`train.init_from`: start training from an earlier model's weights (fine-tuning)."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from unet.common.labels import mapping_from_meta
from unet.model import checkpoint
from unet.model.unet import UNetConfig
from unet.train.settings import TrainingError

log = logging.getLogger(__name__)


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file: a changed source model must not resume a run begun from the old one."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# The settings that decide which weights a network has: dropout has none, and an encoder's
# pretrained weights (encoder_weights) are replaced by the source's; base_width, bilinear and
# norm are arch unet's only, encoder arch smp's only.
_SHAPING = ("arch", "in_channels", "num_classes", "depth")
_SHAPING_BY_ARCH = {"unet": ("base_width", "bilinear", "norm"), "smp": ("encoder",)}


def _shaping(config: UNetConfig) -> tuple[str, ...]:
    """The settings the source model must share with this run's `config`."""
    return _SHAPING + _SHAPING_BY_ARCH.get(config.arch, ())


def source_weights(path: str | os.PathLike, config: UNetConfig, meta: dict) -> dict:
    """The state dict of the model at `path`, refused unless its network and classes are
    this run's (the error names every difference)."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"train.init_from {path}: no such model file; give a model.pt path")
    # as prediction reads it: an older file's missing settings at their defaults, and one whose
    # settings do not fit its weights refused (CheckpointError) naming what differs
    _, ckpt = checkpoint.load_model(path)
    mine, theirs = config.to_dict(), checkpoint.network_config(path, ckpt).to_dict()
    differs = [f"model.{k} {theirs[k]} there vs {mine[k]} here" for k in _shaping(config)
               if theirs[k] != mine[k]]
    there, here = mapping_from_meta(ckpt), mapping_from_meta(meta)
    if (there.groups(), there.rgb) != (here.groups(), here.rgb):
        differs.append(f"mask values {there.labels()} there vs {here.labels()} here")
    if differs:
        raise TrainingError(
            f"train.init_from {path}: its network or classes differ from this run's ("
            + "; ".join(differs) + "); fine-tune with the same model settings and mask values"
        )
    log.info("starting from the weights of %s (epoch %s)", path, ckpt.get("epoch"))
    return ckpt["state_dict"]

