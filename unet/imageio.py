"""Reading images and masks, writing mask PNGs; every decode goes through here."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from unet.fileio import atomic_path


class ImageReadError(ValueError):
    """An image or mask file could not be decoded."""


def open_image(path: str | os.PathLike) -> Image.Image:
    """Open and fully decode an image, honouring EXIF orientation."""
    try:
        with Image.open(path) as im:
            im.load()  # force the decode now so truncation errors name this file
            return ImageOps.exif_transpose(im)
    except (OSError, UnidentifiedImageError, SyntaxError) as err:
        raise ImageReadError(
            f"cannot read image {path}: {err}. Replace or remove the file (and its mask)."
        ) from err


def to_model_mode(im: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit 'L' (1 channel) or 'RGB' (3 channels)."""
    if im.mode in ("L", "RGB"):
        return im
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale the full range down to 8 bits.
        arr = np.asarray(im, dtype=np.float64)
        hi = max(float(arr.max()), 1.0)
        return Image.fromarray(np.round(arr * (255.0 / hi)).astype(np.uint8), mode="L")
    if im.mode in ("LA", "1"):
        return im.convert("L")
    return im.convert("RGB")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image as uint8 (H, W, C) with C = 1 or 3."""
    arr = np.asarray(to_model_mode(open_image(path)))
    return arr[..., None] if arr.ndim == 2 else arr


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """Read a mask's raw values as (H, W) unconverted (palette indices stay indices)."""
    im = open_image(path)
    if im.mode in ("RGB", "RGBA"):
        raise ImageReadError(
            f"mask {path} is a colour image ({im.mode}); give single-channel masks "
            "(greyscale or palette PNG/GIF)."
        )
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        return np.asarray(im, dtype=np.int64)
    if im.mode == "LA":
        im = im.getchannel("L")
    return np.asarray(im)


def write_mask_png(path: str | os.PathLike, mask: np.ndarray) -> None:
    """Write a (H, W) uint8 mask as PNG, atomically."""
    with atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(mask, dtype=np.uint8), mode="L").save(
            tmp, format="PNG"
        )


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) after EXIF orientation, read from the header only."""
    with Image.open(Path(path)) as im:
        w, h = im.size
        orientation = im.getexif().get(0x0112, 1)
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)
