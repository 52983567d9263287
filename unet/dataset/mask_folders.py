"""A folder of masks per image, named by its id: the 2018 Data Science Bowl's
stage1_train/<id>/images/<id>.png beside stage1_train/<id>/masks/<one file per nucleus>.png,
the layout `masks: stage1_train/{id}/masks` describes. Every mask in an image's folder is
one of its masks (merged into one by the manifest)."""

from __future__ import annotations

import logging
from pathlib import Path

from unet.common.stems import file_stem
from unet.dataset.layout import (
    DataLayoutError,
    Layout,
    files_with,
    shared_ids,
    visible_files,
    wildcard,
)
from unet.dataset.names import id_of, listing

log = logging.getLogger(__name__)


def _images(root: Path, layout: Layout) -> dict[str, Path]:
    """Images by id, leaving out every file inside a folder the mask template names."""
    img_dir = root / layout.images
    if not img_dir.is_dir():
        raise DataLayoutError(f"data folder {img_dir} does not exist; set {layout.section}.images")
    mask_dirs = {d.resolve() for d in root.glob(wildcard(layout.masks, "{id}")) if d.is_dir()}
    exts = {e.lower() for e in layout.image_extensions}
    images: dict[str, Path] = {}
    twice = []
    for p in visible_files(img_dir, layout.recursive):
        if p.suffix.lower() not in exts or mask_dirs.intersection(p.resolve().parents):
            continue
        pid = id_of(file_stem(p), layout.image_prefix, layout.image_suffix)
        if pid is None:
            continue
        if pid in images:
            twice.append((str(p), DataLayoutError(
                f"{images[pid]} and {p} would have the same id {pid!r}; rename or remove one")))
            continue
        images[pid] = p
    shared_ids(twice)
    return images


def pair_mask_folders(root: Path, layout: Layout) -> list[tuple[str, Path, list[Path]]]:
    """(id, image, its masks) for every image with a mask in root/masks-with-{id}-filled-in."""
    pairs, missing = [], []
    for pid, image in sorted(_images(root, layout).items()):
        folder = root / layout.masks.replace("{id}", pid)
        masks = files_with(folder, layout.mask_extensions) if folder.is_dir() else []
        if masks:
            pairs.append((pid, image, masks))
        else:
            missing.append(f"{image.name} (no mask in {folder})")
    if missing:
        problem = (
            f"images with no mask in their folder {layout.section}.masks "
            f"{layout.masks!r}: {listing(missing)}"
        )
        if not layout.allow_unpaired:
            raise DataLayoutError(
                f"{problem}; add the masks, or set {layout.section}.allow_unpaired: true to "
                "skip these images"
            )
        log.warning("skipping %s", problem)
    if not pairs:
        raise DataLayoutError(
            f"no image/mask pairs under {root} (images in {root / layout.images}, masks in "
            f"{layout.masks!r} per image id); check {layout.section} settings"
        )
    return pairs
