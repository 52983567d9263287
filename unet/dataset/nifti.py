"""`unstack` of a NIfTI volume (.nii, .nii.gz): one 2-D file per slice along its third axis.

The Medical Segmentation Decathlon, LiTS, KiTS and AMOS keep a case as imagesTr/liver_003.nii.gz
beside labelsTr/liver_003.nii.gz; each becomes liver_003_000 ... liver_003_<n-1>, so that image
and label slices pair by stem and `split.group_by: '^(.+)_\\d+$'` keeps a case's slices in one
part. Every slice goes through the same transpose and nothing else (no reorientation from the
header), so a label slice lies on its image slice pixel for pixel whatever either header says.
"""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from unet.common.fileio import check_folder, disk_errors
from unet.common.imageio import ImageReadError
from unet.dataset.names import is_nifti
from unet.dataset.unstack import moved_in_whole, refuse_taken, slice_name

INSTALL = "pip install -e '.[nifti]' (or pip install nibabel)"
DAMAGED = "Check the file (a download cut short?): a volume that cannot be read whole is not " \
          "split at all."
# Whole numbers are written as the smallest of these that holds the volume's range: uint8 and
# uint16 as PNG (labels 0..N, MR), signed as TIFF (CT in Hounsfield units: a PNG is unsigned).
# Never narrower than the integers stored: 8-bit images are read as they are but wider ones are
# scaled, so an int16 MR case whose values fit 0-255 written as 8-bit would reach the model at
# other grey levels than its scanner's other cases.
_INTEGERS = (np.uint8, np.uint16, np.int16, np.int32)


class NiftiError(ImageReadError):
    """A volume (NIfTI, NRRD, MetaImage, DICOM) that cannot be split: not readable, or not 2-,
    3- or 4-D."""


def volume_stem(path: Path) -> str:
    """The case's name: the file's name less .nii, .nii.gz, .nrrd, .seg.nrrd (3D Slicer's
    segmentation of the case), .nhdr, .mha, .mhd or .dcm (liver_003.nii.gz: liver_003)."""
    return re.sub(r"\.nii(\.gz)?$|(\.seg)?\.(nrrd|nhdr)$|\.(mha|mhd|dcm)$", "", path.name,
                  flags=re.IGNORECASE)


def unstack_volumes(volumes: list[Path], out_dir: Path, name: str | None = None,
                    series: str | None = None) -> list[Path]:
    """Slices of one case's volumes (BraTS: a file per modality; a folder: a DICOM series, of
    SeriesInstanceUID `series` where it holds several) joined as channels, in the order given,
    as <name>_<k>; `name` defaults to the stems' common start (BraTS2021_00000)."""
    for volume in volumes:
        if not volume.is_file() and not volume.is_dir():
            raise FileNotFoundError(f"{volume}: no such file")
    stem = case_name(volumes, name)
    from unet.dataset.structure_volumes import refuse_binary_channels

    check_folder(out_dir)  # a file there, or above it, or no permission: named now
    data, colour = _joined(volumes, series)  # (x, y, z) or (x, y, z, channels)
    refuse_binary_channels(data, volumes)  # TotalSegmentator's structures: --classes channels
    depth = data.shape[2]
    ext = ".png" if colour or data.ndim == 3 and data.dtype in (np.uint8, np.uint16) else ".tif"
    names = [slice_name(stem, k, depth, ext) for k in range(depth)]
    refuse_taken(out_dir, names)
    with moved_in_whole(out_dir, names, f"unstack-{stem}") as scratch:
        for k, name in enumerate(names):
            # (y, x[, c]): rows along the second axis, columns along the first, as a viewer
            # shows an axial slice of a volume stored L-P-S (most converted from DICOM)
            page = np.ascontiguousarray(data[:, :, k].swapaxes(0, 1))
            with disk_errors(out_dir / name):
                if ext == ".png":  # grey, or RGB(A) from an RGB24 or RGBA32 volume
                    Image.fromarray(page).save(scratch / name, format="PNG")
                else:  # channels last, each an input channel (not RGB)
                    tifffile.imwrite(scratch / name, page, photometric="minisblack",
                                     planarconfig="contig" if page.ndim == 3 else None)
    return [out_dir / n for n in names]


_SEPARATORS = ("_", "-", ".", " ")  # between a case's name and its modality's


