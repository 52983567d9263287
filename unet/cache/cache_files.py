"""The empty `.npy` files of a split's cache, their blocks reserved before any is filled."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unet.common.fileio import disk_errors, reserve


def create_split_files(
    folder: Path, name: str, n: int, size: tuple[int, int], channels: int
) -> tuple[str, str]:
    """Empty folder/<name>_images.npy (n, h, w, C) and <name>_masks.npy (n, h, w), uint8."""
    w, h = size
    return create_files(folder, name, ((n, h, w, channels), (n, h, w)))


def create_flat_files(folder: Path, name: str, lengths: tuple[int, int]) -> tuple[str, str]:
    """Empty flat folder/<name>_images.npy and <name>_masks.npy of these lengths, uint8."""
    return create_files(folder, name, ((lengths[0],), (lengths[1],)))


def create_files(folder: Path, name: str, shapes: tuple) -> tuple[str, str]:
    """The two uint8 files of these shapes, their blocks reserved: a full disk is an error here."""
    paths = (str(folder / f"{name}_images.npy"), str(folder / f"{name}_masks.npy"))
    for path, shape in zip(paths, shapes, strict=True):
        with disk_errors(path, int(np.prod(shape))):
            np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape).flush()
        reserve(path)
    return paths
