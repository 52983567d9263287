"""Mask values: map the data's grey values to class indices and back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IGNORE_INDEX = 255  # class index of pixels the loss and the metrics skip
_UNKNOWN = 254  # lookup-table marker for a value in no class (never a class: at most 254 classes)


class MaskValueError(ValueError):
    """A mask holds values the mapping does not know, or looks lossy."""


@dataclass(frozen=True)
class MaskMapping:
    """Class index i is stored in the data as grey value `values[i]`; `ignore` is skipped."""

    values: tuple[int, ...]
    ignore: int | None = None  # grey value of "don't care" pixels (e.g. Pet trimap borders)

    @property
    def num_classes(self) -> int:
        return len(self.values)

    def lut(self) -> np.ndarray:
        """Lookup table value -> index (IGNORE_INDEX for the ignore value, _UNKNOWN for others)."""
        table = np.full(65536, _UNKNOWN, dtype=np.uint8)
        table[list(self.values)] = np.arange(len(self.values), dtype=np.uint8)
        if self.ignore is not None:
            table[self.ignore] = IGNORE_INDEX
        return table

    def to_index(self, raw: np.ndarray, source: str = "mask") -> np.ndarray:
        """Map raw values (H, W) to class indices, refusing values not in the mapping."""
        idx = self.lut()[raw.astype(np.int64, copy=False)]
        if (idx == _UNKNOWN).any():
            bad = sorted(set(np.unique(raw[idx == _UNKNOWN]).tolist()))[:8]
            raise MaskValueError(
                f"{source} holds values {bad} that are not in the mask mapping "
                f"{list(self.values)}; add them to masks.values (or masks.ignore), or set "
                "masks.threshold"
            )
        return idx

    def to_values(self, index: np.ndarray) -> np.ndarray:
        """Map class indices back to the data's own values (uint8, or uint16 above 255)."""
        dtype = np.uint8 if max(self.values) <= 255 else np.uint16
        return np.asarray(self.values, dtype=dtype)[index]


def mapping_from_values(
    found: set[int],
    explicit: list[int] | None,
    threshold: int | None,
    max_values: int,
    ignore: int | None = None,
) -> MaskMapping:
    """Choose the mapping: explicit values, a threshold (binary), or the sorted found values."""
    found = found - {ignore}
    if threshold is not None:
        return MaskMapping((0, 1), ignore)  # thresholded masks are stored as 0/1 after binarising
    if explicit:
        return MaskMapping(tuple(int(v) for v in explicit), ignore)
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
    return MaskMapping(tuple(sorted(found)), ignore)


def binarise(raw: np.ndarray, threshold: int) -> np.ndarray:
    """0/1 mask: values above `threshold` are foreground."""
    return (raw > threshold).astype(np.uint8)
