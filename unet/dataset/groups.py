"""Several parallel folders of images and masks, one per sequence, patient or case, whose file
names repeat from one to the next: the Cell Tracking Challenge's 01/t000.tif beside
01_GT/SEG/man_seg000.tif and 02/t000.tif beside 02_GT/SEG/man_seg000.tif, the layout
`images: "{group}"`, `masks: "{group}_GT/SEG"` describes. Each group pairs on its own, and its
name goes in front of its ids (01_000, 02_000), which name every output."""

from __future__ import annotations

import logging
import posixpath
import re
from dataclasses import replace
from pathlib import Path

from unet.dataset.group_levels import group_id, group_levels, hidden_deeper, spread
from unet.dataset.layout import GROUP, DataLayoutError, Layout, wildcard
from unet.dataset.layout_kinds import layout_module
from unet.dataset.names import listing
from unet.dataset.pairing import pair_files

log = logging.getLogger(__name__)


def _table(layout: Layout) -> dict | None:
    """The layout's CSV of encodings or COCO JSON settings, when its masks come from one."""
    return dict(layout.coco or layout.rle or ()) or None


def _sources(layout: Layout) -> tuple[str, ...]:
    """Where a group's masks come from: its masks folders, or its CSV or JSON file."""
    table = _table(layout) or dict(layout.yolo or ())
    return (table.get("json") or table.get("labels") or table["csv"],) if table \
        else layout.mask_dirs


def _fill(value: str | tuple[str, ...], group: str) -> str | tuple[str, ...]:
    """`value` (a name or path, or a tuple of them) with {group} filled in."""
    if isinstance(value, str):
        return value.replace(GROUP, group)
    return tuple(v.replace(GROUP, group) for v in value)


def filled(layout: Layout, group: str) -> Layout:
    """The layout of one group: {group} filled in on both sides (a CSV or JSON path too), and
    in the names' prefixes and suffixes and the per-id templates, as DRIVE's parts name their
    files: test/images/01_test.tif (image_suffix '_{group}')."""
    files = {
        key: tuple((k, v.replace(GROUP, group) if isinstance(v, str) else v) for k, v in table)
        for key, table in (("rle", layout.rle), ("coco", layout.coco), ("yolo", layout.yolo))
        if table
    }
    names = ("images", "masks", "mask_suffix", "image_suffix", "mask_prefix", "image_prefix",
             "band_files", "roi", "ignore_regions")
    return replace(layout, **{k: _fill(getattr(layout, k), group) for k in names}, **files)


def find_groups(root: Path, layout: Layout) -> tuple[list[str], list[str], list[str]]:
    """The groups under `root`, sorted: the names {group} takes in the folders that match
    `images`, (second) those passed over because a masks folder of theirs is missing, and
    (third) those that are, or hold, another group's masks folder."""
    if layout.images.count(GROUP) != 1 or not all(GROUP in m for m in _sources(layout)):
        raise DataLayoutError(
            f"{layout.section}.images {layout.images!r} and masks {list(_sources(layout))}: "
            f"{GROUP} must appear once in images and in every masks folder, CSV or JSON (e.g. "
            "images: '{group}', masks: '{group}_GT/SEG'; coco.json: "
            "'{group}/_annotations.coco.json'), naming the folder level that differs"
        )
    levels = group_levels(root, layout.images)  # Train/Urban: 2
    part = "/".join(["[^/]+"] * levels)
    pattern = re.compile(re.escape(layout.images).replace(re.escape(GROUP), f"({part})"))
    names = sorted(
        found.group(1)
        for d in root.glob(wildcard(spread(layout.images, levels), GROUP))
        if d.is_dir() and (found := pattern.fullmatch(d.relative_to(root).as_posix()))
    )
    kept, passed, parts = [], [], _not_masks(layout, names)
    unmasked = layout.missing_mask == "empty"  # a group without masks: all background
    for name in parts:
        one = filled(layout, name)
        if one.yolo:  # no label file: all background, as YOLO reads it
            ready = True
        elif _table(one):  # its CSV or JSON
            ready = (root / _sources(one)[0]).is_file()
        else:  # class folders, or missing parts absent: one is enough
            have = _folders_there(root, one)
            ready = any(have) if _some_enough(one) else all(have)
        (kept if ready or unmasked else passed).append(name)
    _refuse_partial(root, layout, parts)
    if not kept:
        raise DataLayoutError(
            f"no group under {root}: {len(names)} folder(s) match {layout.section}.images "
            f"{layout.images!r} ({listing(names) if names else 'none'}), and none has its masks "
            f"folder {layout.masks!r}; check both, with {GROUP} standing for the group's folder"
        )
    return kept, passed, [name for name in names if name not in parts]


def _folders_there(root: Path, layout: Layout) -> list[bool]:
    """For each masks folder of a filled-in group, whether it is there ({id}: per image)."""
    return ["{id}" in m or (root / m).is_dir() for m in layout.mask_dirs]


def _refuse_partial(root: Path, layout: Layout, names: list[str]) -> None:
    """Refuse groups that have some of several united masks folders but not all: such a group
    was passed over, or with missing_mask: empty written all background, though the folders
    it has hold its masks (EndoVis's videos, each with folders for its own instruments)."""
    if _table(layout) or layout.yolo or _some_enough(layout):
        return
    lacking = []
    for name in names:
        one = filled(layout, name)
        have = _folders_there(root, one)
        if any(have) and not all(have):
            gone = [m for m, there in zip(one.mask_dirs, have, strict=True) if not there]
            lacking.append(f"{name} (no {', '.join(gone)})")
    if lacking:
        raise DataLayoutError(
            f"groups without some of the masks folders {layout.section}.masks unites: "
            f"{listing(lacking)}; united folders are parts of one mask, needed in every group. "
            f"Where each folder is a class (an instrument, a lesion), set {layout.section}."
            "mask_folders: classes (a folder a group lacks is then that class absent there; "
            "masks.values can join classes into one); where a folder a group lacks is that "
            f"part absent (instruments' parts: shaft, wrist, claspers), {layout.section}."
            "missing_part: absent; else add the folders or list only the ones every group has"
        )


