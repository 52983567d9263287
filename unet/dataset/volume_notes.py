"""What to do with 3-D or medical files (NIfTI, NRRD, MetaImage, DICOM) passed over among a
data set's images: `unet unstack` splits each into 2-D slices named by case."""

from __future__ import annotations

import re
from pathlib import Path

from unet.dataset.names import file_kind, is_nifti, is_volume, listing

# Label volumes kept beside their images (ACDC's patient001_frame01_gt.nii.gz, a Slicer
# case_1.seg.nrrd): a name that ends, before its volume extension, in one of these
LABEL_END = re.compile(r"([_.](gt|seg|labels?|masks?))(\.nii(\.gz)?|\.nrrd|\.nhdr|\.mha|\.mhd"
                       r"|\.dcm)$", re.IGNORECASE)
LABEL_RULE = "names ending _gt, _seg, _label(s), _mask(s) or .seg before the extension"

# NIfTI volumes are split by `unet unstack` (dataset/nifti.py), a call per volume
NIFTI_FIX = ("NIfTI volumes are split into slices by `unet unstack`, named by case so that "
             "image and label slices pair (pip install -e '.[nifti]'): for f in "
             "{folder}/[!.]*.nii*; do unet unstack \"$f\" {folder}_slices; done, then read "
             "the _slices folders")
# NRRD and MetaImage volumes alike, through SimpleITK (dataset/itk_volume.py)
ITK_FIX = ("NRRD and MetaImage volumes are split into slices by `unet unstack`, named by case "
           "so that image and label slices pair (pip install -e '.[volumes]'): for f in "
           "{folder}/[!.]*{ext}; do unet unstack \"$f\" {folder}_slices; done, then read the "
           "_slices folders")
# 2-D DICOM images are read (common/dicom.py) once their extension is picked up; a series or a
# multi-frame file is one volume, which unstack splits (dataset/dicom_series.py)
DICOM_FIX = ("2-D DICOM images (one frame a file: X-rays, slices) are read: add .dcm to {key} "
             "(pydicom: pip install -e '.[dicom]'); a CT or MR series (its folder of slices) or "
             "a multi-frame .dcm is split into slices as one volume by `unet unstack "
             "SERIES_FOLDER {folder}_slices` (pip install -e '.[volumes]')")
_ITK = (".nrrd", ".nhdr", ".mha", ".mhd")


def volume_fix(kinds: list[str], folder: Path, key: str) -> str:
    """'; '-led advice for each kind of volume among `kinds` (file_kind's extensions) found in
    `folder`: the `unet unstack` loop that splits them, or the key that reads 2-D DICOM."""
    fix, out = "", Path(f"{folder}_images")
    if any(k in (".nii", ".nii.gz") for k in kinds):
        fix = "; " + (label_loops(folder, ".nii*", out) or NIFTI_FIX.format(folder=folder))
    if itk := next((k for k in kinds if k in _ITK), None):
        fix += "; " + (label_loops(folder, itk, out) or ITK_FIX.format(folder=folder, ext=itk))
    if ".dcm" in kinds:
        fix += f"; {DICOM_FIX.format(key=key, folder=folder)}"
    return fix


def volumes_note(volumes: list[Path]) -> str:
    """A warning naming 3-D or medical files (NIfTI, NRRD, DICOM) passed over beside the 2-D
    images that did pair: a patient left as a volume is no slice of the data set."""
    kinds = [".nii" if is_nifti(v) else file_kind(v) for v in volumes]
    return (f"{len(volumes)} 3-D or medical file(s) passed over, not images the pipeline reads: "
            f"{listing([str(v) for v in volumes])}; if they hold data, export each as one PNG or "
            "TIFF per slice, named alike on both sides"
            + volume_fix(kinds, volumes[0].parent, "dataset.<source>.image_extensions"))


def label_suffixes(folder: Path) -> list[str]:
    """The label endings (`_gt`, `.seg`, ...) of the volumes in `folder` named as labels."""
    if not folder.is_dir():
        return []
    found = (LABEL_END.search(p.name) for p in folder.iterdir()
             if is_volume(p) and not p.name.startswith("."))
    return sorted({m.group(1) for m in found if m})


def _holds_images(folder: Path) -> bool:
    """Whether `folder` holds a volume not named as a label (label_suffixes)."""
    return any(is_volume(p) and not p.name.startswith(".") and not LABEL_END.search(p.name)
               for p in folder.iterdir())


def label_loops(folder: Path, ext: str, out: Path) -> str:
    """Where `folder` holds label volumes beside its images (ACDC keeps each patient's frames
    and their _gt files together), the two loops that split them apart, images into `out` and
    labels named as their image (--name) into the masks folder beside it (into `out` itself
    for a folder of labels alone, unless `out` is named images); '' where it holds none, so
    that a loop over the whole folder (nnU-Net's imagesTr) is right."""
    ends = label_suffixes(folder)
    if not ends:
        return ""
    masks = out.parent / (out.name.removesuffix("images") + "masks" if out.name.endswith(
        "images") else f"{out.name}_masks")  # acdc/images: acdc/masks
    alone = not _holds_images(folder)
    if alone and not out.name.endswith("images"):
        masks = out  # a folder of labels alone split into the folder given (x/masks)
    skip = "|".join(f"*{e}{ext}" for e in ends)
    loops = "; ".join(f"for f in {folder}/[!.]*{e}{ext}; do n=$(basename \"$f\"); unet unstack "
                      f"\"$f\" {masks} --name \"${{n%%{e}.*}}\"; done" for e in ends)
    if alone:  # no image to split: an images loop would split nothing
        return (f"{folder} holds label volumes alone ({LABEL_RULE}: {', '.join(ends)}); split "
                f"them as masks named as their image: {loops}")
    return (f"{folder} holds label volumes beside its images ({LABEL_RULE}: "
            f"{', '.join(ends)}), which a loop over every {ext} would split in with the images; "
            f"split the images alone: for f in {folder}/[!.]*{ext}; do case \"$f\" in {skip}) "
            f"continue;; esac; unet unstack \"$f\" {out}; done, and the labels as masks named "
            f"as their image: {loops}")
