"""Whether a data set's or model's input channels are bands of their own (an ImageJ/OME
hyperstack's DAPI, GFP and mCherry; band_files' SAR VV, VH and ratio) or grey or red, green
and blue: three channels alone do not tell, so meta.json and model.pt record it."""

from __future__ import annotations

import os

import tifffile

from unet.common.decoders import is_tiff


def channels_are_bands(record: dict) -> bool:
    """True for a cache's meta.json or a model file whose channels are bands: 2 or more than 3
    always; 3 where `bands` is recorded (older files, and colour ones, lack it: colour)."""
    return record["in_channels"] not in (1, 3) or bool(record.get("bands"))


def stacked_three(path: str | os.PathLike) -> bool:
    """A TIFF of 3 samples that says they are no colour (minisblack, as band_files and unet
    stack write 3 bands, and GDAL 16-bit or float ones), which a 3-band model reads as bands."""
    if not is_tiff(path):
        return False
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            return (page.photometric == tifffile.PHOTOMETRIC.MINISBLACK
                    and page.samplesperpixel == 3)
    except (tifffile.TiffFileError, ValueError, KeyError, IndexError, OSError):
        return False  # a damaged file: named where it is read
