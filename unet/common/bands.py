"""Multi-band images: TIFFs of 2 or more than 3 bands that are not alpha (RGB + near-infrared
orthophotos such as ISPRS Potsdam's RGBIR, Sentinel-1's VV and VH, multispectral stacks). The
model reads every band; PIL holds at most RGB, so they are read with tifffile as (H, W, N)
arrays and resized a band at a time with the filter grey and colour images get. The CRF's colour
kernel sees every band; the report's overlays pick three (unet.report.band_names)."""

from __future__ import annotations

import os

import numpy as np
import tifffile
from PIL import Image

from unet.common.band_ranges import Span, band_ranges, per_band
from unet.common.decoders import band_count, layout_of, oriented, scaled_8_bits, value_range
from unet.common.gdal_fill import nodata_as_nan, tiff_nodata
from unet.common.imageio import IMAGE_FIX, named_file, read_image, within_limit


def read_bands(path: str | os.PathLike, span: Span = None) -> np.ndarray:
    """A multi-band TIFF as uint8 (H, W, N), its Orientation applied and alpha dropped; wider
    samples scaled into 8 bits by `span` (the data set's range) or else by one range over its
    bands, so their ratios stay."""
    return as_8_bits(raw_bands(path), span)


def as_8_bits(arr: np.ndarray, span: Span = None) -> np.ndarray:
    """raw_bands' samples (H, W, N) as read_bands gives them: uint8 kept, wider scaled."""
    return arr if arr.dtype == np.uint8 else _to_8_bits(arr, span)


def raw_bands(path: str | os.PathLike) -> np.ndarray:
    """A multi-band TIFF's samples (H, W, N) in their own dtype (float32 with NaN where a
    wide one holds its GeoTIFF nodata value), turned, alpha dropped."""
    return bands_and_alpha(path)[0]


def bands_and_alpha(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    """raw_bands of a TIFF, and its alpha band (H, W) where it has one (an orthomosaic's
    transparent ground outside the flight), from one decode."""
    with named_file(path, "image", IMAGE_FIX), tifffile.TiffFile(path) as tif:
        series, (samples, alpha) = tif.series[0], layout_of(tif)
        shape, axes = series.shape, series.axes
        within_limit((shape[axes.index("X")], shape[axes.index("Y")]), samples, path)
        arr = series.asarray()
        for axis in "SC":  # samples last
            if axis in axes:
                arr = np.moveaxis(arr, axes.index(axis), -1)
                break
        arr = oriented(arr, int(tif.pages[0].tags.valueof(274, 1)))
    # GeoTIFF nodata (the fill outside the scene) as NaN: out of the range, the lowest value
    bands = nodata_as_nan(arr[..., :-1] if alpha else arr, tiff_nodata(path))
    return bands, (arr[..., -1] if alpha else None)


def bands_dtype(path: str | os.PathLike) -> np.dtype:
    """A multi-band TIFF's sample type, from its header (nothing decoded)."""
    with named_file(path, "image", IMAGE_FIX), tifffile.TiffFile(path) as tif:
        return tif.series[0].dtype


def _to_8_bits(arr: np.ndarray, span: Span = None) -> np.ndarray:
    """Wider samples into 8 bits by one range over every band (wide_to_8_bits' range), a band
    at a time: a float64 copy of a Sentinel-2 tile's 13 bands at once would be 12.5 GB, one
    band 1 GB. A per-band span (band_ranges): each band by its own range."""
    n = arr.shape[-1]
    if per_band(span):
        ranges = band_ranges(span, n, lambda k: value_range(arr[..., k]))
    else:
        joint = [span] if span else [value_range(arr[..., k]) for k in range(n)]
        ranges = [(min(r[0] for r in joint), max(r[1] for r in joint))] * n
    out = np.empty(arr.shape, np.uint8)
    for k, (lo, hi) in enumerate(ranges):
        out[..., k] = scaled_8_bits(arr[..., k], lo, hi)
    return out


def resize_bands(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w, N) uint8 at `size` (w, h): each band area-then-bilinear resized, as PIL resizes
    grey and colour images for the model."""
    if (arr.shape[1], arr.shape[0]) == tuple(size):
        return arr
    return np.stack(
        [np.asarray(Image.fromarray(np.ascontiguousarray(arr[..., b])).resize(
            size, Image.Resampling.BILINEAR, reducing_gap=2.0)) for b in range(arr.shape[-1])],
        axis=-1,
    )


def crf_image(path: str | os.PathLike, span: Span = None) -> np.ndarray:
    """uint8 (H, W, N) as the model saw an image, every band kept: grey or colour as read, a
    multi-band image's N bands; wide values scaled by `span`, the data set's intensity range
    (meta.json). The CRF's colour kernel reads them all: a near-infrared band is often the one
    that tells vegetation from water."""
    return read_bands(path, span) if band_count(path) else read_image(path, span)
