"""The label mapping of a data set: the class values from the config or from what the masks
hold, the masks' palette (palette masks) or bit depth (16-bit grey), checked across all masks."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from unet.cache.palette_threshold import thresholded_palette
from unet.cache.palettes import check_palettes
from unet.cache.tolerance import refuse_tolerance_on_palettes
from unet.cache.values import mapping_from_values
from unet.common.bad_files import as_mask_error, kept, raise_all
from unet.common.imageio import GREY16, GREY_MODES, ImageReadError, open_image
from unet.common.labels import MaskMapping, MaskValueError, colour_of, given_names
from unet.common.maskio import mask_header, mask_palette, read_mask, read_mask_values
from unet.common.parallel import parallel_map

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from unet.cache.settings import PreprocessSettings


def choose_mapping(pairs: list[dict], settings: PreprocessSettings, processes: int) -> MaskMapping:
    """The label mapping, and the first mask's palette when the masks are palette indices, or
    their bit depth when they are 16-bit grey (written masks keep it)."""
    masks = [p["mask"] for p in pairs]
    # Each header once: its mode (16-bit grey?) and its palette (checked below)
    headers = list(parallel_map(mask_header, masks, processes, "read mask headers"))
    wide = [mode in GREY16 for mode, *_ in headers]
    deep = any(wide)  # 16-bit masks: foreground 65535
    mapping = replace(
        _values_mapping(pairs, settings, processes, wide, [h[0] == "1" for h in headers]),
        background=settings.mask_background
    )
    if mapping.rgb:
        _refuse_grey_for_colours(mapping, masks, [h[0] for h in headers])
        return mapping
    _refuse_unwritable(mapping.values, masks[0])
    # 1-bit masks (bool arrays saved by scikit-image, tifffile) read as 0/255: written 1-bit
    one_bit = all(mode == "1" for mode, *_ in headers) and set(mapping.values) <= {0, 255}
    mapping = replace(mapping, bits=16 if deep else 1 if one_bit else 8)
    if mapping.threshold is not None:  # binarised by brightness: (0, top), or palette indices
        return thresholded_palette(mapping, masks, headers, bool(settings.mask_values))
    refuse_tolerance_on_palettes(mapping.tolerance, masks, [h[1] for h in headers])
    palette = check_palettes(masks, mapping, [h[1] for h in headers])
    # the first mask's transparency, as its palette: written masks show as the data's do
    return replace(mapping, palette=palette, alpha=headers[0][2] if palette else None)


def _refuse_grey_for_colours(mapping: MaskMapping, masks: list[str], modes: list[str]) -> None:
    """Refuse masks.colors that lists colours no grey mask holds when every mask is grey: class
    indices (the Semantic Drone Dataset's label_images_semantic beside its colour masks) read
    with the colour table, which failed on every file as unlisted (1, 1, 1), (2, 2, 2)."""
    grey = {v for v in mapping.values if len(set(colour_of(v))) == 1}
    if len(grey) == len(mapping.values) or not all(m in GREY_MODES for m in modes):
        return
    listed = ", ".join(str(i) for i in range(mapping.num_classes))
    raise MaskValueError(
        f"masks.colors (or masks.labelmap) lists colours, but every mask is grey (e.g. "
        f"{masks[0]}): grey levels cannot hold them. Point dataset.local.masks at the colour "
        f"masks, or, where the grey masks hold class indices, give masks.values: [{listed}] "
        "with masks.names in place of masks.colors and masks.labelmap"
    )


def _refuse_unwritable(values: tuple[int, ...], example: str) -> None:
    """Refuse class values a mask PNG cannot hold (written masks carry each class's value)."""
    bad = [v for v in values if not 0 <= v <= 65535]
    if bad:
        raise MaskValueError(
            f"class value {bad[0]} cannot be written back: a mask PNG holds 0-65535 (masks such "
            f"as {example}); if it marks unlabelled pixels, set masks.ignore: {bad[0]} (the "
            f"loss and the metrics skip them); else save the masks with values in that range, "
            f"or list the value after one that is in it (masks.values: [..., [1, {bad[0]}]] "
            f"writes that class as 1)"
        )


def _values_mapping(
    pairs: list[dict], settings: PreprocessSettings, processes: int, wide: list[bool],
    bilevel: list[bool],
) -> MaskMapping:
    """The label mapping from the config, or from the values the masks hold."""
    masks = [p["mask"] for p in pairs]
    deep = any(wide)
    chosen = settings.mask_rgb or settings.mask_values or settings.mask_threshold is not None
    if chosen or settings.mask_unlisted:  # (unlisted without values: refused there)
        return mapping_from_values(
            set(),
            list(settings.mask_values) if settings.mask_values else None,
            settings.mask_threshold,
            settings.max_mask_values,
            ignore_value(settings.mask_ignore, settings.mask_rgb, masks[0]),
            rgb=settings.mask_rgb,
            top=65535 if deep else 255,
            unlisted=settings.mask_unlisted,
            tolerance=settings.mask_tolerance,
        )
    scans = list(parallel_map(_scan_mask, masks, processes, "scan mask values"))
    raise_all([(m, v) for (v, _), m in zip(scans, masks, strict=True)
               if isinstance(v, ImageReadError)], "masks cannot be read")
    colour = any(packed for _, packed in scans)
    found: set[int] = set()
    for (values, packed), path in zip(scans, masks, strict=True):
        # In a colour data set, a file read as grey must be read again as colours.
        found |= _colour_values(path) if colour and not packed else values
    if len(found) == 1:
        _refuse_alpha_labels(masks[0])
    _refuse_two_full_scales(scans, masks, wide)
    _refuse_bilevel_beside_grey(scans, masks, bilevel)
    lossy = [m for m in masks if Path(m).suffix.lower() in (".jpg", ".jpeg", ".jpe", ".jfif")]
    if lossy and len(found) > 2:
        shown = [colour_of(v) if colour else v for v in sorted(found)[:8]]  # not 0xRRGGBB
        raise MaskValueError(
            f"{lossy[0]} ({len(lossy)} of the masks) is a JPEG, whose lossy compression invents "
            f"values at the edges: the masks hold {len(found)}{' colours' if colour else ''} "
            f"({', '.join(map(str, shown))}{', ...' if len(found) > 8 else ''}), and each "
            "would become a class. Set masks.threshold: 127 to binarise them by brightness, or "
            "save the masks losslessly (PNG)"
        )
    most = sorted(zip(scans, masks, strict=True), key=lambda s: -len(s[0][0]))[:3]
    what = "colours" if colour else "values"
    where = "; the most in " + ", ".join(f"{m} ({len(v)} {what})" for (v, _), m in most)
    return mapping_from_values(
        found, None, None, settings.max_mask_values,
        ignore_value(settings.mask_ignore, colour, masks[0]), rgb=colour, where=where,
    )


def _refuse_two_full_scales(
    scans: list[tuple[set[int], bool]], masks: list[str], wide: list[bool]
) -> None:
    """Refuse 8-bit masks holding 255 beside 16-bit ones holding 65535: each its depth's full
    scale, most likely one class, which detection would make two."""
    eight = next((m for (v, _), m, w in zip(scans, masks, wide, strict=True)
                  if not w and 255 in v), None)
    sixteen = next((m for (v, _), m, w in zip(scans, masks, wide, strict=True)
                    if w and 65535 in v), None)
    if eight and sixteen:
        found = sorted(set().union(*(v for v, _ in scans)) - {255, 65535})
        listed = ", ".join(str(v) for v in found)
        raise MaskValueError(
            f"8-bit masks hold 255 (e.g. {eight}) and 16-bit masks hold 65535 (e.g. {sixteen}), "
            "each its bit depth's full scale: if they mark the same class, give both as one, "
            f"masks.values: [{listed}, [255, 65535]]; else save the masks at one bit depth"
        )


def _refuse_bilevel_beside_grey(
    scans: list[tuple[set[int], bool]], masks: list[str], bilevel: list[bool]
) -> None:
    """Refuse 1-bit masks (read as 0/255) beside grey ones whose one foreground value is not
    255 (a mask saved 0/1): one class, which detection would make two (and its 255 looks like
    a void value to ignore, which would drop every 1-bit mask's foreground). Not beside colour
    masks: their packed colours are no grey values, and a 1-bit mask is read as colours there."""
    if any(packed for _, packed in scans):
        return
    one = next((m for m, b in zip(masks, bilevel, strict=True) if b), None)
    grey = [(v, m) for (v, _), m, b in zip(scans, masks, bilevel, strict=True) if not b]
    held = set().union(*(v for v, _ in grey)) - {0} if grey else set()
    if one is None or len(held) != 1 or 255 in held:
        return
    value, example = held.pop(), next(m for v, m in grey if v - {0})
    raise MaskValueError(
        f"1-bit masks (e.g. {one}) hold 0/255 and other masks hold 0/{value} (e.g. {example}): "
        f"if both mark the same class, give them as one, masks.values: [0, [255, {value}]]; "
        "else save the masks alike"
    )


def _refuse_alpha_labels(path: str) -> None:
    """All masks read as one value: refuse, naming it, when the first mask's alpha channel
    holds the labels (strokes on a transparent layer), which the mask values leave out."""
    im = open_image(path)
    if "A" not in im.getbands():
        return
    alpha = np.unique(np.asarray(im.getchannel("A")))
    if len(alpha) > 1:
        raise MaskValueError(
            f"every mask reads as one value, but {path} holds {len(alpha)} values in its alpha "
            f"channel ({alpha.min()} to {alpha.max()}): the labels were drawn on a transparent "
            "layer. Save the masks with the alpha channel as their grey values (e.g. ImageMagick "
            "`magick in.png -alpha extract out.png`)"
        )


def ignore_value(
    ignore: int | tuple[int, ...] | None, rgb: bool, example: str | None = None
) -> int | None:
    """masks.ignore in the masks' value space: for colour masks a packed 0xRRGGBB, from
    [r, g, b] or from a grey level g, which colour masks hold as (g, g, g). A colour for
    palette masks (`example`, the first) is refused, naming the index that shows it."""
    if ignore is None or (isinstance(ignore, int) and not rgb):
        return ignore
    r, g, b = (ignore,) * 3 if isinstance(ignore, int) else ignore
    if rgb:
        return (r << 16) | (g << 8) | b
    if r == g == b:
        return r
    palette = mask_palette(example) if example else None
    shown = [i for i in range(len(palette or ()) // 3) if palette[3 * i : 3 * i + 3] == (r, g, b)]
    if shown:
        raise MaskValueError(
            f"masks.ignore {list(ignore)} is a colour, but the masks hold palette indices: "
            f"{example} shows it as index {shown[0]}; set masks.ignore: {shown[0]}"
        )
    raise MaskValueError(
        f"masks.ignore {list(ignore)} is a colour, but the masks hold grey levels; give the "
        "grey value to skip (an integer)"
    )


def _scan_mask(path: str) -> tuple[set[int] | ImageReadError, bool]:
    """The distinct raw values of one mask, and whether they are packed colours; or the
    error that it cannot be read, kept so that every such mask is named at once."""
    try:
        values, packed = read_mask_values(path)
    except ImageReadError as err:
        return kept(as_mask_error(err)), False
    return set(np.unique(values).tolist()), packed


def _colour_values(path: str) -> set[int]:
    return set(np.unique(read_mask(path, colour=True)).tolist())


def class_names(
    given: tuple[str, ...] | None, found: dict[str, str] | None, mapping: MaskMapping
) -> list[str | None] | None:
    """Each class's name: masks.names (one per class, or refused), else the names the data
    gave its values (COCO categories, class folders: the manifest's class_names), else None."""
    if given:
        return given_names(given, mapping)
    names = [(found or {}).get(str(v)) for v in mapping.values]
    return names if any(names) else None
