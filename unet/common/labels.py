"""The label mapping: the data's mask values (grey, colour, thresholded) to class indices and back.

Every reading of a target mask and every writing of a predicted one goes through MaskMapping,
so that preprocessing, tuning, evaluation, prediction and the report agree on what a value means.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from unet.common.label_tables import IGNORE_INDEX, UNKNOWN, lookup_table, table_size
from unet.common.maskio import read_mask, write_mask_png

_CHUNK = 1 << 20  # pixels mapped at a time
_LOSSY = re.compile(r"\.(jpe?g|jpe|jfif)$", re.IGNORECASE)  # a source naming a JPEG file


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

    `merged` lists further raw values of a class as (value, class) pairs (a class of several
    values, e.g. Cityscapes' car, truck and bus; written back as its first value, in
    `values`); with `skip_unlisted`, values in no class read as ignored instead of refused.
    """

    values: tuple[int, ...]
    ignore: int | None = None  # value of "don't care" pixels (e.g. Pet trimap borders)
    rgb: bool = False  # values are packed 0xRRGGBB colours (colour masks)
    threshold: float | None = None  # binarise raw values (grey levels, luminance, floats)
    # Palette masks (GIF, palette PNG): values are indices into this flat (r, g, b, ...) table,
    # and written masks carry it, so they look as the data's own do.
    palette: tuple[int, ...] | None = None
    bits: int = 8  # grey masks' bit depth in the data (16: uint16 label TIFFs, 1: bilevel)
    merged: tuple[tuple[int, int], ...] = ()  # (value, class): a class's further values
    skip_unlisted: bool = False  # values in no class are ignored, not refused (masks.unlisted)
    # Class 0 is background: left out of the foreground scores and unpainted in overlays.
    # False (masks.background) when every class is an object class (Cityscapes' road).
    background: bool = True
    # Palette masks: the palette's alpha per index (PNG tRNS), which written masks carry too
    alpha: tuple[int, ...] | None = None
    # masks.tolerance: a raw value within it (in every channel) of a class's value reads as that
    # class (JPEG or bilinearly resized masks); the boxes of two classes never overlap
    tolerance: int = 0

    @property
    def num_classes(self) -> int:
        return len(self.values)

    @property
    def scored_from(self) -> int:
        """The first class the foreground scores count: 1, or 0 without a background class."""
        return 1 if self.background and self.num_classes > 1 else 0

    def read(self, path: str | os.PathLike, level_to: tuple[int, int] | None = None) -> np.ndarray:
        """A mask file's raw values (H, W) in this mapping's value space; `level_to` (w, h): a
        whole-slide pyramid's smallest level at least that size, not its full resolution."""
        return read_mask(path, colour=self.rgb, luminance=self.threshold is not None,
                         ignore=self.ignore, near=self.tolerance, ids=self.threshold == 0,
                         level_to=level_to)

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
        table = lookup_table(self, table_size(raw))
        flat, out, found, count = raw.reshape(-1), np.empty(raw.size, np.uint8), [], 0
        for start in range(0, flat.size, _CHUNK):
            part = flat[start : start + _CHUNK]
            idx = table[part] if table is not None else self._searched(part)
            unknown = idx == UNKNOWN
            if unknown.any():  # every distinct value: the first 8 alone hid a JPEG's smear
                found.append(np.unique(part[unknown]))
                count += int(unknown.sum())
            out[start : start + _CHUNK] = idx
        if found:
            bad = set(np.unique(np.concatenate(found)).tolist())
            raise MaskValueError(
                f"{source} holds values {self._shown(sorted(bad))}{self._snapped(bad)} "
                f"on {count} px that are not in the mask mapping [{', '.join(self.labels())}]"
                f"{self._lossy_hint(source)}; "
                f"add them to {self._keys()}, or masks.ignore; a list there makes several "
                "values one class), or set masks.unlisted: ignore to skip every value no class "
                "lists" + ("" if _LOSSY.search(source) else self._threshold_hint())
                + self._tolerance_hint()
                + self._full_scale_hint(bad)
            )
        return out.reshape(raw.shape)

    def _shown(self, bad: list[int]) -> str:
        """The first 8 unlisted values, then how many there are and their span."""
        if len(bad) <= 8:
            return self.describe(bad)
        first, last = (self.describe([v])[1:-1] for v in (bad[0], bad[-1]))
        return f"{self.describe(bad[:8])[:-1]}, ...] ({len(bad)} values, {first} to {last})"

    def _lossy_hint(self, source: str) -> str:
        """For a JPEG mask, what its stray values are and the threshold that reads them: the
        advice to list them as classes came first, and a JPEG smears 0/255 into 1..254."""
        if not _LOSSY.search(source) or not self._can_threshold():
            return ""
        mid = 127 if self.rgb else sum(self.values) // 2  # grey: between its two values
        return (f"; a JPEG mask's lossy compression smears the values around every edge: set "
                f"masks.threshold: {mid} to binarise it (above it reads as the higher class "
                "value, else the lower), or save the masks losslessly (PNG)")

    def _keys(self) -> str:
        """The keys that list class values, the one this mapping reads first."""
        return "masks.colors (or masks.values" if self.rgb else "masks.values (or masks.colors"

    def _threshold_hint(self) -> str:
        """The hint to binarise instead: masks.threshold, which masks.tolerance does not go with."""
        if not self._can_threshold():
            return ""
        instead = " in place of masks.tolerance" if self.tolerance else ""
        return f", or set masks.threshold{instead}"

    def _can_threshold(self) -> bool:
        """Whether masks.threshold could read these classes: two grey values, or colours made
        of channels 0 and 255 (a threshold snaps each channel to one of them)."""
        if self.threshold is not None or self.merged:
            return False
        if self.rgb:
            return all(c in (0, 255) for v in self.values for c in colour_of(v))
        return self.num_classes == 2

    def _tolerance_hint(self) -> str:
        """The hint for values near a class's (JPEG or bilinearly resized masks): how
        masks.tolerance reads them, or that none lies within the tolerance set."""
        if self.tolerance:
            return (f" (masks.tolerance {self.tolerance}: these are more than {self.tolerance} "
                    f"levels{' in a channel' if self.rgb else ''} from every class's value)")
        if self.threshold is not None:
            return ""
        return ("; for JPEG or resized masks whose values lie near the classes', set "
                "masks.tolerance (e.g. 40) to read a value within it of one class as that class")

    def _full_scale_hint(self, bad: set[int]) -> str:
        """A hint when 255 is unknown: 1-bit masks read as 0/255 (two classes, one of them 1),
        or a void border or unlabelled value (VOC's 255) among several classes."""
        if self.rgb or 255 not in bad or 255 in self.values:
            return ""
        if self.num_classes == 2 and 1 in self.values:
            return ("; masks of 0/255 (1-bit images read so) mean 1 as 255: list 255 in place "
                    "of 1 in masks.values")
        if self.num_classes > 2 and self.ignore is None:
            return ("; if 255 marks borders or unlabelled pixels (VOC's void), set "
                    "masks.ignore: 255")
        return ""

    def _snapped(self, bad: set[int]) -> str:
        """What unknown colours read as after a threshold binarised their channels."""
        if self.threshold is None or not self.rgb:
            return ""
        snap = {sum(255 << s for s in (16, 8, 0) if (v >> s) & 255 > self.threshold)
                for v in bad}
        return f", read after masks.threshold {self.threshold}: {self.describe(sorted(snap))}"

    def _searched(self, part: np.ndarray) -> np.ndarray:
        """Class indices (uint16, UNKNOWN where not in the mapping) of values no table holds
        (negative, wider than 24 bits, or floats), by binary search; two classes split at
        the threshold where there is one (soft float masks, colours' float luminance)."""
        if self.threshold is not None and not self.rgb:
            return self._binarised(part)
        tol = self.tolerance
        # as floats: unsigned values would wrap below the ignore value
        ignored = abs(part.astype(np.float64) - self.ignore) <= tol \
            if self.ignore is not None else None
        part = part.astype(np.int64)
        keys, classes = (np.asarray(a, np.int64) for a in zip(*self.value_classes(), strict=True))
        order = np.argsort(keys, kind="stable")
        keys, classes = keys[order], classes[order]
        pos = np.searchsorted(keys, part).clip(0, len(keys) - 1)
        if tol:  # the nearer of the class values either side (masks.tolerance)
            left = (pos - 1).clip(0)
            pos = np.where(abs(keys[left] - part) < abs(keys[pos] - part), left, pos)
        found = abs(keys[pos] - part) <= tol
        idx = np.where(found, classes[pos], UNKNOWN).astype(np.uint16)
        if self.skip_unlisted:
            idx[~found] = IGNORE_INDEX
        if ignored is not None:
            idx[ignored] = IGNORE_INDEX
        return idx

    def _binarised(self, part: np.ndarray) -> np.ndarray:
        """Class indices (uint16) of raw values split at the threshold, compared as they are
        (a soft mask's 0.4 stays 0.4), the ignore value's pixels ignored: without the int64
        copies of a search, which took 3x an 8-bit lookup table's time."""
        idx = np.full(part.shape, self.values.index(min(self.values)), np.uint16)
        idx[part > self.threshold] = self.values.index(max(self.values))
        if self.ignore is not None:
            idx[part == self.ignore] = IGNORE_INDEX
        return idx

    def value_classes(self) -> list[tuple[int, int]]:
        """Every raw value a class is read from, as (value, class): each class's own value,
        then the further values of classes made of several."""
        return [*((v, i) for i, v in enumerate(self.values)), *self.merged]

    def groups(self) -> list[list[int]]:
        """Each class's raw values, its own (written) value first."""
        out = [[v] for v in self.values]
        for v, i in self.merged:
            out[i].append(v)
        return out

    def to_values(self, index: np.ndarray) -> np.ndarray:
        """Map class indices back to the data's own values (grey values or packed colours)."""
        wide = max(self.values) > 255 or self.bits == 16
        dtype = np.uint32 if self.rgb else np.uint16 if wide else np.uint8
        return np.asarray(self.values, dtype=dtype)[index]

    def write(self, path: str | os.PathLike, index: np.ndarray) -> None:
        """Write class indices (H, W) as a mask PNG in the data's values: the one writer of
        every predicted, refined or final mask."""
        self.write_values(path, self.to_values(index))

    def write_values(self, path: str | os.PathLike, values: np.ndarray) -> None:
        """Write a mask already in the data's values (from `to_values`) as a PNG."""
        write_mask_png(path, values, self.rgb, self.palette, self.alpha, self.bits)

    def describe(self, values: list[int]) -> str:
        """Values as the user wrote them: grey levels, or (r, g, b) for colour masks."""
        return str([colour_of(v) for v in values] if self.rgb else values)

    def labels(self) -> list[str]:
        """Each class's value as the config writes it: a grey level, or [r, g, b]; a class of
        several values as their list."""
        shown = [[list(colour_of(v)) if self.rgb else v for v in g] for g in self.groups()]
        return [str(g[0] if len(g) == 1 else g) for g in shown]


