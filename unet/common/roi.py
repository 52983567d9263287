"""Regions of interest: a file per image whose non-zero pixels are the part to learn and score
(DRIVE's field-of-view masks: the black surround of a fundus photograph is neither vessel nor
background). Outside it the target reads as IGNORE_INDEX, as masks.ignore's pixels do."""

from __future__ import annotations

import os

import numpy as np
from PIL import ImageOps

from unet.common.imageio import GREY16, opened_image
from unet.common.labels import IGNORE_INDEX, MaskValueError
from unet.common.maskio import white_is_zero

FIX = "replace the file, or fix dataset.<source>.roi"


def read_roi(path: str | os.PathLike, shape: tuple[int, int],
             mask_path: str | os.PathLike) -> np.ndarray:
    """(H, W) bool: the ROI file's non-zero pixels (any grey level, colour or palette entry
    other than black), refused unless it is the size `shape` of its mask `mask_path`."""
    with opened_image(path, "region of interest", FIX) as im:
        im = ImageOps.exif_transpose(im)  # turned as its mask is (open_image)
        # palette, colour: by what they show (black or not), not by palette index, and by
        # any channel, not a rounded 8-bit luminance in which (1, 0, 0) read as black
        if im.mode in (*GREY16, "F", "L", "1"):
            arr = np.asarray(im if im.mode != "1" else im.convert("L"))
        else:
            arr = np.asarray(im.convert("RGB")).max(axis=-1)
        if im.mode in ("1", "L") and white_is_zero(path):  # stored values, as masks read
            arr = 255 - arr
    if arr.shape != tuple(shape):
        raise MaskValueError(
            f"region of interest {path} is {arr.shape[1]}x{arr.shape[0]} but its mask "
            f"{mask_path} is {shape[1]}x{shape[0]}; a region of interest must match its image"
        )
    return arr > 0


def within_roi(target: np.ndarray, roi_path: str | os.PathLike | None,
               mask_path: str | os.PathLike) -> np.ndarray:
    """`target` (H, W class indices) with IGNORE_INDEX outside the region of interest; itself
    when the image has none."""
    if roi_path is None:
        return target
    return np.where(read_roi(roi_path, target.shape, mask_path), target, IGNORE_INDEX).astype(
        target.dtype)
