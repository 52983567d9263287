"""Decoders for the files PIL cannot read faithfully: scientific TIFFs through tifffile (float16,
planar or multi-sample grey, float colour: PIL cannot open them; two-sample grey: PIL reads its
first channel) and 16-bit colour TIFFs and PNGs, which PIL cuts to the high byte of each sample
(a 12-bit camera's RGB kept 16 levels). Each returns the pixels in their own dtype."""

from __future__ import annotations

import os
from pathlib import Path

import imagecodecs
import numpy as np
import tifffile
from PIL import Image, UnidentifiedImageError

from unet.common.band_ranges import Span, band_ranges, joint_of, per_band
from unet.common.pages import channel_pages, pages_message, whole_slide

ROTATED = (5, 6, 7, 8)  # EXIF/TIFF orientations that swap width and height
TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # little/big-endian TIFF and BigTIFF


class UnusableImageError(ValueError):
    """The file holds something the pipeline cannot use as one image."""


def is_tiff(path: str | os.PathLike) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in TIFF_MAGIC


TIFF_DAMAGED = (tifffile.TiffFileError, ValueError, KeyError, IndexError, OSError)


def layout_of(tif: tifffile.TiffFile) -> tuple[int, bool]:
    """A one-page TIFF's samples a pixel, and whether its last extra sample is alpha."""
    series, page = tif.series[0], tif.pages[0]
    samples = next((series.shape[series.axes.index(a)] for a in "SC" if a in series.axes), 1)
    extra = page.extrasamples or ()
    return samples, bool(extra) and int(extra[-1]) in (1, 2)  # associated, unassociated alpha


def band_count(path: str | os.PathLike) -> int:
    """The bands a multi-band TIFF gives the model (2, or more than 3, alpha left out; every
    channel of an ImageJ/OME hyperstack of channels, 3 too: they are no red, green and blue);
    0 for every other file, read as grey or colour (a damaged or multi-page file is named
    there)."""
    if not is_tiff(path):
        return 0
    try:
        with tifffile.TiffFile(path) as tif:
            if tif.pages[0].photometric == tifffile.PHOTOMETRIC.SEPARATED:
                return 0  # CMYK: a colour image
            if len(tif.pages) > 1 and not whole_slide(tif):
                return channel_pages(tif)  # else a stack, or z-slices: named as such
            samples, alpha = layout_of(tif)
    except TIFF_DAMAGED:
        return 0
    n = samples - alpha
    return n if n == 2 or n > 3 else 0


