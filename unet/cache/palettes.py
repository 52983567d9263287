"""Palette masks (GIF, palette PNG) are read as indices: their colour tables must agree."""

from __future__ import annotations

import numpy as np

from unet.common.bad_files import listed
from unet.common.labels import MaskMapping, MaskValueError
from unet.common.maskio import mask_palette, read_mask_values


def _colour(palette: tuple[int, ...] | None, value: int) -> tuple[int, ...] | None:
    """How a mask shows `value`: its palette entry, or grey (v, v, v) in a mask without one;
    None where the file cannot hold it."""
    if palette is None:
        return (value,) * 3 if value <= 255 else None
    return tuple(palette[3 * value : 3 * value + 3]) if 3 * value + 3 <= len(palette) else None


SHOWN_LIMIT = 500  # masks read for the colours they show, when palettes clash


def check_palettes(
    masks: list[str], mapping: MaskMapping, palettes: list[tuple[int, ...] | None] | None = None
) -> tuple[int, ...] | None:
    """Refuse masks whose palettes (colour tables) show a class value in another colour than
    the first mask does: read as indices, their classes would swap without a word (a tool
    that builds each file's palette can put white at index 0 in one mask, black in the next).
    Only the class values are compared; a mask without a palette shows v as (v, v, v).

    Returns the palette written masks get: the first mask's, with each class value beyond
    its end in the colour the first mask that has it shows (palettes cut to the indices each
    file holds, as optimised PNGs and GIFs have them); None when the first mask has none.
    `palettes`: each mask's mask_palette, when its header was read already."""
    if mapping.rgb or mapping.threshold is not None:
        return None  # read by colour, or binarised by brightness: not indices
    values = [v for v, _ in mapping.value_classes()]
    values += [] if mapping.ignore is None else [mapping.ignore]
    palettes = palettes if palettes is not None else [mask_palette(m) for m in masks]
    palette = palettes[0]
    written = list(palette) if palette is not None else None
    shown = {v: _colour(palette, v) for v in values}
    for palette in palettes[1:]:
        for v in values:
            a, b = shown[v], _colour(palette, v)
            if a is not None and b is not None and a != b:
                # An entry may be filler in a file that holds no such pixel (a GIF's colour
                # table is cut to a power of two and filled with black): decide by the files
                # that hold each value.
                return _check_held(masks, values, written)
            if a is None and b is not None:
                shown[v] = b
                _extend(written, v, b)
    return tuple(written) if written is not None else None


def _check_held(
    masks: list[str], values: list[int], written: list[int] | None
) -> tuple[int, ...] | None:
    """check_palettes by the masks' pixels: each value's colour in the files that hold it must
    agree; refused otherwise, every mask named under the palette it follows (a data set
    exported by two tools has many of each). The written palette shows each value so."""
    groups: list[tuple[dict, dict, list[str]]] = []  # (value -> colour, colour -> value, masks)
    for path in masks:
        palette = mask_palette(path)
        held = sorted(set(np.unique(read_mask_values(path)[0]).tolist()) & set(values))
        shows = {v: c for v in held if (c := _colour(palette, v)) is not None}
        # a colour of two values is a clash too (0/255 grey beside a 0/1 palette: one class)
        group = next((g for g in groups if all(g[0].get(v, c) == c and g[1].get(c, v) == v
                                               for v, c in shows.items())), None)
        if group is None:
            group = ({}, {}, [])
            groups.append(group)
        group[0].update(shows)
        group[1].update({c: v for v, c in shows.items()})
        group[2].append(path)
    if len(groups) > 1:
        raise MaskValueError(_clash(groups) + _fix(masks, groups[1][2][0], groups[0][2][0]))
    for v, colour in (groups[0][0] if groups else {}).items():
        if written is not None:
            _extend(written, v, colour)
            written[3 * v : 3 * v + 3] = colour
    return tuple(written) if written is not None else None


PALETTES_SHOWN = 4  # palettes whose masks are named; masks of the rest are counted


def _clash(groups: list[tuple[dict, dict, list[str]]]) -> str:
    """The masks of each palette, the first mask's first, as the colours their values show."""
    lines = [f"the masks follow {len(groups)} palettes (colour tables) that disagree: one index "
             "shows different colours (different classes), or two show one colour (a class "
             "with two indices):"]
    for shows, _, paths in groups[:PALETTES_SHOWN]:
        colours = ", ".join(f"value {v} as {c}" for v, c in sorted(shows.items()))
        lines += [f"  {len(paths)} mask(s) show {colours}:", *(
            f"  {line}" for line in listed(paths, "mask(s)"))]
    rest = [p for g in groups[PALETTES_SHOWN:] for p in g[2]]
    if rest:
        lines.append(f"  ... and {len(rest)} mask(s) of {len(groups) - PALETTES_SHOWN} other "
                     "palettes")
    return "\n".join(lines) + "\n"


def _extend(palette: list[int] | None, value: int, colour: tuple[int, ...]) -> None:
    """Give `value` its colour in a palette too short to hold it (black between)."""
    if palette is None or 3 * value < len(palette):
        return
    palette += [0] * (3 * value - len(palette)) + list(colour)


def _fix(masks: list[str], path: str, first: str) -> str:
    """How to read masks whose palettes clash: by the colours they show (every colour some
    mask shows, a class each), unless a mask without a palette shows grey levels that no
    palette mask shows (VOC indices saved as grey): it needs the others' palette."""
    shown, paletted, grey = {}, set(), []
    for mask in dict.fromkeys([first, path, *masks[:SHOWN_LIMIT]]):  # the error path only
        palette = mask_palette(mask)
        values = np.unique(read_mask_values(mask)[0]).tolist()
        shown[mask] = {_colour(palette, v) for v in values} - {None}
        if palette is not None:
            paletted |= shown[mask]
        else:
            grey.append(mask)
    grey = [m for m in grey if shown[m] - paletted]
    if grey and paletted:
        return (f"{grey[0]} has no palette: its values show as grey "
                f"{sorted(shown[grey[0]] - paletted)[:4]}, which no palette mask shows. Save it "
                "with the palette of the others (or every mask as grey class values)")
    colours = [list(c) for c in sorted(set().union(*shown.values()))]
    return (f"Read the masks by colour instead, masks.colors: {colours} (every colour the masks "
            "show, a class each), or save every mask with one palette")
