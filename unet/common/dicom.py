"""2-D DICOM images (chest X-rays, CT or MR slices) through pydicom, an optional extra: the
pixels in the modality's units (RescaleSlope/Intercept applied), MONOCHROME1 inverted as a
viewer shows it, wide values kept for preprocess to scale; a multi-frame file is refused."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unet.common.decoders import UnusableImageError

INSTALL = "pip install -e '.[dicom]' (or pip install pydicom)"
# Compressed transfer syntaxes need pixel-data plugins; pydicom's own error names them.
COMPRESSED_FIX = "pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg, or decompress it " \
    "(e.g. gdcmconv --raw)"


# The first tag of a data set written without preamble: group 0002 (file meta) or 0008
# (identifying), little endian, as older ACR-NEMA style exports and some anonymisers write it
BARE_STARTS = (b"\x02\x00", b"\x08\x00")


def is_dicom(path: str | os.PathLike) -> bool:
    """A DICOM Part 10 file: 'DICM' after its 128-byte preamble, whatever its extension; or a
    .dcm that starts with a data set's first tag, without preamble (PIL cannot read it)."""
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return head[128:] == b"DICM" or (Path(path).suffix.lower() == ".dcm"
                                     and head[:2] in BARE_STARTS)


def _pydicom(path: str | os.PathLike):
    """The pydicom module, or an error naming the file and the extra that installs it."""
    try:
        import pydicom
    except ImportError:
        raise UnusableImageError(f"{path} is a DICOM file, and reading DICOM needs pydicom: "
                                 f"{INSTALL}") from None
    return pydicom


def _dataset(path: str | os.PathLike, header_only: bool = False):
    """The file's pydicom Dataset (pixel data left unread when `header_only`); a file of
    several frames is refused, as a stack is."""
    pydicom = _pydicom(path)
    try:
        # force: a file without preamble (is_dicom let it through by its first tag)
        ds = pydicom.dcmread(Path(path), stop_before_pixels=header_only, force=True)
        _transfer_syntax(ds)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        size = (int(ds.Columns), int(ds.Rows))
    except (pydicom.errors.InvalidDicomError, AttributeError, ValueError) as err:
        raise OSError(f"not a DICOM image ({err})") from err  # damaged, as PIL reports it
    if frames > 1:
        raise UnusableImageError(
            f"{path} holds {frames} frames of {size[0]}x{size[1]} (a cine loop, or a volume in "
            "one file), where one image is read: split it into one file per frame with "
            f"`unet unstack {path} FOLDER` (pip install -e '.[volumes]'), named alike on both "
            "sides, with a mask for each")
    return ds


