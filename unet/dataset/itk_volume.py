"""NRRD (3D Slicer's .nrrd, .seg.nrrd), MetaImage (.mha; .mhd beside its .raw: LUNA16,
PROMISE12) and multi-frame DICOM volumes, read and written through SimpleITK.

Voxels come out indexed (x, y, z[, c]), x fastest in the file, as nibabel gives a NIfTI's: so
`unstack` and `restack` treat both alike, and one voxel array gives the same slices from either.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np

from unet.common.fileio import temp_dir_beside
from unet.dataset.nifti import DAMAGED, NiftiError

INSTALL = "pip install -e '.[volumes]' (or pip install SimpleITK)"
# The formats restack writes for each reference's: its own, so that the grid survives exactly
# (NIfTI holds it as float32); a DICOM volume's labels as NRRD or MetaImage (DICOM SEG is a
# standard of its own)
FAMILIES = {".nrrd": (".nrrd", ".nhdr"), ".nhdr": (".nrrd", ".nhdr"), ".mha": (".mha", ".mhd"),
            ".mhd": (".mha", ".mhd"), ".dcm": (".nrrd", ".nhdr", ".mha", ".mhd")}
# MetaImage element types and their sizes in bytes, to check a .raw's length
_ELEMENT_BYTES = {"MET_CHAR": 1, "MET_UCHAR": 1, "MET_SHORT": 2, "MET_USHORT": 2, "MET_INT": 4,
                  "MET_UINT": 4, "MET_LONG": 8, "MET_ULONG": 8, "MET_LONG_LONG": 8,
                  "MET_ULONG_LONG": 8, "MET_FLOAT": 4, "MET_DOUBLE": 8}


def _sitk(path: Path):
    """The SimpleITK module, or an error naming the file and the extra that installs it."""
    try:
        import SimpleITK
    except ImportError:
        raise NiftiError(f"{path} is an NRRD, MetaImage or DICOM volume, and reading one needs "
                         f"SimpleITK: {INSTALL}") from None
    return SimpleITK


def _read_error(path: Path, err: Exception) -> NiftiError:
    # ITK's own message is its C++ source line; the reason MetaIO gives goes to stderr only
    reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
    return NiftiError(f"cannot read volume {path}: {reason}. {DAMAGED}")


def itk_voxels(path: Path, series: str | None = None) -> np.ndarray:
    """The volume's voxels as (x, y, z) or (x, y, z, channels) (a vector voxel's components),
    values as stored with any rescale applied (DICOM's RescaleSlope and RescaleIntercept); a
    folder is a DICOM series (the one of SeriesInstanceUID `series`, where it holds several)."""
    sitk = _sitk(path)
    if path.is_dir():
        from unet.dataset.dicom_series import read_series

        image = read_series(sitk, path, series, strict=False)
    else:
        image = _read(sitk, path)
    vector = image.GetNumberOfComponentsPerPixel() > 1
    if vector and path.name.lower().endswith(".seg.nrrd"):
        # Slicer's layers of overlapping segments: each a label map, no channels of a mask
        raise NiftiError(f"{path} holds {image.GetNumberOfComponentsPerPixel()} layers of "
                         "overlapping segments: export it from 3D Slicer as one label map "
                         "(Segmentations: Export to files, merged into a labelmap), or save "
                         "each layer as a .seg.nrrd of its own")
    data = sitk.GetArrayFromImage(image)  # (z, y, x[, c]), or (t, z, y, x) for 4-D
    dims = image.GetDimension()
    data = np.moveaxis(data, range(dims), range(dims)[::-1])  # (x, y, z[, t][, c])
    if dims == 2:
        data = data[:, :, None]
    if dims > 3:
        extra = data.shape[3:dims]
        if any(n != 1 for n in extra) or vector:
            raise NiftiError(f"{path} holds a {dims}-D volume of shape {data.shape} (x, y, z, "
                             "...: a time series?): unstack splits 3-D volumes, with channels "
                             "only as a voxel's components (NRRD kind 'vector', MetaImage "
                             "ElementNumberOfChannels). Save one 3-D volume per frame or "
                             "modality, and give a case's modalities to unstack together")
        data = data.reshape(data.shape[:3] + data.shape[dims:])
    return data


def _read(sitk, path: Path):
    """One file's volume as a SimpleITK image; a .mhd's data file checked first."""
    if path.suffix.lower() == ".mhd":
        _check_data_file(path)
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as err:
        raise _read_error(path, err) from err


def _check_data_file(path: Path) -> None:
    """A .mhd's data file (ElementDataFile) present and as long as the header says, named:
    ITK said only that the .mhd 'cannot be read: No such file or directory'."""
    try:
        header = dict(re.findall(r"^\s*(\w+)\s*=\s*(.*?)\s*$",
                                 path.read_text(errors="replace"), flags=re.MULTILINE))
    except OSError as err:
        raise _read_error(path, err) from err
    name = header.get("ElementDataFile", "")
    if not name or re.fullmatch(r"LOCAL|LIST(\s+\d+D)?", name, re.IGNORECASE) or "%" in name:
        return  # data inside the header, or a list of files (LIST 2D: of slices): ITK's check
    data = path.parent / name
    if not data.is_file():
        raise NiftiError(f"cannot read volume {path}: its data file {data} (ElementDataFile) "
                         "is missing: keep each .mhd beside its .raw, under the name its "
                         "header gives")
    if header.get("CompressedData", "False").lower() == "true":
        return
    try:
        count = int(np.prod([int(n) for n in header["DimSize"].split()]))
        count *= int(header.get("ElementNumberOfChannels", 1))
        need = count * _ELEMENT_BYTES[header["ElementType"]] + int(header.get("HeaderSize", 0))
    except (KeyError, ValueError):
        return  # a header ITK reads otherwise, or refuses by itself
    size = data.stat().st_size
    if size < need:
        raise NiftiError(f"cannot read volume {path}: its data file {data} is {size} bytes, "
                         f"where the header's DimSize and ElementType need {need}. {DAMAGED}")


def itk_grid(path: Path, series: str | None = None) -> tuple[tuple[int, int, int], tuple]:
    """A reference volume's (x, y, z) size and its grid (origin, spacing, direction), read
    from its header alone; a DICOM series' (a folder) from its slices, evenly spaced."""
    sitk = _sitk(path)
    if path.is_dir():
        from unet.dataset.dicom_series import read_series

        image = read_series(sitk, path, series, strict=True)
        return (tuple(image.GetSize()) + (1,))[:3], (image.GetOrigin()[:3], image.GetSpacing()[:3],
                                                      _direction3(image.GetDirection(),
                                                                  image.GetDimension()))
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as err:
        raise _read_error(path, err) from err
    size = (tuple(reader.GetSize()) + (1,))[:3]
    return size, (reader.GetOrigin()[:3], reader.GetSpacing()[:3],
                  _direction3(reader.GetDirection(), reader.GetDimension()))


def _direction3(direction: tuple, dims: int) -> tuple:
    """The 3x3 of a direction cosine matrix of `dims` dimensions (2-D: with z as z)."""
    m = np.eye(max(dims, 3))
    m[:dims, :dims] = np.reshape(direction, (dims, dims))
    return tuple(float(v) for v in m[:3, :3].ravel())


def write_itk_labels(volume: np.ndarray, reference: Path, grid: tuple, out: Path) -> None:
    """Write `volume` (x, y, z) to `out` on `grid`, in its format (a .mhd with its .zraw, the
    header moved in last); refused before any file moves where the grid read back differs."""
    sitk = _sitk(reference)
    origin, spacing, direction = grid
    voxels = volume.transpose(2, 1, 0)  # (z, y, x)
    if len(origin) == 2:  # a 2-D reference (an X-ray, one field): its one slice as 2-D
        voxels, direction = voxels[0], tuple(np.reshape(direction, (3, 3))[:2, :2].ravel())
    image = sitk.GetImageFromArray(np.ascontiguousarray(voxels))
    image.SetOrigin(origin), image.SetSpacing(spacing), image.SetDirection(direction)
    scratch = temp_dir_beside(out)
    try:
        sitk.WriteImage(image, str(scratch / out.name), useCompression=True)
        back = sitk.ReadImage(str(scratch / out.name))
        got = (back.GetOrigin(), back.GetSpacing(), back.GetDirection())
        if got != (tuple(origin), tuple(spacing), tuple(direction)):
            raise NiftiError(f"{out} would not hold {reference}'s grid exactly (origin, "
                             f"spacing, direction {got} where it has {grid}): write it as "
                             f"{reference.suffix}, nothing was written")
        files = sorted(scratch.iterdir(), key=lambda f: f.name == out.name)  # header last
        taken = [out.parent / f.name for f in files if (out.parent / f.name).exists()]
        if taken:
            raise FileExistsError(f"{taken[0]} exists: name another file, or move it away first")
        for f in files:
            os.replace(f, out.parent / f.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
