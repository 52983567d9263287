"""Mask values: map the data's grey values to class indices and back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IGNORE_INDEX = 255  # class index of pixels the loss and the metrics skip (so <= 255 classes)


class MaskValueError(ValueError):
    """A mask holds values the mapping does not know, or looks lossy."""


@dataclass(frozen=True)
class MaskMapping:
    """Class index i is stored in the data as grey value `values[i]`; `ignore` is skipped."""

    values: tuple[int, ...]
    ignore: int | None = None  # grey value of "don't care" pixels (e.g. Pet trimap borders)
    rgb: bool = False  # values are packed 0xRRGGBB colours (colour masks)

    @property
    def num_classes(self) -> int:
        return len(self.values)

    def to_index(self, raw: np.ndarray, source: str = "mask") -> np.ndarray:
        """Map raw values (H, W) to class indices, refusing values not in the mapping."""
        keys = np.asarray(self.values, dtype=np.int64)
        order = np.argsort(keys)
        pos = np.searchsorted(keys[order], raw.astype(np.int64, copy=False)).clip(0, len(keys) - 1)
        known = keys[order][pos] == raw
        idx = order[pos].astype(np.uint8)
        if self.ignore is not None:
            ignored = raw == self.ignore
            idx[ignored], known = IGNORE_INDEX, known | ignored
        if not known.all():
            bad = sorted(set(np.unique(raw[~known]).tolist()))[:8]
            raise MaskValueError(
                f"{source} holds values {self.describe(bad)} that are not in the mask mapping "
                f"{self.describe(list(self.values))}; add them to masks.values (or "
                "masks.colors, or masks.ignore), or set masks.threshold"
            )
        return idx

    def to_values(self, index: np.ndarray) -> np.ndarray:
        """Map class indices back to the data's own values (grey values or packed colours)."""
        top = max(self.values)
        dtype = np.uint32 if self.rgb else np.uint8 if top <= 255 else np.uint16
        return np.asarray(self.values, dtype=dtype)[index]

    def describe(self, values: list[int]) -> str:
        """Values as the user wrote them: grey levels, or (r, g, b) for colour masks."""
        if self.rgb:
            return str([((v >> 16) & 255, (v >> 8) & 255, v & 255) for v in values])
        return str(values)


def mapping_from_values(
    found: set[int],
    explicit: list[int] | None,
    threshold: int | None,
    max_values: int,
    ignore: int | None = None,
    rgb: bool = False,
) -> MaskMapping:
    """Choose the mapping: explicit values, a threshold (binary), or the sorted found values."""
    found = found - {ignore}
    if threshold is not None:
        return MaskMapping((0, 1), ignore)  # thresholded masks are stored as 0/1 after binarising
    if explicit:
        return MaskMapping(tuple(int(v) for v in explicit), ignore, rgb)
    if len(found) > max_values:
        raise MaskValueError(
            f"masks hold {len(found)} distinct values (more than masks.max_values={max_values}), "
            "as lossy (JPEG) or anti-aliased masks do; set masks.threshold (e.g. 127) to "
            "binarise them, or list the class values in masks.values"
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
        tuple(meta["class_values"]), meta.get("ignore_value"), meta.get("mask_rgb", False)
    )


def binarise(raw: np.ndarray, threshold: int) -> np.ndarray:
    """0/1 mask: values above `threshold` are foreground."""
    return (raw > threshold).astype(np.uint8)
