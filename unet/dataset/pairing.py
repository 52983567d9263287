"""Pair image files with mask files by stem, reporting what does not pair."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from unet.common.stems import file_stem
from unet.dataset.layout import (
    GROUP,
    DataLayoutError,
    Layout,
    mask_suffixes,
    shared_ids,
    visible_files,
)
from unet.dataset.layout_kinds import layout_module
from unet.dataset.names import (
    VOLUMES,
    after_prefix,
    by_id,
    case_hint,
    file_kind,
    further_masks,
    listing,
    missing_folder_hint,
    not_images_hint,
    part_of,
    parts_hint,
    skipped_note,
    suffix_hint,
    system_file,
    without_prefix,
    without_suffix,
)
from unet.dataset.volume_notes import volumes_note

log = logging.getLogger(__name__)

def _files(
    folder: Path, extensions: tuple[str, ...], recursive: bool, key: str, other: Path,
    volumes: list[Path],
) -> tuple[dict[str, Path], Counter[str]]:
    """Files by stem (NFC: a decomposed café.png pairs with a composed one), and the other
    files' extensions counted (for the error when nothing pairs). Two files with one stem, which
    names every output of the pair, are refused. `key`: the extensions' config key; `other`: the
    other side's folder, never searched inside this one; 3-D files passed over go to `volumes`."""
    exts = {e.lower() for e in extensions}
    other = other.resolve()
    inside = other != folder.resolve() and other.is_relative_to(folder.resolve())
    found: dict[str, Path] = {}
    skipped: Counter[str] = Counter()
    twice = []  # every shared id at once: a folder of a.png beside a.jpg wanted a rerun each
    for p in visible_files(folder, recursive, exts):
        if inside and p.resolve().is_relative_to(other):
            continue  # masks/ inside the images folder: its files are not images
        if p.suffix.lower() not in exts:
            if not system_file(p):  # Thumbs.db is no image to convert
                skipped[file_kind(p)] += 1
            if file_kind(p) in VOLUMES:  # named even when the others pair (pair_files)
                volumes.append(p)
            continue
        stem = unicodedata.normalize("NFC", file_stem(p))  # macOS zips write café decomposed
        if stem in found:
            twice.append((str(p), DataLayoutError(
                f"{found[stem]} and {p} would have the same id {stem!r} (the file stem, "
                f"which names the pair's outputs); rename or remove one, or narrow {key}")))
            continue
        found[stem] = p
    shared_ids(twice)
    return found, skipped


def _naming(layout: Layout) -> str:
    """How a stem is made of the id, as the error explains it."""
    def stem(side: str, prefix: str, suffix: str) -> str:
        head = f"{side}_prefix {prefix!r} + " if layout.image_prefix or layout.mask_prefix else ""
        return f"{side} stem = {head}id + {side}_suffix {suffix!r}"

    return (f"{stem('image', layout.image_prefix, layout.image_suffix)}, "
            f"{stem('mask', layout.mask_prefix, layout.mask_suffix)}")


def both_sides(
    layout: Layout, img_dir: Path, mask_dir: Path, shared: bool
) -> tuple[dict[str, Path], dict[str, Path], str]:
    """Image and mask files by stem, and a note on the files passed over for their extension
    (empty when none), for the error when nothing pairs."""
    key = f"{layout.section}.{{}}_extensions"
    image_key, mask_key = key.format("image"), key.format("mask")
    recursive = layout.recursive
    volumes: list[Path] = []
    images, image_skipped = _files(img_dir, layout.image_extensions, recursive, image_key,
                                   mask_dir, volumes)
    masks, mask_skipped = _files(mask_dir, layout.mask_extensions, recursive, mask_key, img_dir,
                                 volumes if img_dir != mask_dir else [])
    if shared:  # one folder: what the other side picks up was not passed over
        for e in layout.mask_extensions:
            image_skipped.pop(e.lower(), None)
        for e in layout.image_extensions:
            mask_skipped.pop(e.lower(), None)
    note = skipped_note("images", img_dir, image_skipped, image_key, layout.image_extensions)
    note += skipped_note("masks", mask_dir, mask_skipped, mask_key, layout.mask_extensions)
    if volumes and images and masks:  # none at all: the error when nothing pairs says it
        log.warning(volumes_note(volumes))
    return images, masks, note


def _parts_pattern(layout: Layout) -> re.Pattern | None:
    if not layout.mask_parts:
        return None
    try:
        return re.compile(layout.mask_parts)
    except re.error as err:
        raise DataLayoutError(
            f"{layout.section}.mask_parts {layout.mask_parts!r} is not a regular expression "
            rf"({err}); give what follows a mask's stem in the image's further masks, e.g. '_\d+'"
        ) from err


@dataclass
class _Found:
    """What one data folder holds, by id: images, own masks, further masks (mask_parts), and
    the mask files by stem."""

    images: dict[str, Path]
    masks: dict[str, Path]
    parts: dict[str, list[Path]]
    mask_files: dict[str, Path]


