"""Connected-component filters of label masks: the largest blob per class, or no small ones.

Components are 8-connected, as scikit-image's and the Kaggle min-area post-processing count
them (a diagonal line is one object).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

EIGHT = np.ones((3, 3), bool)  # 8-connectivity


def largest_component(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Keep each foreground class's largest 8-connected component; the rest becomes class 0."""
    out = labels.copy()
    for c in range(1, num_classes):
        comps, n = ndimage.label(labels == c, structure=EIGHT)
        if n > 1:
            sizes = np.bincount(comps.ravel())[1:]  # (n,) pixels per component
            out[(comps > 0) & (comps != 1 + int(np.argmax(sizes)))] = 0
    return out


@dataclass(frozen=True)
class Components:
    """The components of the classes from `first` on, numbered across classes (they never
    touch: a component is one class's): found once, they serve every size a filter tries."""

    ids: np.ndarray  # (H, W) int32: a pixel's component, 0 for a class before `first`
    sizes: np.ndarray  # (k + 1,) pixels per component; sizes[0] = 0
    boxes: list  # k bounding boxes (slice pairs), component i's at i - 1


def find_components(labels: np.ndarray, num_classes: int, first: int = 1) -> Components:
    """The 8-connected components of classes first..num_classes-1 (first 0: every class, for
    data without a background class)."""
    ids = np.zeros(labels.shape, np.int32)
    count = 0
    for c in range(first, num_classes):
        comps, n = ndimage.label(labels == c, structure=EIGHT, output=np.int32)
        ids[comps > 0] = comps[comps > 0] + count
        count += n
    sizes = np.bincount(ids.ravel(), minlength=count + 1)
    sizes[0] = 0
    return Components(ids, sizes, ndimage.find_objects(ids, count) if count else [])


def _grown(box: tuple[slice, slice], shape: tuple[int, ...]) -> tuple[slice, slice]:
    """A bounding box one pixel wider on each side, within the image."""
    return tuple(slice(max(s.start - 1, 0), min(s.stop + 1, n))
                 for s, n in zip(box, shape, strict=True))


def remove_small(labels: np.ndarray, comps: Components, min_size: int) -> np.ndarray:
    """`labels` with every component of `comps` smaller than `min_size` pixels merged into the
    class that borders it most (as gdal_sieve does): a foreground speck in the background
    becomes background, a speck of one class inside an object of another takes that class.
    Borders with other small components count only where nothing else borders it."""
    out = labels.copy()
    small = comps.sizes < min_size
    small[0] = False
    if not small.any():
        return out
    is_small = small[comps.ids]  # (H, W)
    for i in np.flatnonzero(small):
        box = _grown(comps.boxes[i - 1], labels.shape)
        own = comps.ids[box] == i
        ring = ndimage.binary_dilation(own, EIGHT) & ~own
        kept = ring & ~is_small[box]
        values = labels[box][kept if kept.any() else ring]
        if values.size:  # else the component is the whole image: nothing to merge into
            out[box][own] = np.bincount(values).argmax()
    return out
