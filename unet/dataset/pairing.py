"""Pair image files with mask files by stem, reporting what does not pair."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from unet.common.schema import defaults

log = logging.getLogger(__name__)

_L = defaults("dataset", "local")  # field defaults: config/schema.yaml
IMAGE_EXTENSIONS = tuple(_L["image_extensions"])  # also what predict_folder picks up


class DataLayoutError(ValueError):
    """The data folder does not hold what the config says it should."""


@dataclass(frozen=True)
class Layout:
    """Where images and masks live inside a data folder, and how their names relate."""

    images: str = _L["images"]
    masks: str = _L["masks"]
    mask_suffix: str = _L["mask_suffix"]  # e.g. "_mask" for Carvana's 0cdf5b5d0ce1_01_mask.gif
    image_extensions: tuple[str, ...] = IMAGE_EXTENSIONS
    mask_extensions: tuple[str, ...] = tuple(_L["mask_extensions"])
    allow_unpaired: bool = _L["allow_unpaired"]
    section: str = "dataset.local"  # config section named in error messages


def _files(folder: Path, extensions: tuple[str, ...]) -> dict[str, Path]:
    exts = {e.lower() for e in extensions}
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in exts:
            found.setdefault(p.stem, p)
    return found


def _listing(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return f"{shown}{', ...' if len(names) > limit else ''} ({len(names)} in all)"


def pair_files(root: str | Path, layout: Layout) -> list[tuple[str, Path, Path]]:
    """Return sorted (id, image path, mask path) triples found under `root`."""
    root = Path(root)
    img_dir, mask_dir = root / layout.images, root / layout.masks
    base = "path" if layout.section == "dataset.local" else "root"  # url/kaggle: inside archives
    for key, folder in (("images", img_dir), ("masks", mask_dir)):
        if not folder.is_dir():
            raise DataLayoutError(
                f"data folder {folder} does not exist; set {layout.section}.{base} and "
                f"{layout.section}.{key} to the folder that holds the {key}"
            )
    images = _files(img_dir, layout.image_extensions)
    masks = {}
    for stem, path in _files(mask_dir, layout.mask_extensions).items():
        if layout.mask_suffix and not stem.endswith(layout.mask_suffix):
            continue
        masks[stem[: len(stem) - len(layout.mask_suffix)] if layout.mask_suffix else stem] = path
    no_mask = sorted(set(images) - set(masks))
    no_image = sorted(set(masks) - set(images))
    problems = []
    if no_mask:
        problems.append(
            f"images with no mask in {mask_dir}: {_listing([images[s].name for s in no_mask])}"
        )
    if no_image:
        problems.append(
            f"masks with no image in {img_dir}: {_listing([masks[s].name for s in no_image])}"
        )
    if problems:
        hint = (
            f"masks are matched to images by file stem plus mask_suffix "
            f"{layout.mask_suffix!r}; fix the names, or set {layout.section}.allow_unpaired: true "
            "to skip unpaired files"
        )
        if not layout.allow_unpaired:
            raise DataLayoutError("; ".join(problems) + f". {hint}")
        for p in problems:
            log.warning("skipping %s", p)
    ids = sorted(set(images) & set(masks))
    if not ids:
        raise DataLayoutError(
            f"no image/mask pairs found under {root} (images in {img_dir}, masks in {mask_dir}, "
            f"mask suffix {layout.mask_suffix!r}); check {layout.section} settings"
        )
    return [(i, images[i], masks[i]) for i in ids]
