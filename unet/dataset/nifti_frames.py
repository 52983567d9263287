"""A NIfTI's fourth axis told apart: a time series (a cine MRI's cardiac phases, an fMRI run),
which `unet unstack` refuses, or a case's modalities (the Decathlon's), which it splits as
channels.

NIfTI-1 keeps time on dim[4], its step in pixdim[4] and its unit in xyzt_units, and a voxel's
components on dim[5] (intent VECTOR, as ITK writes a vector image). So a fourth axis of more
than one entry is taken for time where the header says so: intent TIME_SERIES, or a time unit
(sec, msec, usec) not contradicted by a vector intent, where the axis has more entries than a
case has modalities (over 8) or a time step of its own (pixdim[4] other than 0 and 1). ITK
writes every file in mm and seconds with a step of 1, so a unit alone cannot tell the
Decathlon's 4 or 2 modalities from 4 phases. Otherwise it stays channels, as the Decathlon's
4-D images are read everywhere (nibabel, nnU-Net, MONAI)."""

from __future__ import annotations

from pathlib import Path

from unet.dataset.nifti import NiftiError

_TIME_UNITS = ("sec", "msec", "usec")
_TIME_SERIES = 2001  # NIFTI_INTENT_TIME_SERIES
_VECTORS = (1007, 2003, 2004)  # NIFTI_INTENT_VECTOR, RGB_VECTOR, RGBA_VECTOR: components
# more entries than a case's modalities (the Decathlon's: 4 BraTS, 2 Prostate; multi-echo 4-8)
MAX_CHANNELS = 8


def refuse_time_series(header, path: Path) -> None:
    """Raise, naming the file, its frame count and the fix, where `header` (a nibabel NIfTI
    header) says its fourth axis is time; return for 3-D volumes and 4-D ones of channels."""
    dims = header["dim"]
    frames = int(dims[4]) if dims[0] >= 4 else 1
    if frames <= 1:
        return  # 3-D, or (x, y, z, 1, c): ITK's vector voxels on dim[5]
    intent = int(header["intent_code"])
    unit = header.get_xyzt_units()[1]
    step = float(header["pixdim"][4])
    timed = unit in _TIME_UNITS and intent not in _VECTORS and (
        frames > MAX_CHANNELS or step not in (0.0, 1.0))
    if intent != _TIME_SERIES and not timed:
        return
    shape = tuple(int(n) for n in dims[1:dims[0] + 1])
    told = "intent TIME_SERIES" if intent == _TIME_SERIES else (
        f"a time unit ({unit}), " + (f"a step of {step:g} {unit}" if step not in (0.0, 1.0)
                                     else f"more than {MAX_CHANNELS} entries"))
    raise NiftiError(
        f"{path} is a time series of {frames} frames (shape {shape}: its header "
        f"gives its fourth axis {told}), and unstack takes a 4-D volume's fourth axis for "
        "channels (modalities), so each slice would become one image of "
        f"{frames} channels: nothing was written. Unstack the frames you need as volumes of "
        "their own: ACDC ships its ED and ES frames as patient001_frame01.nii.gz beside "
        "their labels _frame01_gt.nii.gz (leave out the _4d file); for every frame, save "
        "each as its own file (nibabel: img.slicer[..., k]). If the fourth axis does hold "
        "modalities (a converter marked it in seconds), clear its time unit first: "
        "img.header.set_xyzt_units('mm', 'unknown')")