def case_name(volumes: list[Path], name: str | None) -> str:
    """The slices' stem: `name`, else one volume's stem, else the stems' common start up to its
    last separator (BraTS2021_00000_flair, ..._t2: BraTS2021_00000; c_t1, c_t2: c)."""
    if name is not None:
        if not name or name != Path(name).name or name in (".", ".."):
            raise ValueError(f"--name {name!r} is not a file name: give the case's name, e.g. "
                             "BraTS2021_00000 (no folder)")
        return name
    stems = [volume_stem(v) for v in volumes]
    if len(stems) == 1:
        return stems[0]
    # nnU-Net's raw layout: a file per channel, <case>_0000, <case>_0001, beside labelsTr/<case>
    # numbered from 0000 up (AMOS's cases amos_0001, amos_0004 are 4-digit too, but cases)
    parts = [re.fullmatch(r"(.+)_(\d{4})", s) for s in stems]
    if all(parts) and len({m.group(1) for m in parts}) == 1 \
            and sorted(int(m.group(2)) for m in parts) == list(range(len(parts))):
        return parts[0].group(1)
    common = os.path.commonprefix(stems)
    if common[-1:].isdigit() and any(s[len(common):][:1].isdigit() for s in stems):
        # la_003, la_004: numbered apart, so cases, not one case's modalities (_flair, _t1)
        raise ValueError(f"{volumes[0]} and {volumes[1]} look like two cases (their names "
                         "differ in a number), and unstack joins the volumes it is given as "
                         "one case's channels: split one volume a call (for f in imagesTr/"
                         "[!.]*.nii.gz; do unet unstack \"$f\" FOLDER; done), or give --name "
                         "if they are one case's modalities")
    if not common.endswith(_SEPARATORS) and any(s[len(common):][:1] not in ("", *_SEPARATORS)
                                                for s in stems):
        # the shared start ends inside a word: c_t1 and c_t2 share c_t, sub-01_T1w and
        # sub-01_T2w (BIDS) sub-01_T; the case is the part before that word
        common = common[:max(common.rfind(c) for c in _SEPARATORS) + 1]
    common = common.rstrip("".join(_SEPARATORS))
    if not common:
        raise ValueError(f"{volumes[0]} and {volumes[1]} share no name to call their slices "
                         "by: give one with --name, e.g. --name case_1")
    return common


def _joined(volumes: list[Path], series: str | None = None) -> tuple[np.ndarray, bool]:
    """One volume's values, or several 3-D volumes of one shape as channels (x, y, z, c), in
    one type: float32 where any is fractional, else the narrowest integer holding them all;
    and whether they are colours (one RGB24 or RGBA32 volume)."""
    if len(volumes) == 1:
        return _values(volumes[0], series)
    parts = []
    for volume in volumes:
        data, colour = _values(volume)
        if colour:
            raise NiftiError(f"{volume} holds colour voxels: unstack joins grey volumes, one "
                             "per modality, as channels; split it alone instead")
        if data.ndim != 3:
            raise NiftiError(f"{volume} holds {data.shape[3]} channels: unstack joins 3-D "
                             "volumes, one per modality, as channels; split it alone instead")
        if parts and data.shape != parts[0].shape:
            raise NiftiError(f"{volume} is {data.shape}, but {volumes[0]} is "
                             f"{parts[0].shape}: a case's modalities are joined voxel for "
                             "voxel, so they must share one grid (resample them first); "
                             "nothing was written")
        parts.append(data)
    kind = np.float32 if any(p.dtype.kind == "f" for p in parts) else np.int64
    bits = max(8 * p.dtype.itemsize if p.dtype.kind in "iu" else 8 for p in parts)
    return _narrowest(np.stack([p.astype(kind, copy=False) for p in parts], axis=-1),
                      volumes[0], bits), False


def require_nibabel(path: Path):
    """The nibabel module, or an error naming the file and the extra that installs it."""
    try:
        import nibabel
    except ImportError:
        raise NiftiError(f"{path} is a NIfTI volume, and reading one needs nibabel: "
                         f"{INSTALL}") from None
    return nibabel


