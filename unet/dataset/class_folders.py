"""One masks folder per class (`mask_folders: classes`): IDRiD's lesion masks lie in
"1. Microaneurysms/IDRiD_01_MA.tif", "2. Haemorrhages/IDRiD_01_HE.tif", ..., each a binary mask
of one class, with a suffix of its own. Folder k (from 1) is class k; an image's file missing
from a folder means that class is absent there. The masks of one image are merged into one
palette PNG of class numbers (merge_classes), which the rest of the pipeline reads as any
palette mask."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from unet.common.maskio import read_mask_values, unpack_rgb, write_mask_png
from unet.dataset.layout import DataLayoutError, Layout, files_by_stem, id_of
from unet.dataset.names import listing

log = logging.getLogger(__name__)

# Merged masks' palette: class 0 black, then ten distinct colours, repeated (display only).
_COLOURS = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
            (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)]
PALETTE = (0, 0, 0, *[c for k in range(255) for c in _COLOURS[k % len(_COLOURS)]])


def mask_suffixes(layout: Layout) -> tuple[str, ...]:
    """One mask suffix per masks folder: the one suffix for all, or the list given."""
    folders = layout.mask_dirs
    if isinstance(layout.mask_suffix, str):
        return (layout.mask_suffix,) * len(folders)
    if len(layout.mask_suffix) != len(folders):
        raise DataLayoutError(
            f"{layout.section}.mask_suffix lists {len(layout.mask_suffix)} suffixes for "
            f"{len(folders)} masks folder(s); give one suffix per folder, in the same order, "
            "or a single suffix for all"
        )
    return tuple(layout.mask_suffix)


def _by_id(
    folder: Path, exts: tuple[str, ...], layout: Layout, prefix: str, suffix: str
) -> dict[str, Path]:
    """Files of `folder` by id (stem less prefix and suffix)."""
    if not folder.is_dir():
        raise DataLayoutError(
            f"data folder {folder} does not exist; check {layout.section}.images and masks"
        )
    named = ((id_of(stem, prefix, suffix), p)
             for stem, p in files_by_stem(folder, exts, layout.recursive).items())
    return {pid: p for pid, p in named if pid is not None}


def pair_class_folders(root: Path, layout: Layout) -> list[tuple[str, Path, dict[int, Path]]]:
    """(id, image, {class: mask}) for every image with a mask in at least one class folder.
    Masks without an image, and images without a mask in any folder, are refused (or, with
    allow_unpaired, skipped with a warning)."""
    images = _by_id(root / layout.images, layout.image_extensions, layout,
                    layout.image_prefix, layout.image_suffix)
    found: dict[str, dict[int, Path]] = {}
    orphans: list[str] = []
    folders = layout.mask_dirs
    for k, (folder, suffix) in enumerate(zip(folders, mask_suffixes(layout), strict=True), 1):
        masks = _by_id(root / folder, layout.mask_extensions, layout, layout.mask_prefix, suffix)
        for pid, path in masks.items():
            if pid in images:
                found.setdefault(pid, {})[k] = path
            else:
                orphans.append(f"{folder}/{path.name}")
    problems = []
    if orphans:
        problems.append(f"masks with no image in {root / layout.images}: {listing(orphans)}")
    no_mask = sorted(set(images) - set(found))
    if no_mask:
        problems.append(f"images with no mask in any class folder: "
                        f"{listing([images[i].name for i in no_mask])}")
    if problems and not layout.allow_unpaired:
        raise DataLayoutError(
            "; ".join(problems) + f". Each masks folder is a class and mask stem = "
            f"mask_prefix + id + that folder's mask_suffix; fix the names, or set "
            f"{layout.section}.allow_unpaired: true to skip these files"
        )
    for p in problems:
        log.warning("skipping %s", p)
    if not found:
        raise DataLayoutError(f"no image/mask pairs under {root}; check {layout.section}")
    return [(pid, images[pid], found[pid]) for pid in sorted(found)]


def merge_classes(parts: dict[int, Path], dest: Path) -> Path:
    """Write one image's class masks as a palette PNG of class numbers: a pixel is class k
    where class k's mask is above half its highest value (0/1, 0/255 and lossy masks alike;
    a colour mask by its brightest channel, as red on black), the higher class where two
    overlap, 0 elsewhere."""
    merged, first = None, None
    for k in sorted(parts):
        values, packed = read_mask_values(parts[k])
        if packed:  # a colour on black (IDRiD's red lesions): its brightest channel
            values = unpack_rgb(values).max(axis=-1)
        if merged is None:
            merged, first = np.zeros(values.shape, np.uint8), parts[k]
        elif values.shape != merged.shape:
            (h, w), (fh, fw) = values.shape, merged.shape
            raise DataLayoutError(f"{parts[k]} is {w}x{h} but {first} is {fw}x{fh}: the masks "
                                  "of one image must have its size; fix or remove the file")
        top = int(values.max())
        if top > 0:
            merged[values > top / 2] = k
    write_mask_png(dest, merged, palette=PALETTE)
    return dest
