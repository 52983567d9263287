"""Checkpoints: atomic saves, and the model rebuilt from a checkpoint alone."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from unet.fileio import atomic_path
from unet.model import UNet, UNetConfig


def config_hash(*parts: Any) -> str:
    """Stable hash of JSON-able settings: a resumed run must match it exactly."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def save(path: str | os.PathLike, state: dict) -> None:
    """torch.save to a temporary file, then rename: a killed job leaves the old file intact."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """Load a checkpoint written by `save`."""
    return torch.load(Path(path), map_location=device, weights_only=False)


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[UNet, dict]:
    """Rebuild the trained UNet from `model.pt`; returns (model in eval mode, checkpoint dict)."""
    ckpt = load(path, device)
    model = UNet(UNetConfig(**ckpt["model_config"]))
    model.load_state_dict(ckpt["state_dict"])
    return model.to(device).eval(), ckpt
