"""Pair image files with mask files by stem, reporting what does not pair."""

from __future__ import annotations

import logging
from collections import Counter
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
) -> tuple[dict[str, Path], Counter[str]]:
    """Files by stem, and the other files' extensions counted (for the error when nothing
    pairs). Two files with one stem (in two subfolders, or with two extensions) are refused,
    since the stem names every output of the pair. `key`: the extensions' config key; `other`:
    the other side's folder, never searched when it lies inside this one."""
    exts = {e.lower() for e in extensions}
    other = other.resolve()
    inside = other != folder.resolve() and other.is_relative_to(folder.resolve())
    found: dict[str, Path] = {}
    skipped: Counter[str] = Counter()
    for p in sorted(folder.rglob("*") if recursive else folder.iterdir()):
        hidden = any(part.startswith(".") for part in p.relative_to(folder).parts)
        if hidden or not p.is_file():
            continue
        if inside and p.resolve().is_relative_to(other):
            continue  # masks/ inside the images folder: its files are not images
        if p.suffix.lower() not in exts:
            skipped[p.suffix.lower() or "no extension"] += 1
            continue
        if p.stem in found:
            raise DataLayoutError(
                f"{found[p.stem]} and {p} would have the same id {p.stem!r} (the file stem, "
                f"which names the pair's outputs); rename or remove one, or narrow {key}"
            )
        found[p.stem] = p
    return found, skipped


def _skipped_note(
    side: str, folder: Path, skipped: Counter[str], key: str, exts: tuple[str, ...]
) -> str:
    """Why files in `folder` were not considered, with the key that picks them up."""
    if not skipped:
        return ""
    n = sum(skipped.values())
    counts = ", ".join(f"{e}: {c}" for e, c in skipped.most_common())
    lossy = " (JPEG masks are lossy: also set masks.threshold, e.g. 127)" if side == "masks" and (
        ".jpg" in skipped or ".jpeg" in skipped) else ""
    return (
        f"; {side} holds {n} file{'s' if n > 1 else ''} not picked up ({counts}) in {folder}, "
        f"since {key} is {list(exts)}: add the extension there{lossy}"
    )


def _by_id(files: dict[str, Path], suffix: str) -> dict[str, Path]:
    """Files whose stem ends with `suffix`, keyed by the stem without it."""
    return {s[: len(s) - len(suffix)]: p for s, p in files.items() if s.endswith(suffix)}


def _without_suffix(files: dict[str, Path], suffix: str) -> dict[str, Path]:
    return {s: p for s, p in files.items() if not suffix or not s.endswith(suffix)}


def _listing(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return f"{shown}{', ...' if len(names) > limit else ''} ({len(names)} in all)"


def _both_sides(
    layout: Layout, img_dir: Path, mask_dir: Path, shared: bool
) -> tuple[dict[str, Path], dict[str, Path], str]:
    """Image and mask files by stem, and a note on the files passed over for their extension
    (empty when none), for the error when nothing pairs."""
    key = f"{layout.section}.{{}}_extensions"
    image_key, mask_key = key.format("image"), key.format("mask")
    recursive = layout.recursive
    images, image_skipped = _files(img_dir, layout.image_extensions, recursive, image_key, mask_dir)
    masks, mask_skipped = _files(mask_dir, layout.mask_extensions, recursive, mask_key, img_dir)
    if shared:  # one folder: what the other side picks up was not passed over
        for e in layout.mask_extensions:
            image_skipped.pop(e.lower(), None)
        for e in layout.image_extensions:
            mask_skipped.pop(e.lower(), None)
    note = _skipped_note("images", img_dir, image_skipped, image_key, layout.image_extensions)
    note += _skipped_note("masks", mask_dir, mask_skipped, mask_key, layout.mask_extensions)
    return images, masks, note


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
    image_files, mask_files, skipped = _both_sides(layout, img_dir, mask_dir, shared)
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
            f"to skip unpaired files{skipped}"
        )
        if not layout.allow_unpaired:
            raise DataLayoutError("; ".join(problems) + f". {hint}")
        for p in problems:
            log.warning("skipping %s%s", p, skipped)
    ids = sorted(set(images) & set(masks))
    if not ids:
        raise DataLayoutError(
            f"no image/mask pairs found under {root} (images in {img_dir}, masks in {mask_dir}, "
            f"image suffix {layout.image_suffix!r}, mask suffix {layout.mask_suffix!r}, "
            f"subfolders {'searched' if layout.recursive else 'not searched'}); check "
            f"{layout.section} settings{skipped}"
        )
    return [(i, images[i], masks[i]) for i in ids]
