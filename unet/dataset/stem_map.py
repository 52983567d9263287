"""Pair images with masks whose stem a regular expression makes of the image's id
(dataset.<source>.mask_stem): KITTI Road's um_000000.png beside um_road_000000.png, a word
inside the stem that mask_prefix and mask_suffix cannot place."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from unet.dataset.layout import TABLES, DataLayoutError, Layout
from unet.dataset.layout_kinds import layout_module
from unet.dataset.names import after_prefix, by_id, listing
from unet.dataset.pairing import both_sides, data_folders

log = logging.getLogger(__name__)


def _refuse_mixed(layout: Layout) -> None:
    """mask_stem names the whole mask stem: a prefix, suffix or further parts beside it, or a
    layout paired its own way, would leave two rules for one name."""
    key = f"{layout.section}.mask_stem"
    mixed = [k for k in ("mask_prefix", "mask_suffix", "mask_parts", *TABLES) if getattr(layout, k)]
    if not isinstance(layout.masks, str) or "{id}" in layout.masks:
        mixed.append("masks (one folder of mask files)")
    if mixed or layout.mask_folders == "classes":
        raise DataLayoutError(
            f"{layout.section}.{' and '.join(mixed) or 'mask_folders'} set beside {key}, which "
            f"makes the whole mask stem of the id; write the prefix or suffix into "
            f"{key}.replace, or unset {key}")


def stem_rule(pattern: str, replace: str, names: tuple[str, str]) -> re.Pattern:
    """mask_stem's pattern compiled and its replace checked against the pattern's groups (a
    group it lacks, a bad escape), before any id is read; refused naming `names`, the key or
    flag of each (dataset.local.mask_stem.pattern, unet score's --mask-stem)."""
    try:
        compiled = re.compile(pattern)
    except re.error as err:
        raise DataLayoutError(
            f"{names[0]} {pattern!r} is not a regular expression ({err}); give one that "
            rf"matches a whole image id, e.g. '(.+)_(\d+)' for KITTI's um_000000") from err
    try:
        compiled.sub(replace, "")  # the template is parsed against the groups, no match needed
    except (re.error, IndexError) as err:
        raise DataLayoutError(
            f"{names[1]} {replace!r} does not fit {names[0]} {pattern!r} ({err}): it has "
            f"{compiled.groups} group(s); refer only to those (\\g<0>: the whole id)") from err
    return compiled


def config_stem_error(stem: dict, key: str) -> str | None:
    """Why a config's mask_stem {pattern, replace} cannot work (stem_rule), or None: the config
    check refuses it before any job, where download_dataset would only once it ran."""
    try:
        stem_rule(stem["pattern"], stem.get("replace", ""), (f"{key}.pattern", f"{key}.replace"))
    except DataLayoutError as err:
        return str(err)
    return None


def mask_stems(rule: re.Pattern, replace: str, ids: list[str]) -> dict[str, str | None]:
    """Each id's mask stem (None where the `rule` does not match the whole id)."""
    return {i: (m.expand(replace) if (m := rule.fullmatch(i)) else None) for i in ids}


def _stems(layout: Layout, ids: list[str]) -> dict[str, str | None]:
    """Each id's mask stem by the layout's mask_stem (None where it does not match the id)."""
    key = f"{layout.section}.mask_stem"
    pattern, replacement = layout.mask_stem
    rule = stem_rule(pattern, replacement, (f"{key}.pattern", f"{key}.replace"))
    return mask_stems(rule, replacement, ids)


def _refuse_unpaired(layout: Layout, missing: list[str], stems: dict, images: dict) -> None:
    """Images without a mask: refused naming the mask stem looked for, or skipped (logged)."""
    key = f"{layout.section}.mask_stem"
    named = [f"{images[i].name} (mask {stems[i]}.*)" if stems[i] else
             f"{images[i].name} (its id {i!r} not matched by {key}.pattern)" for i in missing]
    text = f"images with no mask in {layout.masks}: {listing(named)}"
    if layout.allow_unpaired:
        log.warning("skipping %s", text)
        return
    raise DataLayoutError(
        f"{text}; masks are found by {key} (pattern {layout.mask_stem[0]!r}, replace "
        f"{layout.mask_stem[1]!r}, the mask stem made of the whole id); fix it or the names, or "
        f"set {layout.section}.allow_unpaired: true to skip them (or missing_mask: empty)")


def pair_mapped(root: Path, layout: Layout) -> list[tuple[str, Path, Path]]:
    """Sorted (id, image, mask) triples, each image's mask the file whose stem mask_stem
    makes of its id; masks no image names (KITTI's um_lane_*) are named in a warning."""
    _refuse_mixed(layout)
    img_dir, mask_dir, shared = data_folders(root, layout)
    image_files, mask_files, skipped = both_sides(layout, img_dir, mask_dir, shared)
    images = by_id(after_prefix(image_files, layout.image_prefix, "images"), layout.image_suffix)
    stems = _stems(layout, sorted(images))
    claimed = {mask_files[s] for s in stems.values() if s in mask_files}
    images = {i: p for i, p in images.items() if p not in claimed}  # one folder: a mask
    masks = {i: mask_files[stems[i]] for i in images if stems[i] in mask_files}
    blanks = [] if layout.missing_mask != "empty" else layout_module("blank").blank_pairs(
        layout, images, set(masks), next(iter(masks.values()), None))
    missing = [i for i in sorted(images) if i not in masks]  # blanks were taken out
    if missing:
        _refuse_unpaired(layout, missing, stems, images)
    others = [p.name for p in mask_files.values() if p not in claimed and p not in
              (set(images.values()) if shared else set())]
    if others:
        log.warning("%s holds files that no image's mask stem (%s) names, left out: %s",
                    mask_dir, f"{layout.section}.mask_stem", listing(sorted(others)))
    if not masks and not blanks:
        raise DataLayoutError(f"no image/mask pairs found under {root}; check "
                              f"{layout.section}.mask_stem and images/masks{skipped}")
    return sorted([(i, images[i], masks[i]) for i in masks] + blanks, key=lambda p: p[0])
