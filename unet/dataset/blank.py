"""Images without a mask file taken as all background (`missing_mask: empty`): MVTec AD's
defect-free `good/` images come without masks, and making blank ones by hand is a chore that
a wrong size or bit depth turns into an error later. Such an image's mask is written as zeros
at its size under merged_masks/, so every later step reads it as any other mask."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet.common.maskio import mask_header, write_mask_png
from unet.dataset.layout import Layout, files_by_stem
from unet.dataset.names import id_of


@dataclass(frozen=True)
class BlankMask:
    """No mask file: class 0 everywhere. `like`: a mask of the data whose kind (grey, 16-bit,
    1-bit, palette, colour) the zeros take; `palette`: its colours, for class numbers as
    class folders are merged into."""

    like: Path | None = None
    palette: tuple[int, ...] | None = None
    value: int | tuple[int, int, int] = 0  # class 0 in the data: a grey value or a colour


def empty(layout: Layout) -> bool:
    """Whether an image without a mask is all background rather than unpaired."""
    return layout.missing_mask == "empty"


def blank_background(settings: dict, masks: dict) -> int | tuple[int, int, int] | None:
    """Class 0's value (masks.values) or colour (masks.colors) when it is not 0 or black and
    a source's `settings` make blank masks, for them to read as background; else None (the
    download's params stay as they were where no blank needs it)."""
    if settings.get("missing_mask") != "empty":
        return None
    if colours := masks.get("colors"):
        first = colours[0][0] if isinstance(colours[0][0], list) else colours[0]
        return tuple(first) if any(first) else None
    if values := masks.get("values"):
        first = values[0][0] if isinstance(values[0], list) else values[0]
        return first or None
    return None


def blank_pairs(
    layout: Layout, images: dict[str, Path], masked: set[str], like: Path | None,
    palette: tuple[int, ...] | None = None,
) -> list[tuple[str, Path, BlankMask]]:
    """(id, image, BlankMask) of every image in `images` not in `masked`, taken out of
    `images`, with missing_mask 'empty'; none otherwise (they are then unpaired)."""
    if not empty(layout):
        return []
    return [(i, images.pop(i), BlankMask(like, palette)) for i in sorted(set(images) - masked)]


def unmasked_group(root: Path, layout: Layout) -> list[tuple[str, Path, BlankMask]]:
    """Every image of a group whose masks folder is missing, all background."""
    found = files_by_stem(root / layout.images, layout.image_extensions, layout.recursive)
    named = ((id_of(s, layout.image_prefix, layout.image_suffix), p) for s, p in found.items())
    return blank_pairs(layout, {i: p for i, p in named if i is not None}, set(), None)


def write_blank_mask(blank: BlankMask, _image: Path, size: tuple[int, int], dest: Path) -> Path:
    """Write class 0 of `blank` (its value, else zeros) at `size` (W, H), in its model
    mask's kind (RGB for a colour)."""
    w, h = size
    mode, palette, alpha = mask_header(blank.like) if blank.like else ("L", None, None)
    palette = blank.palette or palette
    rgb = mode.startswith("RGB") or isinstance(blank.value, tuple)
    value = blank.value
    if isinstance(value, tuple):  # packed 0xRRGGBB, as write_mask_png takes colours
        value = (value[0] << 16) | (value[1] << 8) | value[2]
    elif rgb:
        value *= 0x010101  # a grey value in a colour mask
    wide = mode.startswith("I") and not mode.startswith("I;8") or value > 255  # 16-bit grey
    dtype = np.uint32 if rgb else np.uint16 if wide else np.uint8
    write_mask_png(dest, np.full((h, w), value, dtype), rgb=rgb, palette=palette,
                   alpha=None if blank.palette else alpha, bits=1 if mode == "1" else 8)
    return dest
