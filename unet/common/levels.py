"""Which level of a whole-slide pyramid to decode for a downscaled read: the smallest at least
the target size, as a JPEG is decoded at a DCT scale (a 40x slide of 50k x 40k px is 6 GB at
level 0, 94 MB at its 1/16 level)."""

from __future__ import annotations

import os
from pathlib import Path

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
            full = _wh(tif.series[0].levels[0])
            fits = [(_area(level), k) for k, level in enumerate(tif.series[0].levels)
                    if _covers(_wh(level), full, want)]
    except TIFF_DAMAGED:
        return 0  # read as before, which names a damaged file
    return min(fits)[1] if fits else 0


def _covers(level: tuple[int, int], full: tuple[int, int], want: tuple[int, int]) -> bool:
    """A level of (w, h) `level` holds `want` of a `full`-size image on both sides: at least as
    many px, or a side floored by an integer downsample d (full // d) whose exact full / d
    rounds up to `want` (6003 px at 4x: 1500, for the 1501 that scale 0.25 rounds 1500.75 to)."""
    def side(n: int, whole: int, w: int) -> bool:
        d = whole // n if n else 0
        return n >= w or (d > 0 and whole // d == n and -(-whole // d) >= w)
    return side(level[0], full[0], want[0]) and side(level[1], full[1], want[1])


def _wh(series: tifffile.TiffPageSeries) -> tuple[int, int]:
    """A level's stored (w, h)."""
    return series.shape[series.axes.index("X")], series.shape[series.axes.index("Y")]


def _area(series: tifffile.TiffPageSeries) -> int:
    w, h = _wh(series)
    return w * h


def reduced_level_fix(path: str | os.PathLike, limit: int) -> str | None:
    """The fix for a whole-slide pyramid over the `limit` (pixels) on one file: its largest level
    within it as a file of its own, with masks at that level's downsample; None for any other
    file (or a pyramid none of whose levels fits), which keeps the advice to cut it into tiles.
    Tiles cannot take a QuPath GeoJSON, whose coordinates are the full resolution's."""
    try:
        with tifffile.TiffFile(path) as tif:
            sizes = [_wh(level) for level in tif.series[0].levels] if whole_slide(tif) else []
    except TIFF_DAMAGED:
        return None
    fits = [(w * h, k) for k, (w, h) in enumerate(sizes) if w * h <= limit]
    if not fits:
        return None
    k = max(fits)[1]
    (w, h), down = sizes[k], sizes[0][0] / sizes[k][0]
    name, stem = Path(path).name, Path(path).stem
    return (f"it is a whole-slide pyramid, and masks, predictions and the CRF are made at its full "
            f"resolution: save its level {k} ({w}x{h}, downsample {down:g}) as a file of its own "
            f"(`vips thumbnail {name} {stem}_level{k}.tif {w}`) with masks at that size (QuPath: a "
            f"labelled-image export at downsample {down:g}: its GeoJSON's coordinates are the full "
            "resolution's, not that file's)")
