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
    image_suffix: str = _L["image_suffix"]  # e.g. "_training" for DRIVE's 21_training.tif
    recursive: bool = _L["recursive"]  # also look in subfolders (one folder per patient)
    image_extensions: tuple[str, ...] = IMAGE_EXTENSIONS
    mask_extensions: tuple[str, ...] = tuple(_L["mask_extensions"])
    allow_unpaired: bool = _L["allow_unpaired"]
    section: str = "dataset.local"  # config section named in error messages


def _files(
    folder: Path, extensions: tuple[str, ...], recursive: bool, key: str, other: Path
) -> dict[str, Path]:
    """Files by stem; two files with one stem (in two subfolders, or with two extensions) are
    refused, since the stem names every output of the pair. `key`: the extensions' config key;
    `other`: the other side's folder, never searched when it lies inside this one."""
    exts = {e.lower() for e in extensions}
    other = other.resolve()
    inside = other != folder.resolve() and other.is_relative_to(folder.resolve())
    found: dict[str, Path] = {}
    for p in sorted(folder.rglob("*") if recursive else folder.iterdir()):
        hidden = any(part.startswith(".") for part in p.relative_to(folder).parts)
        if hidden or not p.is_file() or p.suffix.lower() not in exts:
            continue
        if inside and p.resolve().is_relative_to(other):
            continue  # masks/ inside the images folder: its files are not images
        if p.stem in found:
            raise DataLayoutError(
                f"{found[p.stem]} and {p} would have the same id {p.stem!r} (the file stem, "
                f"which names the pair's outputs); rename or remove one, or narrow {key}"
            )
        found[p.stem] = p
    return found


def _by_id(files: dict[str, Path], suffix: str) -> dict[str, Path]:
    """Files whose stem ends with `suffix`, keyed by the stem without it."""
    return {s[: len(s) - len(suffix)]: p for s, p in files.items() if s.endswith(suffix)}


def _without_suffix(files: dict[str, Path], suffix: str) -> dict[str, Path]:
    return {s: p for s, p in files.items() if not suffix or not s.endswith(suffix)}


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
    shared = img_dir.resolve() == mask_dir.resolve()
    if shared and layout.image_suffix == layout.mask_suffix:
        raise DataLayoutError(
            f"images and masks share the folder {img_dir}; set {layout.section}.mask_suffix "
            "(e.g. _mask) or image_suffix so that their names tell them apart"
        )
    key = f"{layout.section}.{{}}_extensions"
    recursive = layout.recursive
    image_files = _files(img_dir, layout.image_extensions, recursive, key.format("image"), mask_dir)
    mask_files = _files(mask_dir, layout.mask_extensions, recursive, key.format("mask"), img_dir)
    if shared:  # a_mask.tif beside a.tif: a file with the other side's suffix is not ours
        image_files = _without_suffix(image_files, layout.mask_suffix)
        mask_files = _without_suffix(mask_files, layout.image_suffix)
    images = _by_id(image_files, layout.image_suffix)
    masks = _by_id(mask_files, layout.mask_suffix)
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
            f"masks are matched to images by file stem (image stem = id + image_suffix "
            f"{layout.image_suffix!r}, mask stem = id + mask_suffix {layout.mask_suffix!r}); "
            f"fix the names, or set {layout.section}.allow_unpaired: true "
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
            f"image suffix {layout.image_suffix!r}, mask suffix {layout.mask_suffix!r}, "
            f"subfolders {'searched' if layout.recursive else 'not searched'}); check "
            f"{layout.section} settings"
        )
    return [(i, images[i], masks[i]) for i in ids]
