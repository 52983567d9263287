"""Palette masks binarised by masks.threshold: predictions written back as palette indices the
data holds, with its palette, not as grey 0/255 (which DAVIS's tools read as index 255, void)."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
from PIL import Image

from unet.common.labels import MaskMapping
from unet.common.maskio import Alpha, luminance_of, read_mask_values

log = logging.getLogger(__name__)

Header = tuple[str, tuple[int, ...] | None, Alpha]  # (mode, palette, alpha): mask_header's


def index_luminance(palette: tuple[int, ...]) -> np.ndarray:
    """(256,) float32: the brightness each palette index reads as under a threshold, computed
    by the very conversion that reads the masks (maskio.luminance_of), so both agree."""
    im = Image.fromarray(np.arange(256, dtype=np.uint8).reshape(1, 256), "L").convert("P")
    im.putpalette(tuple(palette[:768]) + (0,) * max(0, 768 - len(palette)))
    return luminance_of(im)[0]


def thresholded_palette(mapping: MaskMapping, masks: list[str], headers: list[Header],
                        listed: bool) -> MaskMapping:
    """`mapping` (masks.threshold) written in the palette masks' own values: background index
    0, foreground the smallest index the masks hold that reads above the threshold (DAVIS's
    object 1, its red), with the palette of the first mask holding it; listed masks.values
    as listed, with a palette that reads them back as their classes (listed_palette).

    Unchanged (grey 0/255) where a mask has no palette, where index 0 reads above the
    threshold or is masks.ignore, or where no mask holds an index above it. Masks are read in
    order (the training split's first) until one holds the lowest index any palette shows
    above the threshold: DAVIS reads one."""
    if mapping.rgb or mapping.threshold is None or mapping.bits != 8:
        return mapping
    if not masks or any(palette is None for _, palette, _ in headers):
        return mapping
    if listed:
        return listed_palette(mapping, headers)
    # a table per distinct palette, not per mask: a data set's masks mostly share one
    # (DAVIS's 3455 frames), and each table costs a conversion (about 0.2 ms)
    tables = {palette: _bright(palette, mapping) for palette in {h[1] for h in headers}}
    bright = [tables[palette] for _, palette, _ in headers]
    if any(b is None for b in bright):
        return mapping  # index 0 is no background in some palette
    lowest = min((int(np.argmax(b)) for b in bright if b.any()), default=None)
    if lowest is None:
        return mapping
    best: tuple[int, int] | None = None  # (index, which mask's palette shows it)
    for pos, (path, above) in enumerate(zip(masks, bright, strict=True)):
        held = np.unique(read_mask_values(path)[0])
        held = held[(held < 256) & above[held.clip(0, 255)]]
        if held.size and (best is None or int(held[0]) < best[0]):
            best = (int(held[0]), pos)
        if best is not None and best[0] == lowest:
            break
    if best is None:
        return mapping
    _, palette, alpha = headers[best[1]]
    log.info("masks.threshold on palette masks: foreground written as index %d, shown %s as in "
             "%s", best[0], tuple(palette[3 * best[0] : 3 * best[0] + 3]), masks[best[1]])
    return replace(mapping, values=(0, best[0]), palette=palette, alpha=alpha)


def listed_palette(mapping: MaskMapping, headers: list[Header]) -> MaskMapping:
    """Listed masks.values (two palette indices) with the palette of the first mask whose
    table shows the lower one at or below the threshold and the higher one above it: written
    masks are read back by their colours' brightness, so a value shown on the wrong side
    (VOC's 255, 218 bright, under masks.threshold 230) would read as the other class. No such
    palette: unchanged (grey), which reads back as written."""
    low, high = sorted(mapping.values)
    # each distinct palette once, in mask order, with the first mask's alpha (DAVIS's frames
    # share one palette; each test costs a conversion)
    first: dict[tuple[int, ...] | None, Alpha] = {}
    for _, palette, alpha in headers:
        first.setdefault(palette, alpha)
    for palette, alpha in first.items():
        if palette is None or 3 * high + 3 > len(palette):
            continue  # a table cut short of the value (optimised PNGs, GIFs): no colour for it
        shade = index_luminance(palette)
        if shade[low] <= mapping.threshold < shade[high]:
            return replace(mapping, palette=palette, alpha=alpha)
    log.info("masks.threshold with masks.values %s on palette masks: written as grey levels, "
             "as no mask's palette shows %d at or below the threshold and %d above it",
             list(mapping.values), low, high)
    return mapping


def _bright(palette: tuple[int, ...], mapping: MaskMapping) -> np.ndarray | None:
    """(256,) bool: the indices that read as foreground (above the threshold, not masks.ignore);
    None where index 0 does not read as background."""
    bright = index_luminance(palette) > mapping.threshold
    if bright[0] or mapping.ignore == 0:
        return None
    if mapping.ignore is not None and 0 <= mapping.ignore < 256:
        bright[mapping.ignore] = False
    return bright
