"""One masks folder per class (`mask_folders: classes`): IDRiD's lesion masks lie in
"1. Microaneurysms/IDRiD_01_MA.tif", "2. Haemorrhages/IDRiD_01_HE.tif", ..., each a binary mask
of one class, with a suffix of its own. Folder k (from 1) is class k; an image's file missing
from a folder means that class is absent there. The masks of one image are merged into one
palette PNG of class numbers (merge_classes), which the rest of the pipeline reads as any
palette mask."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from unet.common.maskio import read_mask_values, unpack_rgb, write_mask_png
from unet.common.stems import file_stem
from unet.dataset.layout import DataLayoutError, Layout, files_by_stem, mask_suffixes, nfc
from unet.dataset.layout_kinds import layout_module
from unet.dataset.names import id_of, listing, part_of

log = logging.getLogger(__name__)

# Merged masks' palette: class 0 black, then ten distinct colours, repeated (display only).
_COLOURS = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
            (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)]
PALETTE = (0, 0, 0, *[c for k in range(255) for c in _COLOURS[k % len(_COLOURS)]])


def coloured_palette(colours: dict[int, tuple[int, int, int]]) -> tuple[int, ...]:
    """PALETTE with each class in `colours` (class -> r, g, b) in its colour: the one an
    annotation tool showed it in (QuPath's classes, COCO's categories). A class above 255 has
    no entry: a PNG palette holds 256 colours, and its masks are written 16-bit grey."""
    palette = list(PALETTE)
    for k, rgb in colours.items():
        if k < 256:  # a slice past the end grew the list, which PIL refused as a palette
            palette[3 * k:3 * k + 3] = rgb
    return tuple(palette)


def read_colour(value: Any) -> tuple[int, int, int] | None:
    """A tool's class colour as (r, g, b): [r, g, b] (more values dropped), '#rrggbb' or the
    shorthand '#rgb' (each digit doubled, as CSS reads it); None for anything else."""
    if isinstance(value, list) and len(value) >= 3 and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value[:3]):
        return (value[0], value[1], value[2])
    if not isinstance(value, str) or not re.fullmatch(r"#([0-9a-fA-F]{3}){1,2}", value.strip()):
        return None
    digits = value.strip()[1:]
    digits = "".join(c * 2 for c in digits) if len(digits) == 3 else digits
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def warn_colours(colours: dict[str, tuple[int, int, int]], unread: dict[str, Any],
                 source: str) -> None:
    """Warn of classes (by name) sharing one colour, whose masks and overlays then look alike,
    and, in one line, of colours `source` gives that read_colour cannot read."""
    by_colour: dict[tuple, list[str]] = {}
    for name, rgb in colours.items():
        by_colour.setdefault(rgb, []).append(name)
    for rgb, names in by_colour.items():
        if len(names) > 1:
            log.warning("%s gives %s one colour, %s: their masks and overlays look alike; give "
                        "each class its own colour", source, " and ".join(map(repr, names)), rgb)
    if unread:
        log.warning("%s gives colours that are not read (%s): give [r, g, b] or '#rrggbb'; "
                    "those classes take the default palette's colours", source,
                    listing([f"{n!r}: {v!r}" for n, v in unread.items()]))


def _by_id(
    folder: Path, exts: tuple[str, ...], layout: Layout, prefix: str, suffix: str
) -> dict[str, Path]:
    """Files of `folder` by id (stem less prefix and suffix)."""
    named = ((id_of(stem, prefix, suffix), p) for stem, p in _listed(folder, exts, layout).items())
    return {pid: p for pid, p in named if pid is not None}


def _listed(folder: Path, exts: tuple[str, ...], layout: Layout, optional: bool = False,
            ) -> dict[str, Path]:
    if optional and not folder.is_dir():  # a group without this class's folder: it is absent
        return {}
    if not folder.is_dir():
        raise DataLayoutError(
            f"data folder {folder} does not exist; check {layout.section}.images and masks"
        )
    return files_by_stem(folder, exts, layout.recursive)


ClassMasks = dict[int, Path | list[Path]]  # class -> its mask, or its masks to unite


def _class_masks(
    root: Path, layout: Layout, images: dict[str, Path], optional: bool = False
) -> tuple[dict[str, ClassMasks], list[str]]:
    """Each image's masks by class, and the masks with no image. Files of a masks folder that
    are masks (mask stem = mask_prefix + id + suffix, or such a stem + a mask_parts tail) are
    taken out of `images` (class folders that hold their images too: BUSI's benign/)."""
    try:
        parts = re.compile(layout.mask_parts) if layout.mask_parts else None
    except re.error as err:
        raise DataLayoutError(f"{layout.section}.mask_parts {layout.mask_parts!r} is not a "
                              rf"regular expression ({err}); e.g. '_\d+'") from None
    listed = [(k, folder, suffix, _listed(root / folder, layout.mask_extensions, layout,
                                   optional))
              for k, (folder, suffix) in enumerate(zip(layout.mask_dirs, mask_suffixes(layout),
                                                       strict=True), 1)]
    own = [(k, folder, pid, path) for k, folder, suffix, files in listed for stem, path in
           files.items() if (pid := id_of(stem, layout.mask_prefix, suffix)) is not None]
    for _, _, pid, path in own:
        if pid in images and images[pid].resolve() == path.resolve():
            raise DataLayoutError(
                f"{path} would be both an image and a mask of {pid!r} (images and masks share "
                f"folders); set {layout.section}.mask_suffix (e.g. _mask) or image_suffix so "
                "that their names tell them apart")
    taken = {path.resolve() for *_, path in own}
    for pid in [i for i, p in images.items() if p.resolve() in taken]:
        del images[pid]
    found: dict[str, ClassMasks] = {}
    orphans = []
    for k, folder, pid, path in own:
        if pid in images:
            found.setdefault(pid, {})[k] = path
        else:
            orphans.append(f"{folder}/{path.name}")
    for k, _, suffix, files in listed if parts else []:
        for stem, path in files.items():
            if path.resolve() in taken or not stem.startswith(layout.mask_prefix):
                continue
            pid, _ = part_of(stem[len(layout.mask_prefix):], suffix, set(images), parts)
            if pid:
                images.pop(nfc(file_stem(path)), None)  # a further mask, not an image
                have = found.setdefault(pid, {}).get(k, [])
                found[pid][k] = [*([have] if isinstance(have, Path) else have), path]
    return found, orphans


def pair_class_folders(root: Path, layout: Layout, optional: bool = False,
                       ) -> list[tuple[str, Path, ClassMasks]]:
    """(id, image, {class: mask or masks}) for every image with a mask in at least one class
    folder. Masks without an image, and images without a mask in any folder, are refused (or,
    with allow_unpaired, skipped with a warning). `optional`: a missing class folder is that
    class absent (a {group} without it: EndoVis's videos, each with its own instruments)."""
    images = _by_id(root / layout.images, layout.image_extensions, layout,
                    layout.image_prefix, layout.image_suffix)
    found, orphans = _class_masks(root, layout, images, optional)
    problems = []
    if orphans:
        problems.append(f"masks with no image in {root / layout.images}: {listing(orphans)}")
    blanks = [] if layout.missing_mask != "empty" else layout_module("blank").blank_pairs(
        layout, images, set(found), None, PALETTE)
    no_mask = sorted(set(images) - set(found))
    classes = layout.mask_folders == "classes"  # else united, missing parts absent
    if no_mask:
        problems.append(f"images with no mask in any {'class' if classes else 'masks'} folder: "
                        f"{listing([images[i].name for i in no_mask])}")
    if problems and not layout.allow_unpaired:
        raise DataLayoutError(
            "; ".join(problems) + f". Each masks folder is "
            f"{'a class' if classes else 'a part of the masks'} and mask stem = "
            f"mask_prefix + id + that folder's mask_suffix (+ a {layout.section}.mask_parts "
            "tail for further masks); fix the names, or set "
            f"{layout.section}.allow_unpaired: true to skip these files (missing_mask: empty "
            "when an image in no folder is all background)"
        )
    for p in problems:
        log.warning("skipping %s", p)
    if not found:
        raise DataLayoutError(f"no image/mask pairs under {root}; check {layout.section}")
    pairs = [(pid, images[pid], found[pid]) for pid in found]
    return sorted(pairs + blanks, key=lambda p: p[0])


def _cut(values: np.ndarray) -> float:
    """The value a class mask's pixel must exceed to be in the class: 0 for a few labels well
    apart (EndoVis's parts 10/20/30: half of 30 made every shaft background), else half its
    highest value (a JPEG's ringing and anti-aliased edges are no labels)."""
    levels = np.unique(values)
    top = float(levels[-1])
    few = len(levels) <= 16 and len(levels) > 1 and levels[1] >= top / 8
    return 0.0 if few else top / 2


def merge_classes(parts: ClassMasks, dest: Path) -> Path:
    """Write one image's class masks as a palette PNG of class numbers: a pixel is class k
    where class k's mask is not background (any of a few labels well apart, as 0/1, 0/255 or
    EndoVis's 10/20/30 parts; above half its highest value in a lossy mask; a colour mask by
    its brightest channel, as red on black), the later class where two overlap, 0 elsewhere."""
    merged, first = None, None
    for k in sorted(parts):
        for path in parts[k] if isinstance(parts[k], list) else [parts[k]]:
            values, packed = read_mask_values(path)
            if packed:  # a colour on black (IDRiD's red lesions): its brightest channel
                values = unpack_rgb(values).max(axis=-1)
            if merged is None:
                merged, first = np.zeros(values.shape, np.uint8), path
            elif values.shape != merged.shape:
                (h, w), (fh, fw) = values.shape, merged.shape
                raise DataLayoutError(f"{path} is {w}x{h} but {first} is {fw}x{fh}: the masks"
                                      " of one image must have its size; fix or remove the file")
            if values.max() > 0:  # further masks of a class (mask_parts) unite in it
                merged[values > _cut(values)] = k
    write_mask_png(dest, merged, palette=PALETTE)
    return dest
