"""A class map from an instance map and a class per instance (Lizard's `inst_map` with its `id`
and `class` vectors, CoNSeP's `inst_map` with `inst_type`): the pipeline reads one value a class."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np


def _vector(values: np.ndarray, path: Path, key: str) -> np.ndarray:
    """A MATLAB N x 1 (or 1 x N) column as whole numbers, N; else refused by name."""
    arr = np.asarray(values)
    if arr.ndim > 1 and sum(n != 1 for n in arr.shape) > 1:
        raise ValueError(f"{path}: '{key}' is of shape {arr.shape}, not one value per instance "
                         "(N x 1): name the per-instance vector")
    arr = arr.reshape(-1)
    if arr.dtype.kind not in "iuf" or not np.array_equal(arr, np.round(arr)) or (arr < 0).any():
        raise ValueError(f"{path}: '{key}' holds values other than whole numbers from 0: "
                         "name the per-instance vector of ids or classes")
    return arr.astype(np.int64)


class InstanceClasses:
    """Each instance id's class; maps an instance map to a class map (0 stays 0)."""

    def __init__(self, path: Path, key: str, classes: np.ndarray, classes_key: str,
                 ids: np.ndarray | None, ids_key: str | None) -> None:
        self.path, self.key, self.ids_key = path, key, ids_key
        cls = _vector(classes, path, classes_key)
        got = np.arange(1, len(cls) + 1) if ids is None else _vector(ids, path, str(ids_key))
        if len(got) != len(cls):
            raise ValueError(f"{path}: '{classes_key}' holds {len(cls)} classes and "
                             f"'{ids_key}' {len(got)} ids: give the vectors of one length, "
                             "a class per instance (--instance-classes, --instance-ids)")
        if len(np.unique(got)) != len(got) or (got == 0).any():
            raise ValueError(f"{path}: '{ids_key}' lists an id twice, or 0 (the background): "
                             "name the vector of instance ids with --instance-ids")
        if len(cls) and cls.max() > np.iinfo(np.uint16).max:
            raise ValueError(f"{path}: '{classes_key}' holds classes up to {cls.max()}: "
                             "a mask holds 16-bit values")
        order = np.argsort(got)
        self.ids, self.classes = got[order], cls[order]
        wide = len(cls) and cls.max() > np.iinfo(np.uint8).max
        self.dtype = np.dtype(np.uint16 if wide else np.uint8)

    def check(self, pages: Iterable[np.ndarray]) -> None:
        """Refuse, before anything is written, an id of any page that the vectors lack."""
        found = [np.unique(np.asarray(page)) for page in pages]  # a page at a time
        self._table(np.unique(np.concatenate(found)) if found else np.zeros(0))

    def map(self, page: np.ndarray) -> np.ndarray:
        """(H, W) class map of an (H, W) instance map; an id the vectors lack refused."""
        found, inverse = np.unique(np.asarray(page), return_inverse=True)
        return self._table(found)[inverse.reshape(np.shape(page))].astype(self.dtype)

    def _table(self, found: np.ndarray) -> np.ndarray:
        """The class of each of the (sorted, distinct) values `found`; an unknown id refused."""
        if not np.array_equal(found, np.round(found)) or (found < 0).any():
            raise ValueError(f"{self.path}: '{self.key}' holds values other than whole ids "
                             "from 0: name the instance map with --key")
        found = found.astype(np.int64)
        at = np.minimum(np.searchsorted(self.ids, found), max(len(self.ids) - 1, 0))
        known = (found == 0) | (len(self.ids) > 0) & (self.ids[at] == found)
        if not known.all():
            lacking = found[~known]
            where = f"'{self.ids_key}'" if self.ids_key else "ids 1 to the classes' count"
            raise ValueError(f"{self.path}: {len(lacking)} instance(s) of '{self.key}' "
                             f"({', '.join(map(str, lacking[:5]))}) are not in {where} "
                             f"({len(self.ids)} ids): name the instance ids' vector with "
                             "--instance-ids, or check the file")
        return np.where(found == 0, 0, self.classes[at] if len(self.ids) else 0)