def bands_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of a multi-band TIFF as shown (its Orientation applied), from its
    header."""
    with tifffile.TiffFile(path) as tif:
        shape, axes = tif.series[0].shape, tif.series[0].axes
        turned = int(tif.pages[0].tags.valueof(274, 1)) in ROTATED
    h, w = shape[axes.index("Y")], shape[axes.index("X")]
    return (h, w) if turned else (w, h)


def wide_to_8_bits(arr: np.ndarray, span: Span = None) -> np.ndarray:
    """16-bit, 32-bit integer or float grey values as uint8, by `span` (lo, hi: one range for
    a data set, values outside it clipped) or else by the image's own range.

    The range runs from min(0, lowest) to max(1, highest): 16-bit and 12-bit-in-16 images scale
    by their brightest pixel, floats in [0, 1] by 255, signed or wider floats by their span.
    NaN and -inf read as the lowest value, +inf as the highest. A per-band span (band_ranges)
    scales each channel of colour by its own range, grey by one over them all.
    """
    if per_band(span):
        if arr.ndim == 2:
            return wide_to_8_bits(arr, joint_of(span))
        ranges = band_ranges(span, arr.shape[-1], lambda k: value_range(arr[..., k]))
        out = np.empty(arr.shape, np.uint8)
        for k, (lo, hi) in enumerate(ranges):
            out[..., k] = scaled_8_bits(arr[..., k], lo, hi)
        return out
    return scaled_8_bits(arr, *(span or value_range(arr)))


# Pixels scaled per block: float64 temporaries of a block (about 8 MB each), never of the
# whole image (a 16-bit 8192x8192 image's float64 copies took 2 GB for its 128 MB of values).
BLOCK_PIXELS = 1 << 20


def _row_blocks(arr: np.ndarray) -> range:
    """Starts of the blocks of rows (first axis) that BLOCK_PIXELS bounds."""
    per_row = max(1, arr[:1].size)
    return range(0, arr.shape[0], max(1, BLOCK_PIXELS // per_row))


def value_range(arr: np.ndarray) -> tuple[float, float]:
    """(min(0, lowest finite value), max(1, highest finite value)): what wide_to_8_bits maps to
    0 and 255. Floats are searched a block of rows at a time (no whole-image mask or copy)."""
    lo, hi = 0.0, 1.0
    if arr.dtype.kind != "f":
        return (min(lo, float(arr.min())), max(hi, float(arr.max()))) if arr.size else (lo, hi)
    step = _row_blocks(arr).step
    for y in range(0, arr.shape[0] if arr.ndim else 0, step):
        finite = arr[y : y + step][np.isfinite(arr[y : y + step])]
        if finite.size:
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    return lo, hi


def scaled_8_bits(arr: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """`arr` mapped from [lo, hi] to uint8 0..255, clipped (NaN and -inf to 0, +inf to 255);
    computed in float64 a block of rows at a time into the uint8 result."""
    arr = np.asarray(arr)
    if arr.ndim == 0:
        return scaled_8_bits(arr[None], lo, hi)[0]
    out = np.empty(arr.shape, np.uint8)
    step = _row_blocks(arr).step
    for y in range(0, arr.shape[0], step):
        part = np.array(arr[y : y + step], dtype=np.float64)  # a fresh block, scaled in place
        np.nan_to_num(part, copy=False, nan=lo, posinf=hi, neginf=lo)
        part -= lo
        part *= 255.0
        part /= hi - lo
        np.clip(np.round(part, out=part), 0, 255, out=part)
        out[y : y + step] = part
    return out


def pil_misreads(im) -> bool:
    """True for an opened PIL image whose pixels are not the file's: a TIFF with fewer channels
    than it holds (two-sample grey as its first channel), 16-bit colour (TIFF or PNG) decoded
    to 8 bits, signed 8-bit grey read as unsigned (-5 as 251), unsigned 32-bit grey read as
    signed (3e9 as -1.3e9), or a TIFF whose Orientation swaps width and height (Pillow 13
    decodes an uncompressed grey one at its stored size, the rows scrambled; a palette one
    stays PIL's, which keeps the palette)."""
    if im.format == "PNG":
        return im.mode in ("RGB", "RGBA") and im.tile and im.tile[0].args.endswith(";16B")
    if im.format != "TIFF":
        return False
    bits = im.tag_v2.get(258, (8,))  # BitsPerSample
    samples = im.tag_v2.get(277, 1)  # SamplesPerPixel
    turned = im.mode != "P" and int(im.tag_v2.get(274, 1)) in ROTATED  # Orientation
    formats = np.atleast_1d(im.tag_v2.get(339, 1))  # SampleFormat: 1 unsigned, 2 signed
    signed = (im.mode == "L" and 2 in formats  # int8 read as uint8, uint32 as int32
              or im.mode == "I" and max(bits) == 32 and 1 in formats)
    wide_colour = im.mode in ("RGB", "RGBA") and max(bits) > 8
    return samples != len(im.getbands()) or wide_colour or turned or signed


def pil_reads_faithfully(path: str | os.PathLike) -> bool:
    """False for a file PIL cannot identify or misreads (see pil_misreads)."""
    try:
        with Image.open(path) as im:
            return not pil_misreads(im)
    except UnidentifiedImageError:
        return False
    except Exception:  # noqa: BLE001  damaged: opening it through PIL reports it by name
        return True


def tiff_pages(path: str | os.PathLike) -> list[tuple[np.ndarray, int]]:
    """Every page of a TIFF (its pixels as stored, and its photometric tag), through tifffile."""
    try:
        with tifffile.TiffFile(path) as tif:
            return [(page.asarray(), int(page.photometric)) for page in tif.pages]
    except (tifffile.TiffFileError, ValueError, KeyError, IndexError, RuntimeError) as err:
        raise OSError(str(err)) from err  # damaged, as PIL reports it


def wide_header(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype]:
    """The (H, W) or (H, W, 3) shape as shown (Orientation applied) and dtype `read_wide`
    would return for a TIFF, from its header alone; refuses what read_wide refuses."""
    arr, alpha, orientation = _tiff(path, header_only=True)
    shape = _usable(arr, alpha, path).shape
    turned = orientation in ROTATED
    return ((shape[1], shape[0], *shape[2:]) if turned else shape), arr.dtype


def read_wide(path: str | os.PathLike, level: int = 0) -> np.ndarray:
    """One image as (H, W) or (H, W, 3) in its own dtype, a TIFF through tifffile, a PNG through
    imagecodecs; alpha beside grey or RGB is dropped. A stack or another channel count raises
    UnusableImageError naming the file; a damaged file, OSError. `level`: a whole-slide
    pyramid's reduced level to read (levels.pyramid_level), 0 the full resolution."""
    if is_tiff(path):
        arr, alpha, _ = _tiff(path, level=level)
    else:
        try:
            arr = imagecodecs.png_decode(Path(path).read_bytes())
        except imagecodecs.PngError as err:
            raise OSError(str(err)) from err  # damaged, as PIL reports it
        alpha = arr.ndim == 3 and arr.shape[-1] in (2, 4)  # a PNG's grey or colour + alpha
    return _usable(arr, alpha, path)


def _usable(arr: np.ndarray, alpha: bool, path: str | os.PathLike) -> np.ndarray:
    """(H, W) or (H, W, 3): one sample squeezed, a last `alpha` beside grey or RGB dropped (as
    PIL drops 8-bit LA's), else refused."""
    if arr.ndim == 3 and arr.shape[-1] in (2, 4) and alpha:
        arr = arr[..., :-1]
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2 and not (arr.ndim == 3 and arr.shape[-1] == 3):
        extra = " (colour and a band that is not alpha: near-infrared?)" if not alpha else ""
        raise UnusableImageError(
            f"{path} holds {arr.shape[-1] if arr.ndim == 3 else arr.shape} channels "
            f"({arr.dtype}){extra if arr.ndim == 3 and arr.shape[-1] == 4 else ''}, where 1 "
            "(grey) or 3 (colour) are read: a mask must be grey or colour, and a multi-band "
            "image trains a model of its bands only when every image of the data set has them"
        )
    return arr


def _tiff(path: str | os.PathLike, header_only: bool = False, level: int = 0
          ) -> tuple[np.ndarray, bool, int]:
    """A one-page TIFF's pixels, samples last, whether its last sample is alpha (beside grey or
    RGB), and its Orientation (applied to the pixels); `header_only`: a zero-strided stand-in
    of the stored shape and dtype, nothing decoded, not turned; `level`: a pyramid's level."""
    try:
        with tifffile.TiffFile(path) as tif:
            pages, series = len(tif.pages), tif.series[0]
            if (pages > 1 or len(tif.series) > 1) and not whole_slide(tif):
                sizes = [(page.imagewidth, page.imagelength) for page in tif.pages]
                raise UnusableImageError(pages_message(path, sizes, "TIFF"))
            if header_only:
                arr = np.broadcast_to(np.zeros(1, series.dtype), series.shape)
            else:  # a reduced level keeps the full resolution's tags (alpha, Orientation)
                series = series.levels[level] if level else series
                arr = series.asarray()
            axes = series.axes
            extra = tif.pages[0].tags.valueof(338)  # ExtraSamples: 0 unspecified, 1-2 alpha
            if tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB:  # 4th unspecified: NIR
                alpha = extra is None or int(np.atleast_1d(extra)[0]) != 0
            else:  # grey + alpha, as 16-bit LA is saved
                alpha = extra is not None and int(np.atleast_1d(extra)[-1]) in (1, 2)
            orientation = int(tif.pages[0].tags.valueof(274, 1))  # Orientation
    except UnusableImageError:
        raise
    except (tifffile.TiffFileError, ValueError, KeyError, IndexError, RuntimeError) as err:
        raise OSError(str(err)) from err  # damaged, as PIL reports it
    for axis in "SC":  # samples (or channels) last
        if axis in axes:
            arr = np.moveaxis(arr, axes.index(axis), -1)
            break
    return (arr if header_only else oriented(arr, orientation)), alpha, orientation


def oriented(arr: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels as shown: the TIFF Orientation tag applied as PIL's exif_transpose applies it
    (a mask that PIL reads turns the same way)."""
    turns = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }
    return np.ascontiguousarray(turns[orientation](arr)) if orientation in turns else arr
