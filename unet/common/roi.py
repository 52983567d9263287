"""Regions of interest: a file per image whose non-zero pixels are the part to learn and score
(DRIVE's field-of-view masks: the black surround of a fundus photograph is neither vessel nor
background), and regions to ignore (ignore_regions: NuInsSeg's vague areas), whose non-zero
pixels are left out. Outside the one and inside the other the target reads as IGNORE_INDEX,
as masks.ignore's pixels do; only the region of interest also forces predictions to class 0."""

from __future__ import annotations

import os

import numpy as np
from PIL import ImageOps

from unet.common.imageio import GREY16, opened_image
from unet.common.labels import IGNORE_INDEX, MaskValueError
from unet.common.maskio import white_is_zero

FIX = "replace the file, or fix dataset.<source>.roi"
IGNORE_FIX = "replace the file, or fix dataset.<source>.ignore_regions"


def read_roi(path: str | os.PathLike, shape: tuple[int, int],
             mask_path: str | os.PathLike, what: str = "region of interest",
             fix: str = FIX) -> np.ndarray:
    """(H, W) bool: the ROI file's non-zero pixels (any grey level, colour or palette entry
    other than black), refused unless it is the size `shape` of its mask `mask_path`; `what`
    and `fix` name the file's kind and its remedy in errors (a region to ignore reads alike)."""
    with opened_image(path, what, fix) as im:
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
            f"{what} {path} is {arr.shape[1]}x{arr.shape[0]} but its mask "
            f"{mask_path} is {shape[1]}x{shape[0]}; a {what} must match its image: {fix}"
        )
    return arr > 0


def left_out(roi_path: str | os.PathLike | None, ignored_path: str | os.PathLike | None,
             shape: tuple[int, int], mask_path: str | os.PathLike) -> np.ndarray | None:
    """(H, W) bool: the pixels no loss or score counts, outside the region of interest
    `roi_path` or inside the region to ignore `ignored_path` (their union); None: neither."""
    outside = None if roi_path is None else ~read_roi(roi_path, shape, mask_path)
    if ignored_path is None:
        return outside
    ignored = read_roi(ignored_path, shape, mask_path, "region to ignore", IGNORE_FIX)
    return ignored if outside is None else outside | ignored


def scored_pixels(pair: dict, shape: tuple[int, int]) -> np.ndarray | None:
    """(H, W) bool: a manifest pair's pixels inside its region of interest and outside its
    region to ignore; None where it has neither (every pixel)."""
    out = left_out(pair.get("roi"), pair.get("ignore_regions"), shape, pair["mask"])
    return None if out is None else ~out


def within_roi(target: np.ndarray, roi_path: str | os.PathLike | None,
               mask_path: str | os.PathLike,
               ignored_path: str | os.PathLike | None = None) -> np.ndarray:
    """`target` (H, W class indices) with IGNORE_INDEX outside the region of interest and
    inside the region to ignore; itself when the image has neither."""
    out = left_out(roi_path, ignored_path, target.shape, mask_path)
    return target if out is None else np.where(out, IGNORE_INDEX, target).astype(target.dtype)
