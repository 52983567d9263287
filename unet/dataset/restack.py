"""`restack`: a case's slice masks (`unet predict` on what `unet unstack` split) joined back
into one label volume on its image's grid, the inverse of nifti.unstack_volumes (NRRD,
MetaImage and DICOM references through itk_volume, in their own format).

Slice k of `<name>_<k>` went out as the volume's [:, :, k] transposed (rows along the second
axis); it comes back through the same transpose, and the image volume's affine and header are
kept, so the labels lie on the image in any viewer, as the Decathlon's labelsTr files do; the
image's display window (cal_min/cal_max), scaling and description are not, and the intent is
a label map.
"""

from __future__ import annotations

import glob
import gzip
import re
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from unet.common.decoders import is_tiff
from unet.common.fileio import atomic_path, check_folder
from unet.dataset.names import file_kind, is_nifti
from unet.dataset.nifti import NiftiError, require_nibabel, volume_stem
from unet.dataset.unstack import slice_name


def restack_volume(folder: Path, reference: Path, out: Path, name: str | None = None,
                   series: str | None = None) -> Path:
    """Write the slices `<name>_<k>.png` in `folder` (k = 0 .. depth-1 of `reference`, the
    case's image volume) to `out` as one label volume on the reference's grid, in its format
    (NIfTI, NRRD, MetaImage; a DICOM's, or a DICOM series folder's, as NRRD or MetaImage), the
    masks' values unchanged; never overwritten."""
    if out.exists():
        raise FileExistsError(f"{out} exists: name another file, or move it away first")
    if is_nifti(reference):
        return _restack_nifti(folder, reference, out, name)
    if reference.is_file() and is_tiff(reference):  # an EM stack unstack split into pages
        from unet.dataset.restack_stack import restack_stack

        return restack_stack(folder, reference, out, name)
    from unet.dataset.itk_volume import FAMILIES, itk_grid, write_itk_labels

    family = FAMILIES.get(".dcm" if reference.is_dir() else file_kind(reference))
    if family is None:
        raise ValueError(f"{reference} is no volume restack reads: give the case's image volume "
                         "that unet unstack split (.nii.gz, .nrrd, .mha, .mhd, .dcm, a "
                         "DICOM series' folder, or a TIFF stack)")
    if file_kind(out) not in family:
        # another format may not hold the grid exactly (NIfTI keeps it as float32)
        raise ValueError(f"-o {out}: give a {' or '.join(family)} file name, the format of "
                         f"{reference}, so that its grid is kept exactly")
    size, grid = itk_grid(reference, series)
    volume = _slices(folder, name or _case_stem(folder, volume_stem(reference), size[2]), size)
    check_folder(out.parent)
    write_itk_labels(volume, reference, grid, out)
    return out


def _restack_nifti(folder: Path, reference: Path, out: Path, name: str | None) -> Path:
    """restack_volume of a NIfTI reference, through nibabel: its affine and header kept, marked
    a label map, the image's display window, scaling and description dropped."""
    nib = require_nibabel(reference)
    if not re.search(r"\.nii(\.gz)?$", out.name, flags=re.IGNORECASE):
        raise ValueError(f"-o {out}: give a .nii.gz (or .nii) file name")
    try:
        image = nib.load(reference)
    except (OSError, EOFError, ValueError, zlib.error, nib.filebasedimages.ImageFileError) as err:
        raise NiftiError(f"cannot read volume {reference}: {err}. Give the case's image "
                         "volume, the one unet unstack split") from err
    shape = image.shape[:3] if len(image.shape) >= 3 else image.shape[:2] + (1,)
    volume = _slices(folder, name or _case_stem(folder, volume_stem(reference), shape[2]), shape)
    if len(image.shape) == 2:  # a 2-D image (CAMUS's frames): its labels 2-D too, as its _gt
        volume = volume[..., 0]
    check_folder(out.parent)
    header = image.header.copy()
    header.set_data_dtype(volume.dtype)
    labels = nib.Nifti1Image(volume, image.affine, header)
    labels.header.set_slope_inter(1, 0)  # labels as stored: no scaling of the image's values
    labels.header.set_intent("label")  # NIFTI_INTENT_LABEL: viewers show it as a label map
    # the image's display window (200-400 for a CT) would show labels 0..n all black, and its
    # description and lookup-table file name are the image's, not the labels'
    for key in ("cal_min", "cal_max"):
        labels.header[key] = 0
    labels.header["descrip"] = labels.header["aux_file"] = b""
    data = labels.to_bytes()
    with atomic_path(out) as tmp:
        tmp.write_bytes(gzip.compress(data, 6) if out.name.lower().endswith(".gz") else data)
    return out