def _transfer_syntax(ds) -> None:
    """Give a data set read without file meta (no preamble) the transfer syntax it was read
    in, which pydicom needs to decode its pixels."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    meta = ds.get("file_meta") or FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        implicit, little = ds.original_encoding
        meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                  ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
        ds.file_meta = meta


def dicom_header(path: str | os.PathLike) -> tuple[str, tuple[int, int]]:
    """(PIL mode, (width, height)) read_dicom's pixels take (as imageio._from_array gives
    them), from the header alone."""
    ds = _dataset(path, header_only=True)
    size = (int(ds.Columns), int(ds.Rows))
    if int(ds.get("SamplesPerPixel", 1)) == 3 or _palette(ds):
        return "RGB", size
    modes = {np.dtype(np.uint8): "L", np.dtype(np.uint16): "I;16", np.dtype(np.int32): "I"}
    return modes.get(_out_dtype(ds), "F"), size


def dicom_wide_colour(path: str | os.PathLike) -> bool:
    """Whether a colour DICOM's pixels are wider than 8 bits, from its header: a PALETTE COLOR
    file reads as 8-bit colours, an RGB one as its BitsAllocated stores them."""
    ds = _dataset(path, header_only=True)
    return not _palette(ds) and int(ds.get("BitsAllocated", 8)) > 8


def _out_dtype(ds) -> np.dtype:
    """The dtype that holds every value the file's stored bits and rescale allow, so that a
    data set's files read alike whatever their own pixels reach: 8 bits stay uint8, 12 or 16
    unsigned bits uint16, Hounsfield units int32, a fractional rescale float32."""
    slope, intercept = _rescale(ds)
    if slope != int(slope) or intercept != int(intercept):
        return np.dtype(np.float32)
    lo, hi = sorted(v * slope + intercept for v in _stored_range(ds))
    if lo >= 0 and hi < 2**8 and int(ds.BitsAllocated) == 8:
        return np.dtype(np.uint8)
    if lo >= 0 and hi < 2**16:
        return np.dtype(np.uint16)
    # PIL holds 32-bit signed integers (mode I) or floats: a wider range reads as float32
    return np.dtype(np.int32 if lo >= -(2**31) and hi < 2**31 else np.float32)


def _rescale(ds) -> tuple[float, float]:
    """(slope, intercept) of the modality LUT; 1, 0 when the file has none (most X-rays)."""
    return float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)


def _stored_range(ds) -> tuple[int, int]:
    """The stored values BitsStored and PixelRepresentation allow (12 bits: 0..4095)."""
    bits = int(ds.get("BitsStored", ds.BitsAllocated))
    if int(ds.get("PixelRepresentation", 0)):
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def read_dicom(path: str | os.PathLike) -> np.ndarray:
    """(H, W) in the modality's units, or (H, W, 3) colour as stored; integers stay integers
    (16-bit values kept, negative Hounsfield units too), a fractional rescale gives float32."""
    ds = _dataset(path)
    try:
        arr = ds.pixel_array  # colour converted to RGB by pydicom (YBR in JPEG files)
    except (NotImplementedError, RuntimeError) as err:  # a compressed syntax without its plugin
        raise UnusableImageError(f"cannot decode {path} ({ds.file_meta.TransferSyntaxUID.name}):"
                                 f" {err}; {COMPRESSED_FIX}") from err
    except (ValueError, AttributeError, KeyError) as err:
        raise OSError(f"damaged pixel data ({err})") from err
    if _palette(ds):  # stored values index the file's colour table: its colours are the image
        arr = _palette_rgb(arr, ds)
    if arr.ndim == 3:
        return np.ascontiguousarray(arr)
    slope, intercept = _rescale(ds)
    lo, hi = _stored_range(ds)
    if ds.get("PhotometricInterpretation") == "MONOCHROME1":  # high values dark: invert
        arr = (lo + hi) - arr.astype(np.float64 if arr.dtype.kind == "f" else np.int64)
    dtype = _out_dtype(ds)
    if dtype.kind == "f" or arr.dtype.kind == "f":  # (Float Pixel Data: no stored bits)
        return (arr * slope + intercept).astype(np.float32)
    return (arr.astype(np.int64) * int(slope) + int(intercept)).astype(dtype)


def _palette(ds) -> bool:
    """PALETTE COLOR (colour Doppler, nuclear medicine maps): indices, not grey levels."""
    return ds.get("PhotometricInterpretation") == "PALETTE COLOR"


def _palette_rgb(arr: np.ndarray, ds) -> np.ndarray:
    """(H, W, 3) uint8 of the file's colour table; 16-bit entries (the usual) are scaled to 8
    bits as a viewer shows them, so that its colours read like any RGB image's; 8-bit ones
    (the descriptor's third value) are kept, stored in bytes or in 16-bit words alike."""
    from pydicom.pixels import apply_color_lut

    try:
        rgb = apply_color_lut(arr, ds)
    except (ValueError, AttributeError, KeyError) as err:  # no or a damaged colour table
        raise OSError(f"PALETTE COLOR without a usable colour table ({err})") from err
    # pydicom gives 8-bit entries written in 16-bit words (PS3.3 C.7.6.3.1.5 notes such files)
    # as uint16 0..255: shifted like 16-bit ones they were all black. Values past 255 under a
    # descriptor of 8 are 16-bit entries mislabelled, and are scaled.
    depth = int(ds.RedPaletteColorLookupTableDescriptor[2])
    wide = rgb.dtype.itemsize > 1 and (depth == 16 or int(rgb.max(initial=0)) > 255)
    return (rgb >> 8 if wide else rgb).astype(np.uint8)


def dicom_window(path: str | os.PathLike) -> tuple[float, float] | None:
    """The file's own first window as [low, high] in the modality's units (center -+ width /
    2, as preprocess.intensity_window reads CT's level and width; mirrored for MONOCHROME1,
    whose pixels read_dicom inverts), or None when it has none."""
    ds = _dataset(path, header_only=True)
    centre, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if centre is None or width is None:
        return None
    # several windows (lung, mediastinum) are a MultiValue: the first is the file's default
    c, w = (float(v[0] if isinstance(v, Sequence) and not isinstance(v, str) else v)
            for v in (centre, width))
    if not w > 0:  # no window to scale by (width 0 would divide by zero)
        return None
    low, high = c - w / 2, c + w / 2
    if ds.get("PhotometricInterpretation") == "MONOCHROME1":
        slope, intercept = _rescale(ds)
        lo, hi = _stored_range(ds)
        mirror = (lo + hi) * slope + 2 * intercept  # a value v shows as mirror - v
        low, high = mirror - high, mirror - low
    return low, high


FROM_FILES = "dicom"  # preprocess.intensity_window: the training files' own window
# How read_dicom's values come from the stored ones: what a user of the model outside unet does
DICOM_UNITS = ("stored value x RescaleSlope + RescaleIntercept, a MONOCHROME1 file's stored "
               "values first inverted as low + high - v over the range BitsStored allows")


def files_window(paths: list[str]) -> tuple[float, float]:
    """The one window every DICOM file of `paths` carries (preprocess.intensity_window: dicom);
    files without one, or whose windows differ, are refused by name: one window scales the
    whole data set, and a model trained on one must be given images scaled alike."""
    found: dict[tuple[float, float] | None, list[str]] = {}
    for path in paths:
        found.setdefault(dicom_window(path) if is_dicom(path) else None, []).append(path)
    if len(found) == 1 and None not in found:
        return next(iter(found))
    listed = "; ".join(f"{list(map(_g, w)) if w else 'none'}: {', '.join(p[:3])}"
                       + (f" and {len(p) - 3} more" if len(p) > 3 else "")
                       for w, p in sorted(found.items(), key=lambda x: -len(x[1])))
    raise ValueError(
        "preprocess.intensity_window: dicom takes the training files' own window "
        f"(WindowCenter -+ WindowWidth / 2), but they do not carry one and the same ({listed}); "
        "set preprocess.intensity_window to [low, high] in the images' units instead")


def _g(v: float) -> float | int:
    """A window end as written in the message: -200, not -200.0."""
    return int(v) if float(v).is_integer() else v