def own_name(name: str | None, *shown: object) -> str | None:
    """`name`, or None where it only repeats a number printed beside it (a class named by its
    value, as MoNuSeg's one unnamed XML layer, class 1 valued 1, is named "1")."""
    return None if not name or name in {str(s) for s in shown} else name


def given_names(given: list | tuple | None, mapping: MaskMapping) -> list[str] | None:
    """masks.names as a list, refused unless one per class; None when none are given."""
    if given and len(given) != mapping.num_classes:
        raise MaskValueError(f"masks.names lists {len(given)} names for {mapping.num_classes} "
                             f"classes (values {', '.join(mapping.labels())}); give one per "
                             "class, class 0 first")
    return list(given) if given else None


def shown_names(given: list | tuple | None, meta: dict) -> list | None:
    """Each class's name as tables and figures show it: masks.names (a param of the rules that
    show names, so renaming reruns only them), else the data's (meta.json), else None."""
    return given_names(given, mapping_from_meta(meta)) or meta.get("class_names")


def mapping_from_meta(meta: dict) -> MaskMapping:
    """The mapping recorded in the cache's meta.json or a checkpoint."""
    return MaskMapping(
        tuple(meta["class_values"]),
        meta.get("ignore_value"),
        meta.get("mask_rgb", False),
        meta.get("mask_threshold"),
        tuple(meta["mask_palette"]) if meta.get("mask_palette") else None,
        meta.get("mask_bits") or 8,  # older files: 8, or 16 where a value needs it
        tuple((v, i) for i, g in enumerate(meta.get("class_groups") or []) for v in g[1:]),
        bool(meta.get("skip_unlisted")),
        meta.get("background", True) is not False,  # older files: class 0 is background
        tuple(meta["mask_alpha"]) if meta.get("mask_alpha") else None,  # older files: none
        int(meta.get("mask_tolerance") or 0),  # older files, and masks.tolerance 0: exact
    )
