"""The label mapping: the data's mask values (grey, colour, thresholded) to class indices and back.

Every reading of a target mask and every writing of a predicted one goes through MaskMapping,
so that preprocessing, tuning, evaluation, prediction and the report agree on what a value means.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from unet.common.maskio import read_mask, write_mask_png

IGNORE_INDEX = 255  # class index of pixels the loss and the metrics skip (so <= 255 classes)


_CHUNK = 1 << 20  # pixels mapped at a time
_UNKNOWN = 256  # a lookup table's entry for values the mapping does not know
_TABLE_LIMIT = 1 << 24  # widest table: every packed 0xRRGGBB colour (32 MB of uint16)


def colour_of(value: int) -> tuple[int, int, int]:
    """A packed 0xRRGGBB class value as (r, g, b)."""
    return ((value >> 16) & 255, (value >> 8) & 255, value & 255)


class MaskValueError(ValueError):
    """A mask holds values the mapping does not know, or looks lossy."""


@dataclass(frozen=True)
class MaskMapping:
    """Class index i is stored in the data as `values[i]`; `ignore` is skipped.

    With `threshold` (two values), a raw value above it reads as the higher of the two values,
    any other as the lower: anti-aliased or JPEG masks binarise, and predictions are written
    back in the data's own two values (e.g. 0/255), not as 0/1. With colours (`rgb`), each
    channel above it reads as 255, any other as 0: near colours snap to classes of 0/255.
    """

    values: tuple[int, ...]
    ignore: int | None = None  # value of "don't care" pixels (e.g. Pet trimap borders)
    rgb: bool = False  # values are packed 0xRRGGBB colours (colour masks)
    threshold: int | None = None  # binarise raw values (grey levels or luminance)
    # Palette masks (GIF, palette PNG): values are indices into this flat (r, g, b, ...) table,
    # and written masks carry it, so they look as the data's own do.
    palette: tuple[int, ...] | None = None
    bits: int = 8  # grey masks' bit depth in the data (16: uint16 label TIFFs); written alike

    @property
    def num_classes(self) -> int:
        return len(self.values)

    def read(self, path: str | os.PathLike) -> np.ndarray:
        """A mask file's raw values (H, W) in this mapping's value space."""
        return read_mask(path, colour=self.rgb, luminance=self.threshold is not None)

    def read_index(self, path: str | os.PathLike, what: str = "mask") -> np.ndarray:
        """A mask file as class indices (H, W) uint8; `what` names it in errors."""
        return self.to_index(self.read(path), source=f"{what} {path}")

    def to_index(self, raw: np.ndarray, source: str = "mask") -> np.ndarray:
        """Map raw values (H, W) to class indices, refusing values not in the mapping.

        Through a lookup table (every 8- or 16-bit value, or packed colour, to its class), a
        chunk of pixels at a time: about 1 byte a pixel at any image size."""
        raw = np.asarray(raw)
        if raw.dtype == np.bool_:
            raw = raw.view(np.uint8)  # a bool array would select, not look up
        table = _lookup_table(self, _table_size(raw))
        flat, out, bad = raw.reshape(-1), np.empty(raw.size, np.uint8), set()
        for start in range(0, flat.size, _CHUNK):
            part = flat[start : start + _CHUNK]
            idx = table[part] if table is not None else self._searched(part)
            unknown = idx == _UNKNOWN
            if unknown.any():
                bad.update(np.unique(part[unknown])[:8].tolist())
            out[start : start + _CHUNK] = idx
        if bad:
            raise MaskValueError(
                f"{source} holds values {self.describe(sorted(bad)[:8])} that are not in the "
                f"mask mapping {self.describe(list(self.values))}; add them to masks.values "
                "(or masks.colors, or masks.ignore), or set masks.threshold"
            )
        return out.reshape(raw.shape)

    def _searched(self, part: np.ndarray) -> np.ndarray:
        """Class indices (uint16, _UNKNOWN where not in the mapping) of values no table holds
        (negative, or wider than 24 bits), by binary search."""
        part = part.astype(np.int64)
        ignored = part == self.ignore if self.ignore is not None else None
        if self.threshold is not None:
            part = np.where(part > self.threshold, max(self.values), min(self.values))
        keys = np.asarray(self.values, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        pos = np.searchsorted(keys[order], part).clip(0, len(keys) - 1)
        idx = np.where(keys[order][pos] == part, order[pos], _UNKNOWN).astype(np.uint16)
        if ignored is not None:
            idx[ignored] = IGNORE_INDEX
        return idx

    def to_values(self, index: np.ndarray) -> np.ndarray:
        """Map class indices back to the data's own values (grey values or packed colours)."""
        top = max(self.values)
        wide = top > 255 or self.bits == 16
        dtype = np.uint32 if self.rgb else np.uint16 if wide else np.uint8
        return np.asarray(self.values, dtype=dtype)[index]

    def write(self, path: str | os.PathLike, index: np.ndarray) -> None:
        """Write class indices (H, W) as a mask PNG in the data's values: the one writer of
        every predicted, refined or final mask."""
        self.write_values(path, self.to_values(index))

    def write_values(self, path: str | os.PathLike, values: np.ndarray) -> None:
        """Write a mask already in the data's values (from `to_values`) as a PNG."""
        write_mask_png(path, values, rgb=self.rgb, palette=self.palette)

    def describe(self, values: list[int]) -> str:
        """Values as the user wrote them: grey levels, or (r, g, b) for colour masks."""
        if self.rgb:
            return str([colour_of(v) for v in values])
        return str(values)

    def labels(self) -> list[str]:
        """Each class's value as the config writes it: a grey level, or [r, g, b]."""
        return [str(list(colour_of(v)) if self.rgb else v) for v in self.values]


