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
from unet.dataset.unstack import moved_in_whole, refuse_taken

# A byte-swapped read's top byte is the true low byte, noise: its neighbours differ by about
# its spread (1.16 for uniform noise), a picture's by a small part of it. Past this ratio of
# the two readings' steps, each measured against its own spread, the order is wrong. Measured
# against the spread, 8-bit values times 256 read the same both ways: no refusal, rightly, as
# the same bytes are 8-bit values in the low byte the other way round.
SWAPPED_RATIO = 4.0
# A square guessed from the size is kept only where its rows continue each other: the step
# between rows at most ROW_RATIO times that between columns (a 256x100 image read as 160x160
# steps ~6x more between rows) and under SQUARE_CONFIRMED of the spread (noise steps ~1.1:
# unlike neighbours say nothing of the width)
ROW_RATIO = 2.0
SQUARE_CONFIRMED = 0.6
# A byte-swapped float's exponent is a mantissa byte: values past this (or inf, NaN) in most files
FLOAT_WILD = 1e30


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
        code = f"{dtype.kind}{dtype.itemsize}"  # numpy takes '>u2', not '>uint16'
        raise ValueError(f"--dtype {text}: say the byte order, '>{code}' (big-endian: JSRT, "
                         f"most older scanners) or '<{code}' (little-endian: PCs' own dumps); "
                         "the file does not, and a wrong one reads as noise")
    return dtype


def raw_shape(path: Path, dtype: np.dtype, shape: tuple[int, int] | None,
              offset: int = 0) -> tuple[int, int]:
    """(height, width): as given, which the file's size past `offset` (a fixed header) must
    match, or the square that size holds; the error names the size, the bytes expected and
    the square that fits."""
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path}: it is empty (0 bytes: a copy or download that did not "
                         "finish); copy it again, or leave it out")
    if offset >= size:
        raise ValueError(f"{path}: --offset {offset:,} skips the whole file of {size:,} "
                         "bytes; give the header's length in bytes")
    size -= offset
    after = f" after --offset {offset:,}" if offset else ""
    pixels, extra = divmod(size, dtype.itemsize)
    side = math.isqrt(pixels)
    square = (side, side) if side * side == pixels and not extra else None
    fits = f"; its size fits {side}x{side}" if square else ""
    if shape is None:
        if square is None:
            raise ValueError(f"{path}: {size:,} bytes{after} are no square image of "
                             f"{dtype.itemsize}-byte pixels; give --shape HEIGHTxWIDTH")
        return square
    need = shape[0] * shape[1] * dtype.itemsize
    if need != size:
        raise ValueError(f"{path}: {size:,} bytes{after}, where --shape {shape[0]}x{shape[1]} "
                         f"of {dtype.itemsize}-byte pixels needs {need:,} (a header: --offset "
                         f"BYTES, or another size or type){fits}")
    return shape


def check_square(path: Path, pixels: np.ndarray, across: float | None = None) -> None:
    """Refuse a square guessed from the file's size whose rows do not continue each other:
    an image of another shape read skewed, or pixels too unlike their neighbours to tell.
    `across`: the pixels' roughness where check_byte_order measured it already."""
    across = _roughness(pixels) if across is None else across
    down = _roughness(pixels.T)
    if down <= ROW_RATIO * across and down <= SQUARE_CONFIRMED:
        return
    side = pixels.shape[0]
    if down <= ROW_RATIO * across:
        raise ValueError(f"{path}: its size would fit {side}x{side}, but its pixels cannot "
                         f"confirm it (the step between rows is {down:.2f} of their spread, as "
                         "noise steps): give --shape HEIGHTxWIDTH")
    ratio = down / max(across, 1e-9)
    raise ValueError(f"{path}: its size would fit {side}x{side}, but read so its rows do not "
                     f"continue each other (the step between rows is {ratio:.1f}x that between "
                     "columns): it is no square image, or a header comes "
                     "first; give --shape HEIGHTxWIDTH (and --offset BYTES for a header)")


def _roughness(pixels: np.ndarray) -> float:
    """Mean step between horizontal neighbours over the values' spread (standard deviation):
    low for a picture, about 1 for noise, the same at any scale."""
    values = pixels.astype(np.float64)
    finite = np.isfinite(values)  # a float's NaN or inf fill would make every figure NaN
    spread = float(values[finite].std()) if finite.any() else 0.0
    steps = np.abs(np.diff(values, axis=1))
    if values.shape[1] < 2 or spread == 0 or not np.isfinite(steps).any():
        return 0.0
    return float(steps[np.isfinite(steps)].mean()) / spread


def _wild(pixels: np.ndarray) -> float:
    """Share of floats that are inf or past FLOAT_WILD, what a swapped exponent gives; NaN is
    left out, as data's own no-data fill may be NaN."""
    with np.errstate(invalid="ignore"):
        return float(np.mean(np.abs(pixels.astype(np.float64)) > FLOAT_WILD))


