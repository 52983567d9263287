"""Which level of a whole-slide pyramid to decode for a downscaled read: the smallest at least
the target size, as a JPEG is decoded at a DCT scale (a 40x slide of 50k x 40k px is 6 GB at
level 0, 94 MB at its 1/16 level)."""

from __future__ import annotations

import os

import tifffile

from unet.common.decoders import ROTATED, TIFF_DAMAGED, is_tiff
from unet.common.pages import whole_slide


def pyramid_level(path: str | os.PathLike, size: tuple[int, int]) -> int:
    """The index of the smallest level of the whole-slide pyramid at `path` whose (w, h) is at
    least `size` (w, h, as shown: Orientation applied) on both sides; 0 for the full resolution,
    and for any file that is no such pyramid (read as before)."""
    if not is_tiff(path):
        return 0
    try:
        with tifffile.TiffFile(path) as tif:
            if not whole_slide(tif):
                return 0
            turned = int(tif.pages[0].tags.valueof(274, 1)) in ROTATED  # Orientation
            want = size[::-1] if turned else size  # as stored
            fits = [(_area(level), k) for k, level in enumerate(tif.series[0].levels)
                    if _wh(level)[0] >= want[0] and _wh(level)[1] >= want[1]]
    except TIFF_DAMAGED:
        return 0  # read as before, which names a damaged file
    return min(fits)[1] if fits else 0


def _wh(series: tifffile.TiffPageSeries) -> tuple[int, int]:
    """A level's stored (w, h)."""
    return series.shape[series.axes.index("X")], series.shape[series.axes.index("Y")]


def _area(series: tifffile.TiffPageSeries) -> int:
    w, h = _wh(series)
    return w * h
