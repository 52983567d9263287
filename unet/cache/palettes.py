"""Palette masks (GIF, palette PNG) are read as indices: their colour tables must agree."""

from __future__ import annotations

from unet.common.labels import MaskMapping, MaskValueError
from unet.common.maskio import mask_palette


def _colour(palette: tuple[int, ...] | None, value: int) -> tuple[int, ...] | None:
    """How a mask shows `value`: its palette entry, or grey (v, v, v) in a mask without one;
    None where the file cannot hold it."""
    if palette is None:
        return (value,) * 3 if value <= 255 else None
    return tuple(palette[3 * value : 3 * value + 3]) if 3 * value + 3 <= len(palette) else None


def check_palettes(masks: list[str], mapping: MaskMapping) -> None:
    """Refuse masks whose palettes (colour tables) show a class value in another colour than
    the first mask does: read as indices, their classes would swap without a word (a tool
    that builds each file's palette can put white at index 0 in one mask, black in the next).
    Only the class values are compared; a mask without a palette shows v as (v, v, v)."""
    if mapping.rgb or mapping.threshold is not None:
        return  # read by colour, or binarised by brightness: not indices
    values = [v for v, _ in mapping.value_classes()]
    values += [] if mapping.ignore is None else [mapping.ignore]
    reference = None
    for path in masks:
        palette = mask_palette(path)
        if reference is None:
            reference = (path, {v: _colour(palette, v) for v in values})
            continue
        first, shown = reference
        for v in values:
            a, b = shown[v], _colour(palette, v)
            if a is not None and b is not None and a != b:
                colours = [list(shown[u]) for u in mapping.values if shown[u] is not None]
                raise MaskValueError(
                    f"mask {path} shows value {v} as {b}, but {first} shows it as {a}: their "
                    "palettes (colour tables) differ, so one index means different classes. "
                    f"Read the masks by colour instead, masks.colors: {colours} (the classes "
                    "in the first mask's colours), or save every mask with one palette"
                )