def _case_stem(folder: Path, stem: str, depth: int) -> str:
    """The reference's stem, or for nnU-Net's channel file <case>_0000 its case, which unstack
    named the slices by, where only the case's first slice is in `folder`."""
    case = re.fullmatch(r"(.+)_\d{4}", stem)
    if case and not (folder / slice_name(stem, 0, depth)).is_file() \
            and (folder / slice_name(case.group(1), 0, depth)).is_file():
        return case.group(1)
    return stem


def _slices(folder: Path, stem: str, shape: tuple[int, ...]) -> np.ndarray:
    """(x, y, z) from `folder`'s <stem>_<k>.png, each (y, x), every k present, grey values."""
    depth = shape[2]
    files = [folder / slice_name(stem, k, depth) for k in range(depth)]
    missing = [f for f in files if not f.is_file()]
    if len(missing) == depth and (below := masks_below(folder, stem)):
        raise FileNotFoundError(below)
    if missing:
        raise FileNotFoundError(
            f"{missing[0]}: no such slice ({len(missing)} of the {depth} slices of "
            f"{stem} are missing from {folder}); predict every slice unet unstack wrote, "
            "or give the slices' stem with --name")
    # a deeper volume's slices (another case, a re-sliced copy) must not lose their last ones
    beyond = sorted((int(m.group(1)), f.name) for f in folder.glob(f"{glob.escape(stem)}_*.png")
                    if (m := re.fullmatch(re.escape(stem) + r"_(\d{3,})\.png", f.name))
                    and int(m.group(1)) >= depth)
    if beyond:
        raise ValueError(
            f"{folder / beyond[0][1]}: {len(beyond)} slices of {stem} lie beyond the "
            f"reference's {depth} slices: give the volume these slices were split from")
    pages = []
    for path in files:
        with Image.open(path) as im:
            if im.mode not in ("1", "L", "P", "I;16", "I"):
                raise ValueError(f"{path} is a {im.mode} mask: restack joins grey (or palette "
                                 "index) masks into a label volume, not colour ones")
            page = np.asarray(im)
        if page.shape != (shape[1], shape[0]):
            raise ValueError(f"{path} is {page.shape[1]}x{page.shape[0]} px, but a slice of "
                             f"the volume is {shape[0]}x{shape[1]}: give the volume this "
                             "case's slices were split from")
        pages.append(page.T)  # (y, x) back to the volume's (x, y), as unstack transposed
    volume = np.stack(pages, axis=-1)  # (x, y, z)
    return volume.astype(np.uint8 if volume.max() < 256 else np.uint16)


def masks_below(folder: Path, stem: str) -> str:
    """Where `folder` holds no slice of `stem` but its masks/ subfolder does (unet predict's
    pred/<split>/ given for pred/<split>/masks/), the refusal that gives the folder to use."""
    below = folder / "masks"
    case = re.fullmatch(r"(.+)_\d{4}", stem)  # nnU-Net's <case>_0000, sliced as <case>
    stems = [stem, case.group(1)] if case else [stem]
    if not below.is_dir() or not any(any(below.glob(f"{glob.escape(s)}_*.png")) for s in stems):
        return ""
    return (f"{folder} holds no slice of {stem}, but its masks folder does (unet predict "
            f"writes the masks there): give {below} as the slices' folder")
