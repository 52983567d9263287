"""Predicted probabilities on disk: one float16 (C, H, W) `.npy` per image, memory-mappable.

Uncompressed on purpose: a large image's probabilities are written band by band as they are
predicted and read back (CRF, tuning, final choice) a tile at a time, never whole in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from unet.common.fileio import atomic_path


def probs_path(pred_dir: str | os.PathLike, image_id: str) -> Path:
    """pred_dir/probs/<id>.npy: where predict_masks writes an image's probabilities."""
    return Path(pred_dir) / "probs" / f"{image_id}.npy"


def write_probs(path: str | os.PathLike, probs) -> None:
    """Write one image's probabilities (C, H, W) as float16 `.npy`, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, np.asarray(probs, dtype=np.float16))


def read_probs(path: str | os.PathLike) -> np.ndarray:
    """Memory-map one image's probabilities (C, H, W) float16; a clear error if not that."""
    try:
        probs = np.load(path, mmap_mode="r")
    except (OSError, ValueError) as err:
        raise ValueError(
            f"cannot read probabilities {path}: {err}; rerun prediction (predict_masks)"
        ) from err
    if probs.ndim != 3 or not np.issubdtype(probs.dtype, np.floating):
        raise ValueError(
            f"{path} holds a {probs.dtype} array of shape {probs.shape}, not (C, H, W) "
            "probabilities; rerun prediction (predict_masks)"
        )
    return probs
