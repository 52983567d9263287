"""Headerless raw images (JSRT's .IMG, detector dumps) to PNG or TIFF files the pipeline reads.

A raw file holds pixels alone: its shape, type and byte order are the user's to give, and
each is checked against what the file can say (its size; how smooth its pixels read).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from unet.common.fileio import check_folder, disk_errors
from unet.dataset.unstack import _moved_in_whole, _refuse_taken

# A byte-swapped read of a smooth picture jumps by about a quarter of the type's range between
# neighbours; a right one by a few grey levels. Past this ratio of the two the order is wrong.
SWAPPED_RATIO = 4.0


def raw_dtype(text: str) -> np.dtype:
    """numpy's type string (`>u2`: big-endian uint16, `<u2`, `u1`, `<i2`, `>f4`), checked: a
    multi-byte type must say its byte order, which the file does not."""
    try:
        dtype = np.dtype(text)
    except TypeError as err:
        raise ValueError(f"--dtype {text!r} is no numpy type; e.g. '>u2' (big-endian 16-bit "
                         "unsigned), '<u2' (little-endian), 'u1' (8-bit)") from err
    if dtype.kind not in "uif" or dtype.itemsize > 4:
        raise ValueError(f"--dtype {text}: give an 8-, 16- or 32-bit integer or 32-bit float")
    if dtype.itemsize > 1 and text[0] not in "<>":
        raise ValueError(f"--dtype {text}: say the byte order, '>{text}' (big-endian: JSRT, "
                         f"most older scanners) or '<{text}' (little-endian: PCs' own dumps); "
                         "the file does not, and a wrong one reads as noise")
    return dtype


def raw_shape(path: Path, dtype: np.dtype, shape: tuple[int, int] | None) -> tuple[int, int]:
    """(height, width): as given, which the file's size must match, or the square its size
    holds; the error names the size, the bytes expected and the square that fits."""
    size = path.stat().st_size
    pixels, extra = divmod(size, dtype.itemsize)
    side = math.isqrt(pixels)
    square = (side, side) if side * side == pixels and not extra else None
    fits = f"; its size fits {side}x{side}" if square else ""
    if shape is None:
        if square is None:
            raise ValueError(f"{path}: {size:,} bytes are no square image of {dtype.itemsize}-"
                             "byte pixels; give --shape HEIGHTxWIDTH")
        return square
    need = shape[0] * shape[1] * dtype.itemsize
    if need != size:
        raise ValueError(f"{path}: {size:,} bytes, where --shape {shape[0]}x{shape[1]} of "
                         f"{dtype.itemsize}-byte pixels needs {need:,} (a header, or another "
                         f"size or type){fits}")
    return shape


def _roughness(pixels: np.ndarray) -> float:
    """Mean step between horizontal neighbours: low for a picture, high for noise."""
    values = pixels.astype(np.float64)
    return float(np.abs(np.diff(values, axis=1)).mean()) if values.shape[1] > 1 else 0.0


def check_byte_order(path: Path, pixels: np.ndarray, text: str) -> None:
    """Refuse integers that read as noise in the order given and as a picture in the other."""
    if pixels.dtype.itemsize == 1 or pixels.dtype.kind == "f":
        return
    swapped = pixels.view(pixels.dtype.newbyteorder())  # the same bytes, the other order
    given, other = _roughness(pixels), _roughness(swapped)
    if given > SWAPPED_RATIO * max(other, 1.0):
        flip = ("<" if text[0] == ">" else ">") + text[1:]
        raise ValueError(f"{path}: read as --dtype {text} its pixels are noise (mean step "
                         f"between neighbours {given:,.0f}, against {other:,.0f} the other way): "
                         f"the bytes are in the other order; give --dtype '{flip}'")


def check_bits(path: Path, pixels: np.ndarray, bits: int | None) -> int:
    """The highest value the data may hold (2^bits - 1; the type's top without --bits)."""
    top = (1 << bits) - 1 if bits else (np.iinfo(pixels.dtype).max
                                        if pixels.dtype.kind in "ui" else None)
    if bits and pixels.max() > top:
        raise ValueError(f"{path}: values reach {int(pixels.max()):,}, over the {top:,} of "
                         f"--bits {bits}; give the bits the scanner used, or the byte order")
    return top


def binned(path: Path, pixels: np.ndarray, factor: int) -> np.ndarray:
    """Each factor x factor block's mean, rounded, in the same type: an image brought to the
    size its masks were drawn at (SCR's on JSRT's images at half size)."""
    height, width = pixels.shape
    if height % factor or width % factor:
        raise ValueError(f"{path}: {height}x{width} does not divide by --bin {factor}")
    blocks = pixels.reshape(height // factor, factor, width // factor, factor)
    means = blocks.mean(axis=(1, 3), dtype=np.float64)  # (H/f, W/f)
    return (np.rint(means) if pixels.dtype.kind in "ui" else means).astype(pixels.dtype)


def read_raw(path: Path, text: str, shape: tuple[int, int] | None, bits: int | None = None,
             invert: bool = False, factor: int = 1) -> np.ndarray:
    """One raw image as (H, W) in native byte order; `invert`: 2^bits - 1 - v (high dark);
    `factor`: binned so (block means)."""
    dtype = raw_dtype(text)
    height, width = raw_shape(path, dtype, shape)
    pixels = np.fromfile(path, dtype=dtype).reshape(height, width)
    check_byte_order(path, pixels, text)
    pixels = pixels.astype(dtype.newbyteorder("="))
    top = check_bits(path, pixels, bits)
    if invert:
        if top is None:
            raise ValueError("--invert needs integers: a float's top is unknown")
        pixels = (top - pixels).astype(pixels.dtype)
    return binned(path, pixels, factor) if factor > 1 else pixels


def convert_raw(files: list[Path], out_dir: Path, text: str, shape: tuple[int, int] | None,
                bits: int | None = None, invert: bool = False, factor: int = 1) -> list[Path]:
    """Each raw file as <stem>.png (8- or 16-bit unsigned) or .tif (other types), values kept
    (or inverted); all written or none, none overwritten."""
    check_folder(out_dir)
    dtype = raw_dtype(text)
    ext = ".png" if dtype.kind == "u" and dtype.itemsize <= 2 else ".tif"
    names = [f"{Path(f).stem}{ext}" for f in files]
    if len(set(names)) < len(names):
        raise ValueError("two raw files share a stem; convert them into folders of their own")
    _refuse_taken(out_dir, names)
    with _moved_in_whole(out_dir, names, "raw") as scratch:
        for file, name in zip(files, names, strict=True):
            pixels = read_raw(Path(file), text, shape, bits, invert, factor)
            with disk_errors(scratch / name):
                if ext == ".png":
                    Image.fromarray(pixels).save(scratch / name, format="PNG")
                else:
                    tifffile.imwrite(scratch / name, pixels, photometric="minisblack")
    return [out_dir / n for n in names]