def _values(path: Path, series: str | None = None) -> tuple[np.ndarray, bool]:
    """The volume's voxels as (x, y, z) or (x, y, z, channels), scaled by scl_slope and
    scl_inter, in the smallest type that keeps them (whole numbers as integers, no narrower
    than the integers stored); and whether they are colours (RGB24, RGBA32: R, G, B[, A]).
    NRRD, MetaImage and DICOM volumes through SimpleITK, which applies DICOM's rescale."""
    if not is_nifti(path):
        from unet.dataset.itk_volume import itk_voxels

        data = itk_voxels(path, series)
        # 3 uint8 components are colours (NRRD RGB-color, an RGB MetaImage, an ultrasound
        # DICOM): colour PNGs as from an RGB24 NIfTI, not a 3-channel TIFF
        rgb = data.ndim == 4 and data.shape[3] == 3 and data.dtype == np.uint8
        return _as_stored(data, data.dtype, path), rgb
    nib = require_nibabel(path)
    from unet.dataset.nifti_frames import refuse_time_series

    try:
        image = nib.load(path)
        refuse_time_series(image.header, path)  # from the header: the frames are not read
        proxy = image.dataobj
        raw = np.asanyarray(proxy.get_unscaled())
        slope, inter = float(proxy.slope), float(proxy.inter)
    except nib.spatialimages.HeaderDataError as err:  # scl_slope set, scl_inter NaN or inf
        raise NiftiError(f"cannot read volume {path}: its header says {err}. Set its scl_slope "
                         "and scl_inter (fslhd shows them) to the scaling its voxels need, or "
                         "scl_slope to 0 for none; nothing was split") from err
    except NiftiError:  # a time series: the file is whole, so no advice to check it
        raise
    except (OSError, EOFError, ValueError, zlib.error, nib.filebasedimages.ImageFileError) as err:
        hint = (" It is a macOS resource file (the Decathlon's tar files hold ._<case>.nii.gz "
                "beside each volume), no volume: leave out files named ._*"
                if path.name.startswith("._") else f" {DAMAGED}")
        raise NiftiError(f"cannot read volume {path}: {err}.{hint}") from err
    data = _shaped(raw, path)
    if data.dtype.names:  # RGB24, RGBA32: a record (R, G, B[, A]) a voxel, never scaled
        if data.ndim > 3:
            raise NiftiError(f"{path} holds colour voxels of shape {data.shape}: unstack "
                             "splits a colour volume of one (x, y, z); save each part apart")
        return np.stack([data[name] for name in data.dtype.names], axis=-1), True
    if (slope, inter) != (1.0, 0.0):
        if raw.dtype.kind in "iu" and slope.is_integer() and inter.is_integer():
            data = data.astype(np.int64) * int(slope) + int(inter)
        else:  # the header's float32 slope and intercept: float32 values
            data = data.astype(np.float32) * np.float32(slope) + np.float32(inter)
    return _as_stored(data, raw.dtype, path), False


def _as_stored(data: np.ndarray, stored: np.dtype, path: Path) -> np.ndarray:
    """`data` in the narrowest type that holds it, never narrower than `stored` integers."""
    bits = 8 * stored.itemsize if stored.kind in "iu" else _float_bits(data)
    return _narrowest(data, path, bits)


# A float volume of whole values in 0-255 with at most this many of them reads as labels
# (0..N saved as float: 8-bit masks); more is an image (MR saved as float32, as the
# Decathlon's are): at least 16 bits, so that a dim case is not 8-bit, read as it is, beside
# its brighter cases scaled by the data set's range
_LABEL_VALUES = 64


def _float_bits(data: np.ndarray) -> int:
    """The narrowest depth for whole float values: 8 for labels, 16 for an image."""
    low, high = data.min(), data.max()
    if not (np.isfinite(low) and np.isfinite(high) and low >= 0 and high <= 255):
        return 8  # wider than 8 bits anyway, or fractional / not finite: float32
    counts = np.bincount(data.astype(np.uint8).ravel(), minlength=256)  # fractions: float32
    return 8 if np.count_nonzero(counts) <= _LABEL_VALUES else 16


def _shaped(data: np.ndarray, path: Path) -> np.ndarray:
    """(x, y, z) or (x, y, z, channels): a 2-D image as one slice, dimensions of 1 after the
    third dropped (a label saved as x, y, z, 1); more than one further dimension refused."""
    if data.ndim == 2:
        data = data[:, :, None]
    extra = [n for n in data.shape[3:] if n != 1]
    if data.ndim < 2 or len(extra) > 1:
        raise NiftiError(f"{path} holds a volume of shape {data.shape}: unstack splits 3-D "
                         "volumes, and 4-D ones of channels (x, y, z, modality), each slice a "
                         "multi-channel TIFF. Save it as one of those first")
    return data.reshape(data.shape[:3] + tuple(extra))


def _narrowest(data: np.ndarray, path: Path, bits: int = 8) -> np.ndarray:
    """`data` in the smallest integer type of at least `bits` (16 for 32: a PNG holds 16) that
    holds it where every value is whole (labels saved as float too), else (or whole floats
    beyond int32) as float32: values unchanged."""
    if data.size == 0:
        raise NiftiError(f"{path} holds no voxels (shape {data.shape}): nothing to split")
    low, high = data.min(), data.max()
    if data.dtype.kind == "f" and not (np.isfinite(low) and np.isfinite(high)
                                       and np.array_equal(data, np.round(data))):
        return data.astype(np.float32, copy=False)
    for kind in _INTEGERS:
        info = np.iinfo(kind)
        if info.bits >= min(bits, 16) and info.min <= low and high <= info.max:
            return data.astype(kind, copy=False)
    if data.dtype.kind == "f":  # whole only as float32 holds no fraction that high: as stored
        return data.astype(np.float32, copy=False)
    raise NiftiError(f"{path} holds values from {low} to {high}, beyond 32-bit integers: "
                     "rescale them (or save the volume as float32) first")