def _some_enough(layout: Layout) -> bool:
    """Whether a group needs only some of its masks folders: each a class, or a united
    folder it lacks a part absent there (missing_part: absent)."""
    return layout.mask_folders == "classes" or layout.missing_part == "absent"


def _not_masks(layout: Layout, names: list[str]) -> list[str]:
    """The names whose images folder neither is nor holds another group's masks folder:
    Massachusetts Roads' train_labels matches images '{group}' too, but holds train's labels
    (taken for a part without masks, it was warned about, and read as images under
    missing_mask: empty)."""
    if _table(layout):
        return names
    # (folder, its group): a group whose images and masks share one folder keeps it
    masks = {(posixpath.normpath(m), name) for name in names
             for m in filled(layout, name).mask_dirs if "{id}" not in m}
    return [name for name in names
            if not any(owner != name and _within(folder, filled(layout, name).images)
                       for folder, owner in masks)]


def _within(folder: str, top: str) -> bool:
    """Whether `folder` is `top` or under it (the Cell Tracking Challenge's 01_GT holds
    01_GT/SEG)."""
    top = posixpath.normpath(top)
    return folder == top or folder.startswith(top + "/")


def _same_classes(pairs: list[tuple]) -> None:
    """Refuse groups whose COCO JSONs name their classes differently: each JSON numbers its
    categories itself, so class 1 would be a crack in one part and a spall in the next."""
    first: tuple | None = None
    for _, _, masks in pairs:
        names = getattr(masks, "names", None)  # CocoMasks: (class, category name) pairs
        if names is None:
            return
        source = getattr(masks, "json", None) or masks.csv  # COCO JSON, or CSV of classes
        if first is None:
            first = (source, names)
        elif names != first[1]:
            raise DataLayoutError(
                f"{source} has the categories {dict(names)} (class: name) but {first[0]} "
                f"has {dict(first[1])}: one class would mean two things; give every part's "
                "JSON the same categories (ids and names)"
            )


def _same_colours(pairs: list[tuple]) -> list[tuple]:
    """The pairs with one colour per class over every part's COCO JSON (their masks must
    share a palette): the first part's that gives one, a part colouring it otherwise warned."""
    if not pairs or not hasattr(pairs[0][2], "colours"):
        return pairs
    first: dict[int, tuple] = {}  # class -> (colour, JSON)
    warned = set()
    for _, _, masks in pairs:
        for k, rgb in masks.colours:
            seen = first.setdefault(k, (rgb, masks.json))
            if seen[0] != rgb and (k, masks.json) not in warned:
                warned.add((k, masks.json))
                log.warning("%s colours class %d (%s) %s but %s, read first, gives %s: its "
                            "masks and overlays take the first", masks.json, k,
                            dict(masks.names).get(k), rgb, seen[1], seen[0])
    colours = tuple(sorted((k, rgb) for k, (rgb, _) in first.items()))
    return [(gid, image, replace(masks, colours=colours)) for gid, image, masks in pairs]


def pair_groups(root: Path, layout: Layout) -> list[tuple[str, Path, Path | list[Path]]]:
    """(group_id, image, mask or masks) of every group, each paired on its own."""
    groups, passed, masks = find_groups(root, layout)
    levels = group_levels(root, layout.images)
    if hidden := hidden_deeper(root, layout.images, levels, groups + passed + masks):
        shallow = filled(layout, (groups + passed)[0]).images
        log.warning("passed over %s: they match %s.images %r deeper than the %d folder level(s) "
                    "{group} takes here, as %s matches it; move the shallower folder(s) out of %s "
                    "to read the nested parts", listing(hidden), layout.section,
                    layout.images, levels, shallow, root)
    if passed:  # unannotated sequences (CTC), or MVTec AD's good/: which, only the user knows
        log.warning("passed over %s: no masks folder %r there (set %s.missing_mask: empty if "
                    "their images are all background)", listing(passed), layout.masks,
                    layout.section)
    pairs, seen = [], {}
    for group in groups:
        one = filled(layout, group)
        have = [True] if _table(one) else _folders_there(root, one)
        if not any(have):  # missing_mask: empty (else passed over above)
            found = layout_module("blank").unmasked_group(root, one)
        elif not all(have) and one.mask_folders == "classes":  # those it lacks: absent
            found = layout_module("classes").pair_class_folders(root, one, optional=True)
        elif not all(have):  # missing_part: absent; the folders it has united
            found = layout_module("merge").pair_present(root, one, optional=True)
        else:
            found = pair_files(root, one)
        for pid, image, masks in found:
            gid = f"{group_id(group)}_{pid}"
            if gid in seen:
                raise DataLayoutError(
                    f"{seen[gid]} and {image} would have the same id {gid!r} (group name + _ + "
                    "file id); rename one of their groups"
                )
            seen[gid] = image
            pairs.append((gid, image, masks))
    _same_classes(pairs)
    pairs = _same_colours(pairs)
    log.info("%d groups: %s", len(groups), listing(groups))
    return sorted(pairs, key=lambda p: p[0])
