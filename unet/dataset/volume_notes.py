"""What to do with 3-D or medical files (NIfTI, NRRD, MetaImage, DICOM) passed over among a
data set's images: `unet unstack` splits each into 2-D slices named by case."""

from __future__ import annotations

from pathlib import Path

from unet.dataset.names import file_kind, is_nifti, listing

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
    fix = f"; {NIFTI_FIX.format(folder=folder)}" if any(k in (".nii", ".nii.gz")
                                                           for k in kinds) else ""
    if itk := next((k for k in kinds if k in _ITK), None):
        fix += f"; {ITK_FIX.format(folder=folder, ext=itk)}"
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
