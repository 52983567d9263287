"""A volume's voxel size as `unet unstack` prints it, for evaluate.voxel_spacing: the slices
it writes carry none, and per-case HD95 needs it to be in mm rather than px."""

from __future__ import annotations

from pathlib import Path

from unet.dataset.names import is_nifti

_UNITS = {"mm": "mm", "meter": "m", "micron": "um"}  # NIfTI's xyzt_units words, shortened


def voxel_spacing(path: Path, series: str | None = None
                  ) -> tuple[tuple[float, float, float], str] | None:
    """(z, y, x) voxel size of a volume's slices as unstacked (rows along the volume's y,
    columns along its x) and its unit, from the header (a DICOM series folder's from its
    slices, of `series` where it holds several); None where it gives none."""
    if is_nifti(path):
        from unet.dataset.nifti import require_nibabel

        header = require_nibabel(path).load(path).header
        x, y, z = (tuple(float(v) for v in header.get_zooms()[:3]) + (1.0, 1.0))[:3]
        unit = _UNITS.get(header.get_xyzt_units()[0], "")  # unknown: none said
    else:
        from unet.dataset.itk_volume import itk_grid
        from unet.dataset.nifti import NiftiError

        try:
            grid = itk_grid(path, series)
        except NiftiError:  # a series unevenly spaced (warned of already): no one spacing
            return None
        # a 2-D image (one slice) gives two values: its slice spacing is none, said as 1
        x, y, z = (tuple(float(v) for v in grid[1][1]) + (1.0, 1.0))[:3]
        unit = "mm"  # ITK's physical unit for NRRD, MetaImage and DICOM
    if not all(v > 0 for v in (x, y, z)):
        return None
    return (z, y, x), unit


def spacing_line(path: Path, got: tuple[tuple[float, float, float], str] | None) -> str | None:
    """The line `unet unstack` prints after a volume's slices: its spacing (`got`, as
    voxel_spacing read it) and the key to set; None where the header gives no voxel size."""
    if got is None:
        return None
    (z, y, x), unit = got
    values = f"{z:g}, {y:g}, {x:g}"
    return (f"spacing z,y,x = {values}{' ' + unit if unit else ''} ({path.name}); with "
            f"split.group_by, set evaluate.voxel_spacing: [{values}] to score cases in "
            f"{unit or 'its unit'}")