def class_counts(index: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """(256,) int64 count of each class index in `index` (uint8), a chunk at a time:
    np.bincount widens its whole input to int64 (8 bytes a pixel) first."""
    flat = np.asarray(index).reshape(-1)
    counts = np.zeros(256, np.int64)
    for start in range(0, flat.size, chunk):
        counts += np.bincount(flat[start : start + chunk], minlength=256)
    return counts


def _table_size(raw: np.ndarray) -> int | None:
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
def _lookup_table(mapping: MaskMapping, size: int | None) -> np.ndarray | None:
    """(size,) uint16: each raw value's class index, IGNORE_INDEX for the ignore value,
    _UNKNOWN for values the mapping does not know (read-only, shared)."""
    if size is None:
        return None
    table = np.full(size, _UNKNOWN, np.uint16)
    values = mapping.values
    if mapping.threshold is not None and mapping.rgb:  # each channel binarised
        _snapped_colours(table, values, mapping.threshold)
    elif mapping.threshold is not None:  # every value is one of the two classes
        table[:] = values.index(min(values))
        table[max(mapping.threshold + 1, 0) :] = values.index(max(values))
    else:
        for i, v in reversed(list(enumerate(values))):  # the first class of a repeated value
            if 0 <= v < size:
                table[v] = i
    if mapping.ignore is not None and 0 <= mapping.ignore < size:
        table[mapping.ignore] = IGNORE_INDEX
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


def _thresholded_colours(
    explicit: list[int], threshold: int, ignore: int | None
) -> MaskMapping:
    """Colour classes whose channels are 0 or 255, each mask channel binarised at `threshold`."""
    mapping = MaskMapping(tuple(int(v) for v in explicit), ignore, True, threshold)
    for v, label in zip(mapping.values, mapping.labels(), strict=True):
        if any(c not in (0, 255) for c in colour_of(v)):
            raise MaskValueError(
                f"masks.threshold binarises each channel of colour masks to 0 or 255, so it "
                f"can never give masks.colors' {label}: with a threshold, list colours whose "
                "channels are 0 or 255 only; or drop masks.threshold and list every colour "
                "the masks hold"
            )
    if not 0 <= threshold < 255:
        raise MaskValueError(f"masks.threshold {threshold} must lie in 0..254 for colour masks")
    _check_explicit(mapping)
    return mapping


def _thresholded(
    explicit: list[int] | None, threshold: int, top: int, ignore: int | None
) -> MaskMapping:
    """Two classes split at `threshold`, written back as `explicit` or (0, top)."""
    values = tuple(int(v) for v in explicit) if explicit else (0, top)
    if len(values) != 2:
        raise MaskValueError(
            f"masks.threshold binarises, so masks.values must list two values (class 0, "
            f"class 1), got {list(values)}; or leave masks.values out for (0, {top})"
        )
    if not min(values) <= threshold < max(values):
        raise MaskValueError(
            f"masks.threshold {threshold} must lie between the two class values {list(values)} "
            "(values above it read as the higher one); change masks.threshold or masks.values"
        )
    return MaskMapping(values, ignore, False, threshold)


def _check_explicit(mapping: MaskMapping) -> None:
    """Refuse a class value listed twice (a class no pixel can be) or given as the ignore
    value too (a class the loss and the metrics would skip)."""
    key = "masks.colors" if mapping.rgb else "masks.values"
    seen: dict[int, int] = {}
    for i, v in enumerate(mapping.values):
        if v in seen:
            raise MaskValueError(
                f"{key} lists {mapping.describe([v])[1:-1]} twice (classes {seen[v]} and {i}); "
                "each class needs a value of its own: remove the repeat"
            )
        seen[v] = i
    if mapping.ignore in seen:
        raise MaskValueError(
            f"masks.ignore {mapping.describe([mapping.ignore])[1:-1]} is also class "
            f"{seen[mapping.ignore]}'s value in "
            f"{key}: its pixels would be skipped by the loss and the metrics; remove it from "
            "one of the two"
        )


def mapping_from_values(
    found: set[int],
    explicit: list[int] | None,
    threshold: int | None,
    max_values: int,
    ignore: int | None = None,
    rgb: bool = False,
    top: int = 255,
) -> MaskMapping:
    """Choose the mapping: explicit values, a threshold (binary), or the sorted found values.

    `top`: the largest value the masks' bit depth holds (255, or 65535 for 16-bit masks), the
    foreground value of a thresholded mapping without explicit values.
    """
    found = found - {ignore}
    if threshold is not None and rgb and explicit:
        return _thresholded_colours(explicit, threshold, ignore)
    if threshold is not None:
        return _thresholded(explicit, threshold, top, ignore)
    if explicit:
        mapping = MaskMapping(tuple(int(v) for v in explicit), ignore, rgb)
        _check_explicit(mapping)
        return mapping
    if len(found) > max_values:
        raise MaskValueError(
            f"masks hold {len(found)} distinct values, {min(found)} to {max(found)} (more than "
            f"masks.max_values={max_values}). Lossy (JPEG) or anti-aliased masks do: set "
            "masks.threshold: 127 to binarise them by brightness. Instance labels do (0 "
            "background, 1, 2, 3, ... one value per object): set masks.threshold: 0 to make "
            "every object foreground (127 would drop the objects labelled up to 127). Or list "
            "the class values in masks.values; if they are all real classes, raise "
            "masks.max_values (and set masks.ignore for a border value such as VOC's 255)"
        )
    if len(found) < 2:
        raise MaskValueError(
            f"all masks hold the single value {sorted(found)}; nothing to segment. "
            "Check the mask folder, or list the class values in masks.values"
        )
    return MaskMapping(tuple(sorted(found)), ignore, rgb)


def mapping_from_meta(meta: dict) -> MaskMapping:
    """The mapping recorded in the cache's meta.json or a checkpoint."""
    return MaskMapping(
        tuple(meta["class_values"]),
        meta.get("ignore_value"),
        meta.get("mask_rgb", False),
        meta.get("mask_threshold"),
        tuple(meta["mask_palette"]) if meta.get("mask_palette") else None,
        meta.get("mask_bits") or 8,  # older files: 8, or 16 where a value needs it
    )