def check_byte_order(path: Path, pixels: np.ndarray, text: str) -> float | None:
    """Refuse pixels that read as noise in the order given and as a picture in the other;
    their roughness as given where measured (integers of 2 or 4 bytes), else None."""
    if pixels.dtype.itemsize == 1:
        return None
    swapped = pixels.view(pixels.dtype.newbyteorder())  # the same bytes, the other order
    flip = ("<" if text[0] == ">" else ">") + text[1:]
    if pixels.dtype.kind == "f":
        given = _wild(pixels)  # tame the other way: no NaN either (a -3.4e38 fill swaps to it)
        if given > 0.01 and bool((np.abs(swapped.astype(np.float64)) <= FLOAT_WILD).all()):
            raise ValueError(f"{path}: read as --dtype {text}, {given:.0%} of its values are "
                             f"inf or past {FLOAT_WILD:.0e}, none the other way: the bytes "
                             f"are in the other order; give --dtype '{flip}'")
        return None
    given, other = _roughness(pixels), _roughness(swapped)
    if given > SWAPPED_RATIO * other:
        raise ValueError(f"{path}: read as --dtype {text} its pixels are noise (mean step "
                         f"between neighbours {given:.2f} of their spread, against {other:.2f} "
                         f"the other way): the bytes are in the other order; give --dtype "
                         f"'{flip}'")
    return given


def check_bits(path: Path, pixels: np.ndarray, bits: int | None) -> int:
    """The highest value the data may hold (2^bits - 1; the type's top without --bits)."""
    top = (1 << bits) - 1 if bits else (np.iinfo(pixels.dtype).max
                                        if pixels.dtype.kind in "ui" else None)
    if bits and pixels.max() > top:
        raise ValueError(f"{path}: values reach {int(pixels.max()):,}, over the {top:,} of "
                         f"--bits {bits}; give the bits the scanner used, or the byte order")
    return top


def inverted(path: Path, pixels: np.ndarray, top: int | None, bits: int | None) -> np.ndarray:
    """top - v, refused where it cannot be right: a float without --bits (its top unknown),
    signed values (top - v overflows the type), or data that leaves the type's top half empty
    without --bits (JSRT's 12 bits inverted from 65,535: a near-white image)."""
    if top is None:
        raise ValueError(f"{path}: --invert needs integers, or --bits for floats: a float's "
                         "top is unknown")
    if pixels.dtype.kind == "i":
        raise ValueError(f"{path}: --invert needs unsigned values: {pixels.dtype} ones below "
                         "0 or over the top would wrap; convert without --invert")
    if bits is None and pixels.dtype.itemsize > 1 and int(pixels.max()) <= top // 2:
        raise ValueError(f"{path}: values reach {int(pixels.max()):,}, under half of the "
                         f"type's {top:,}: inverted from it the image is near white; give "
                         "--bits the scanner used (JSRT: 12)")
    return (top - pixels).astype(pixels.dtype)


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
             invert: bool = False, factor: int = 1, offset: int = 0) -> np.ndarray:
    """One raw image as (H, W) in native byte order, past `offset` bytes of header; `invert`:
    2^bits - 1 - v (high dark); `factor`: binned so (block means)."""
    dtype = raw_dtype(text)
    height, width = raw_shape(path, dtype, shape, offset)
    pixels = np.fromfile(path, dtype=dtype, offset=offset).reshape(height, width)
    across = check_byte_order(path, pixels, text)
    if shape is None:  # after the byte order, whose wrong one reads as noise either way
        check_square(path, pixels, across)
    pixels = pixels.astype(dtype.newbyteorder("="))
    top = check_bits(path, pixels, bits)
    if invert:
        pixels = inverted(path, pixels, top, bits)
    return binned(path, pixels, factor) if factor > 1 else pixels


def convert_raw(files: list[Path], out_dir: Path, text: str, shape: tuple[int, int] | None,
                bits: int | None = None, invert: bool = False, factor: int = 1,
                offset: int = 0) -> list[Path]:
    """Each raw file as <stem>.png (8- or 16-bit unsigned) or .tif (other types), past
    `offset` bytes of header, values kept (or inverted); all written or none, none
    overwritten."""
    check_folder(out_dir)
    dtype = raw_dtype(text)
    ext = ".png" if dtype.kind == "u" and dtype.itemsize <= 2 else ".tif"
    names = [f"{Path(f).stem}{ext}" for f in files]
    if len(set(names)) < len(names):
        raise ValueError("two raw files share a stem; convert them into folders of their own")
    refuse_taken(out_dir, names, "files", "convert into")
    with moved_in_whole(out_dir, names, "raw") as scratch:
        for file, name in zip(files, names, strict=True):
            pixels = read_raw(Path(file), text, shape, bits, invert, factor, offset)
            with disk_errors(scratch / name):
                if ext == ".png":
                    Image.fromarray(pixels).save(scratch / name, format="PNG")
                else:
                    tifffile.imwrite(scratch / name, pixels, photometric="minisblack")
    return [out_dir / n for n in names]

