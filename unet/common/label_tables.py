"""Lookup tables from a mask's raw values (8- or 16-bit grey, packed colours) to class indices,
and class counts of index masks: the array side of the label mapping (unet.common.labels)."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from unet.common.labels import MaskMapping

IGNORE_INDEX = 255  # class index of pixels the loss and the metrics skip (so <= 255 classes)
UNKNOWN = 256  # a lookup table's entry for values the mapping does not know
_TABLE_LIMIT = 1 << 24  # widest table: every packed 0xRRGGBB colour (32 MB of uint16)


def class_counts(index: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """(256,) int64 count of each class index in `index` (uint8), a chunk at a time:
    np.bincount widens its whole input to int64 (8 bytes a pixel) first."""
    flat = np.asarray(index).reshape(-1)
    counts = np.zeros(256, np.int64)
    for start in range(0, flat.size, chunk):
        counts += np.bincount(flat[start : start + chunk], minlength=256)
    return counts


def table_size(raw: np.ndarray) -> int | None:
    """Entries a lookup table needs for `raw`: every value of its 8- or 16-bit type, or up to
    its largest value (a power of two, so masks share tables); None when a value is negative
    or wider than 24 bits (looked up by search instead)."""
    if raw.dtype.kind == "u" and raw.dtype.itemsize <= 2:
        return 1 << (8 * raw.dtype.itemsize)
    if raw.dtype.kind not in "ui":
        return None
    if raw.size == 0:
        return 256
    lo, hi = int(raw.min()), int(raw.max())
    if lo < 0 or hi >= _TABLE_LIMIT:
        return None
    return max(256, 1 << hi.bit_length())


@functools.lru_cache(maxsize=8)
def lookup_table(mapping: MaskMapping, size: int | None) -> np.ndarray | None:
    """(size,) uint16: each raw value's class index, IGNORE_INDEX for the ignore value,
    UNKNOWN for values the mapping does not know (read-only, shared)."""
    if size is None:
        return None
    table = np.full(size, IGNORE_INDEX if mapping.skip_unlisted else UNKNOWN, np.uint16)
    values = mapping.values
    if mapping.threshold is not None and mapping.rgb:  # each channel binarised
        _snapped_colours(table, values, mapping.threshold)
    elif mapping.threshold is not None:  # every value is one of the two classes
        table[:] = values.index(min(values))
        table[max(math.floor(mapping.threshold) + 1, 0) :] = values.index(max(values))
    else:
        for v, i in reversed(mapping.value_classes()):  # the first class of a repeated value
            table[_near(v, mapping.tolerance, mapping.rgb, size)] = i
    if mapping.ignore is not None:
        table[_near(mapping.ignore, mapping.tolerance, mapping.rgb, size)] = IGNORE_INDEX
    table.setflags(write=False)
    return table


def _snapped_colours(table: np.ndarray, values: tuple[int, ...], threshold: int) -> None:
    """Fill a table over packed colours: each colour's channels binarised at `threshold`
    (above: 255) give the class of that 0/255 colour."""
    packed = np.arange(len(table), dtype=np.uint32)
    snapped = np.zeros(len(table), np.uint32)
    for shift in (16, 8, 0):
        snapped |= np.where((packed >> shift) & 255 > threshold, 255 << shift, 0).astype(np.uint32)
    for i, v in reversed(list(enumerate(values))):
        table[snapped == v] = i


def _near(value: int, tolerance: int, rgb: bool, size: int) -> np.ndarray:
    """Table entries within `tolerance` of `value` (masks.tolerance): grey levels, or packed
    colours within it in every channel (a box around the colour); those below `size`."""
    if value < 0:
        return np.empty(0, np.int64)
    if not rgb:
        near = np.arange(max(value - tolerance, 0), value + tolerance + 1)
        return near[near < size]
    # (r, g, b) ranges, clipped to 0..255, broadcast into the box's packed colours
    axes = [np.arange(max(c - tolerance, 0), min(c + tolerance, 255) + 1, dtype=np.int64)
            for c in ((value >> 16) & 255, (value >> 8) & 255, value & 255)]
    box = (axes[0][:, None, None] << 16 | axes[1][None, :, None] << 8 | axes[2]).reshape(-1)
    return box[box < size]
