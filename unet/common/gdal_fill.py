"""GDAL's nodata value of a GeoTIFF (its fill outside the scene, as text in tag 42113), and wide
samples with that fill as NaN."""

from __future__ import annotations

import logging
import os

import numpy as np
import tifffile

from unet.common.decoders import TIFF_DAMAGED, is_tiff

GDAL_NODATA = 42113  # GeoTIFF's nodata value, as text: the fill outside the scene


def tiff_nodata(path: str | os.PathLike) -> float | None:
    """A TIFF's GDAL nodata value; None without one (or not a number, or not a TIFF)."""
    if not is_tiff(path):
        return None
    try:
        with tifffile.TiffFile(path) as tif:
            return tags_nodata(tif.pages[0].tags)
    except TIFF_DAMAGED:
        return None


def tags_nodata(tags: tifffile.TiffTags) -> float | None:
    """GDAL's nodata value in a page's tags, a decimal ',' read as GDAL does; None without."""
    text = tags.valueof(GDAL_NODATA)
    try:
        return None if text is None else float(str(text).strip("\0 ").replace(",", "."))
    except ValueError:  # not a number
        return None


def _fill_not_castable(record: logging.LogRecord) -> bool:
    """False for tifffile's warning (each open) that GDAL's float fill -3.4e38 is 'not castable'."""
    return "GDAL_NODATA" not in (text := record.getMessage()) or "castable to float" not in text


logging.getLogger("tifffile").addFilter(_fill_not_castable)  # tags_nodata reads the fill


def nodata_as_nan(arr: np.ndarray, nodata: float | None) -> np.ndarray:
    """Wide samples (not 8-bit) as float32 with the nodata value as NaN, which value_range
    leaves out and the scaling reads as the lowest value: a fill of -9999 beside elevations
    of 0..3000 squeezed them into 59 grey levels. Other arrays as they are."""
    if nodata is None or arr.dtype == np.uint8 or np.isnan(nodata):
        return arr
    fill = arr == nodata
    if not fill.any():
        return arr
    out = arr.astype(np.float32)
    out[fill] = np.nan
    return out
