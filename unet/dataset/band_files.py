"""Bands kept in a file each (38-Cloud's train_red/, train_green/, train_blue/ and train_nir/
folders; a microscope's one file per channel), stacked into one multi-band TIFF per image."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from unet.common.fileio import atomic_path
from unet.common.imageio import named_file
from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.per_id import check_template, files_per_id

FIX = "replace the file, or remove the image from the data folder"


def with_bands(
    root: Path, layout: Layout, found: Sequence[tuple[str, Path, object]]
) -> list[tuple[str, list[Path], object]]:
    """Each pair with its image's own file, then one file per band_files template in their
    order; pairs missing one are refused (or, with allow_unpaired, skipped with a warning),
    naming the files."""
    key = f"{layout.section}.band_files"
    for template in layout.band_files:
        check_template(layout, key, template, "train_nir/nir_{id}.TIF",
                       "stack each image's bands into one multi-band TIFF, or list each "
                       "group's folder as a data set of its own")
    kept, files = files_per_id(root, layout, found, key, layout.band_files, "band file")
    return [(pid, [image, *files[pid]], mask) for pid, image, mask in kept]


def _one_band(path: Path) -> np.ndarray:
    """The file's single band, at its own depth."""
    with named_file(path, "band file", FIX):
        if path.suffix.lower() in (".tif", ".tiff"):
            arr = np.squeeze(tifffile.imread(path))
        else:
            with Image.open(path) as im:
                if im.mode not in ("L", "I", "I;16", "I;16B", "I;16L", "F"):
                    raise DataLayoutError(
                        f"{path} is a {im.mode} image; band_files names files of one band "
                        "each (grey, 8- or 16-bit, or float)"
                    )
                arr = np.asarray(im)
    if arr.ndim != 2:
        raise DataLayoutError(
            f"{path} holds {arr.shape[-1] if arr.ndim == 3 else arr.shape} bands; band_files "
            "names files of one band each (grey); stack multi-band files yourself"
        )
    return arr


def stack_bands(job: tuple[Sequence[Path], Path]) -> Path:
    """Write one image's band files, all one size and sample type, as a multi-band TIFF
    (minisblack, bands last) at `dest`, atomically."""
    paths, dest = job
    bands = [_one_band(Path(p)) for p in paths]
    first = bands[0]
    for path, band in zip(paths[1:], bands[1:], strict=True):
        if band.shape != first.shape or band.dtype != first.dtype:
            (h, w), (fh, fw) = band.shape, first.shape
            raise DataLayoutError(
                f"{path} is {w}x{h} {band.dtype} but {paths[0]} is {fw}x{fh} {first.dtype}: "
                f"the bands of one image must share its size and sample type; {FIX}"
            )
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest) as tmp:
        tifffile.imwrite(tmp, np.stack(bands, axis=-1), photometric="minisblack",
                         planarconfig="contig")
    return dest