def data_folders(root: Path, layout: Layout) -> tuple[Path, Path, bool]:
    """The image and mask folders, refused when missing; whether they are one folder."""
    img_dir, mask_dir = root / layout.images, root / layout.masks
    base = "path" if layout.section == "dataset.local" else "root"  # url/kaggle: inside archives
    for key, folder in (("images", img_dir), ("masks", mask_dir)):
        if not folder.is_dir():
            name = layout.images if key == "images" else layout.masks
            raise DataLayoutError(
                f"data folder {folder} does not exist; set {layout.section}.{base} and "
                f"{layout.section}.{key} to the folder that holds the {key}"
                + missing_folder_hint(root, name, layout.section, base, layout.root)
            )
    shared = img_dir.resolve() == mask_dir.resolve()
    common = {*map(str.lower, layout.image_extensions)} & {*map(str.lower, layout.mask_extensions)}
    same_names = (layout.image_suffix, layout.image_prefix, "") == (  # or told by mask_stem
        layout.mask_suffix, layout.mask_prefix, layout.mask_stem[0])
    if shared and same_names and common:
        raise DataLayoutError(
            f"images and masks share the folder {img_dir}; set {layout.section}.mask_suffix "
            "(e.g. _mask) or image_suffix so that their names tell them apart, or "
            f"image_extensions and mask_extensions with no extension in common (now both hold "
            f"{sorted(common)}; e.g. ['.jpg'] and ['.png'] for a.jpg beside its mask a.png)"
        )
    return img_dir, mask_dir, shared


def _report_unpaired(
    found: _Found, layout: Layout, img_dir: Path, mask_dir: Path, shared: bool, skipped: str
) -> None:
    """Refuse (or, with allow_unpaired, log) images without masks, masks without images, and
    files in a masks folder that end with no mask suffix, naming the likely further masks."""
    images, masks, mask_files = found.images, found.masks, found.mask_files
    no_mask = sorted(set(images) - set(masks) - set(found.parts))
    no_image = sorted(set(masks) - set(images))
    # Masks-folder files without the mask suffix pair with nothing: further masks of a paired
    # image (a_mask_1 beside a_mask) are refused, other kinds (Cityscapes' *_color.png) named.
    paired = set(images) & set(masks)
    stray = [] if shared else sorted(s for s in mask_files if not s.endswith(layout.mask_suffix))
    others = [s for s in stray if not part_of(s, layout.mask_suffix, paired, None)[0]]
    stray = [s for s in stray if s not in set(others)]
    if others:
        log.warning(
            "%s holds files that pair with nothing (their names do not end with mask_suffix "
            "%r): %s", mask_dir, layout.mask_suffix, listing([mask_files[s].name for s in others])
        )
    problems = [f"{what}: {listing(names)}" for what, names in (
        (f"images with no mask in {mask_dir}", [images[s].name for s in no_mask]),
        (f"masks with no image in {img_dir}", [masks[s].name for s in no_image]),
        (f"masks in {mask_dir} that pair with nothing, their names not ending with "
         f"mask_suffix {layout.mask_suffix!r}", [mask_files[s].name for s in stray]),
    ) if names]
    if not problems:
        return
    unpaired = [file_stem(masks[s]) for s in no_image] + stray  # maybe masks
    unpaired += [file_stem(images[s]) for s in no_mask] if shared else []
    further = case_hint(no_mask, no_image) or parts_hint(
        unpaired, layout.mask_suffix, paired, layout.section) or suffix_hint(
        no_mask, no_image, layout.image_suffix, layout.section)
    if not further:  # in a folder of images too: ISIC 2017's *_superpixels.png beside *.jpg
        paired_images = {i: images[i] for i in paired}
        further = not_images_hint([images[s] for s in no_mask], paired_images, layout.section)
    hint = (
        f"masks are matched to images by file stem ({_naming(layout)}); fix the names, or "
        f"set {layout.section}.allow_unpaired: true to skip unpaired files (or missing_mask: "
        f"empty: an image without a mask is all background){skipped}{further}"
    )
    if not layout.allow_unpaired:
        raise DataLayoutError("; ".join(problems) + f". {hint}")
    for p in problems:
        log.warning("skipping %s%s%s", p, skipped, further)


def _pair_each_folder(root: Path, layout: Layout) -> list[tuple[str, Path, list[Path]]]:
    """Images paired with each of several mask folders in turn, their masks listed together
    in the folders' order. With allow_unpaired, an image without a mask in every folder is
    skipped whole: a part of its mask missing is no smaller mask (but missing_part: absent)."""
    layout_module("merge").refuse_as_parts(root, layout)
    if layout.missing_part == "absent":
        return layout_module("merge").pair_present(root, layout)
    found: dict[str, tuple[Path, list[Path]]] = {}
    counts: Counter[str] = Counter()
    for folder, suffix in zip(layout.masks, mask_suffixes(layout), strict=True):
        for pid, image, masks in pair_files(root, replace(  # a missing part is no empty mask
                layout, masks=folder, mask_suffix=suffix, missing_mask="unpaired")):
            found.setdefault(pid, (image, []))[1].extend(
                masks if isinstance(masks, list) else [masks]
            )
            counts[pid] += 1
    partial = sorted(pid for pid in found if counts[pid] < len(layout.masks))
    if partial:
        log.warning("skipping images without a mask in every one of %s: %s",
                    list(layout.masks), listing(partial))
    return [(pid, found[pid][0], found[pid][1]) for pid in sorted(found) if pid not in partial]


