"""Several parallel folders of images and masks, one per sequence, patient or case, whose file
names repeat from one to the next: the Cell Tracking Challenge's 01/t000.tif beside
01_GT/SEG/man_seg000.tif and 02/t000.tif beside 02_GT/SEG/man_seg000.tif, the layout
`images: "{group}"`, `masks: "{group}_GT/SEG"` describes. Each group pairs on its own, and its
name goes in front of its ids (01_000, 02_000), which name every output."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

from unet.dataset.layout import GROUP, DataLayoutError, Layout
from unet.dataset.names import listing
from unet.dataset.pairing import pair_files

log = logging.getLogger(__name__)


def _filled(layout: Layout, group: str) -> Layout:
    """The layout of one group: {group} filled in on both sides."""
    masks = tuple(m.replace(GROUP, group) for m in layout.mask_dirs)
    return replace(layout, images=layout.images.replace(GROUP, group),
                   masks=masks[0] if isinstance(layout.masks, str) else masks)


def find_groups(root: Path, layout: Layout) -> tuple[list[str], list[str]]:
    """The groups under `root`, sorted: the names {group} takes in the folders that match
    `images`, and (second) those passed over because a masks folder of theirs is missing."""
    if layout.images.count(GROUP) != 1 or not all(GROUP in m for m in layout.mask_dirs):
        raise DataLayoutError(
            f"{layout.section}.images {layout.images!r} and masks {layout.masks!r}: {GROUP} "
            "must appear once in images and in every masks folder (e.g. images: '{group}', "
            "masks: '{group}_GT/SEG'), naming the folder level that differs between groups"
        )
    pattern = re.compile(re.escape(layout.images).replace(re.escape(GROUP), "([^/]+)"))
    names = sorted(
        found.group(1)
        for d in root.glob(layout.images.replace(GROUP, "*"))
        if d.is_dir() and (found := pattern.fullmatch(d.relative_to(root).as_posix()))
    )
    kept, passed = [], []
    for name in names:
        masks = _filled(layout, name).mask_dirs
        ready = all("{id}" in m or (root / m).is_dir() for m in masks)
        (kept if ready else passed).append(name)
    if not kept:
        raise DataLayoutError(
            f"no group under {root}: {len(names)} folder(s) match {layout.section}.images "
            f"{layout.images!r} ({listing(names) if names else 'none'}), and none has its masks "
            f"folder {layout.masks!r}; check both, with {GROUP} standing for the group's folder"
        )
    return kept, passed


def pair_groups(root: Path, layout: Layout) -> list[tuple[str, Path, Path | list[Path]]]:
    """(group_id, image, mask or masks) of every group, each paired on its own."""
    groups, passed = find_groups(root, layout)
    if passed:
        log.info("passed over %s: no masks folder %r there", listing(passed), layout.masks)
    pairs, seen = [], {}
    for group in groups:
        for pid, image, masks in pair_files(root, _filled(layout, group)):
            gid = f"{group}_{pid}"
            if gid in seen:
                raise DataLayoutError(
                    f"{seen[gid]} and {image} would have the same id {gid!r} (group name + _ + "
                    "file id); rename one of their groups"
                )
            seen[gid] = image
            pairs.append((gid, image, masks))
    log.info("%d groups: %s", len(groups), listing(groups))
    return sorted(pairs, key=lambda p: p[0])
