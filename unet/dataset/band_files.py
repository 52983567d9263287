"""Bands kept in a file each (38-Cloud's train_red/, train_green/, train_blue/ and train_nir/
folders; a microscope's one file per channel), stacked into one multi-band TIFF per image."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from unet.common.fileio import atomic_path
from unet.common.imageio import named_file
from unet.dataset.layout import GROUP, DataLayoutError, Layout
from unet.dataset.names import listing

log = logging.getLogger(__name__)
ID = "{id}"
FIX = "replace the file, or remove the image from the data folder"


def check_templates(layout: Layout) -> None:
    """Refuse band_files that cannot name one file per image."""
    key = f"{layout.section}.band_files"
    for template in layout.band_files:
        if ID not in template:
            raise DataLayoutError(
                f"{key}: {template!r} has no {ID}; write each further band's path with {ID} "
                "where the image's id goes, e.g. train_nir/nir_{id}.TIF"
            )
    if layout.band_files and GROUP in layout.images:
        raise DataLayoutError(
            f"{key} with {GROUP} folders is not supported: stack each image's bands into one "
            "multi-band TIFF, or list each group's folder as a data set of its own"
        )


def band_paths(root: Path, layout: Layout, pid: str, image: Path) -> list[Path]:
    """The image's own file, then one file per band_files template, in their order."""
    return [image, *(root / t.replace(ID, pid) for t in layout.band_files)]


def with_bands(
    root: Path, layout: Layout, found: Sequence[tuple[str, Path, object]]
) -> list[tuple[str, list[Path], object]]:
    """Each pair with its band files; pairs missing one are refused (or, with allow_unpaired,
    skipped with a warning), naming the files."""
    check_templates(layout)
    out, missing = [], []
    for pid, image, mask in found:
        paths = band_paths(root, layout, pid, image)
        absent = [p for p in paths[1:] if not p.is_file()]
        if absent:
            missing.append((pid, absent))
            continue
        out.append((pid, paths, mask))
    if missing:
        names = listing([str(a) for _, absent in missing for a in absent])
        problem = f"{len(missing)} images lack a band file of {layout.section}.band_files: {names}"
        if not layout.allow_unpaired:
            raise DataLayoutError(
                f"{problem}. Each image needs one file per template, its id in place of {ID}; "
                f"fix the names or the templates, or set {layout.section}.allow_unpaired: true "
                "to skip such images"
            )
        log.warning("skipping %s", problem)
    return out


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