def _elsewhere(root: Path, layout: Layout) -> list | None:
    """The pairs of layouts paired by their own modules: parallel group folders, run-length
    encodings, COCO, LabelMe, QuPath, VIA or YOLO annotations, class folders, several masks
    folders, a folder per image; None for one masks folder (paired here)."""
    if layout.mask_stem[0] and GROUP not in layout.images:  # KITTI's um_road_000000 (stem_map)
        return layout_module("stem_map").pair_mapped(root, layout)
    # masks as annotation files: LabelMe's JSON or QuPath's GeoJSON per image, VIA's one JSON
    # for a folder ({group}: refused for these three), YOLO's .txt per image ({group} its own)
    for kind in ("labelme", "qupath", "via", "yolo", "xml", "geojson", "wkt"):
        if getattr(layout, kind):
            return getattr(layout_module(kind), f"pair_{kind}")(root, layout)
    if GROUP in layout.images:  # parallel folders, one per sequence or patient
        return layout_module("groups").pair_groups(root, layout)
    if layout.rle:  # masks as run-length encodings in a CSV
        return layout_module("rle").pair_rle(root, layout)
    if layout.coco:  # masks as COCO annotations
        return layout_module("coco").pair_coco(root, layout)
    if layout.mask_folders == "classes":  # each masks folder one class
        return layout_module("classes").pair_class_folders(root, layout)
    if not isinstance(layout.masks, str):
        return _pair_each_folder(root, layout)
    if "{id}" in layout.masks:  # a folder of masks per image
        return layout_module("mask_folders").pair_mask_folders(root, layout)
    return None


def pair_files(root: str | Path, layout: Layout) -> list[tuple[str, Path, Path | list[Path]]]:
    """Return sorted (id, image path, mask path) triples found under `root`; with
    `mask_parts` or a list of mask folders, the third item is the list of the image's masks,
    its own mask first."""
    root = Path(root)
    other = _elsewhere(root, layout)
    if other is not None:
        return other
    if not isinstance(layout.mask_suffix, str):  # a list of one suffix for one folder
        layout = replace(layout, mask_suffix=mask_suffixes(layout)[0])
    img_dir, mask_dir, shared = data_folders(root, layout)
    image_files, mask_files, skipped = both_sides(layout, img_dir, mask_dir, shared)
    if shared:  # a_mask.tif beside a.tif: a file with the other side's suffix is not ours
        image_files = without_suffix(image_files, layout.mask_suffix)
        mask_files = without_suffix(mask_files, layout.image_suffix)
        image_files = without_prefix(image_files, layout.mask_prefix, layout.image_prefix)
        mask_files = without_prefix(mask_files, layout.image_prefix, layout.mask_prefix)
    image_files = after_prefix(image_files, layout.image_prefix, "images")
    mask_files = after_prefix(mask_files, layout.mask_prefix, "masks")
    images = by_id(image_files, layout.image_suffix)
    parts_pattern = _parts_pattern(layout)
    parts: dict[str, list[Path]] = {}
    if parts_pattern is not None:
        parts = further_masks(mask_files, layout.mask_suffix, set(images), parts_pattern)
        taken = {p for paths in parts.values() for p in paths}
        mask_files = {s: p for s, p in mask_files.items() if p not in taken}
        if shared:  # a_mask_1.png beside a.png is a mask, not an image
            images = {i: p for i, p in images.items() if p not in taken}
    masks = by_id(mask_files, layout.mask_suffix)
    blanks = [] if layout.missing_mask != "empty" else layout_module("blank").blank_pairs(
        layout, images, set(masks) | set(parts), next(iter(masks.values()), None))
    _report_unpaired(_Found(images, masks, parts, mask_files), layout, img_dir, mask_dir, shared,
                     skipped)
    ids = sorted(set(images) & (set(masks) | set(parts)))
    if not ids and not blanks:
        raise DataLayoutError(
            f"no image/mask pairs found under {root} (images in {img_dir}, masks in {mask_dir}, "
            f"image suffix {layout.image_suffix!r}, mask suffix {layout.mask_suffix!r}, "
            f"subfolders {'searched' if layout.recursive else 'not searched'}); check "
            f"{layout.section} settings{skipped}"
        )
    pairs = [(i, images[i], masks[i] if parts_pattern is None else [masks[i]] * (i in masks)
              + sorted(parts.get(i, []))) for i in ids]
    return sorted(pairs + blanks, key=lambda p: p[0])
