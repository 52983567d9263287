"""Connected-component filters of label masks: the largest blob per class, or no small ones.

Components are 8-connected, as scikit-image's and the Kaggle min-area post-processing count
them (a diagonal line is one object).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

EIGHT = np.ones((3, 3), bool)  # 8-connectivity


def largest_component(labels: np.ndarray, num_classes: int, first: int = 1) -> np.ndarray:
    """Keep each foreground class's largest 8-connected component; the rest becomes class 0.
    Without a background class (`first` 0) every class is filtered, and its other components
    merge into the class they share most border with, as remove_small merges them."""
    if first == 0:
        return settled(labels, find_components(labels, num_classes, 0), _not_largest)
    out = labels.copy()
    for c in range(1, num_classes):
        comps, n = ndimage.label(labels == c, structure=EIGHT)
        if n > 1:
            sizes = np.bincount(comps.ravel())[1:]  # (n,) pixels per component
            out[(comps > 0) & (comps != 1 + int(np.argmax(sizes)))] = 0
    return out


def _not_largest(labels: np.ndarray, comps: Components) -> np.ndarray:
    """(k + 1,) bool: the components that are not their class's largest."""
    owner = np.zeros(len(comps.sizes), np.int64)
    owner[comps.ids.ravel()] = labels.ravel()  # each component's class
    keep = np.zeros(len(comps.sizes), bool)
    for c in range(comps.num_classes):
        mine = np.flatnonzero((owner == c) & (comps.sizes > 0))
        if mine.size:
            keep[mine[np.argmax(comps.sizes[mine])]] = True
    return ~keep


PASSES = 8  # merges that can leave new specks: enough for objects nested this deep


def settled(labels: np.ndarray, comps: Components, unwanted) -> np.ndarray:
    """`labels` with the components `unwanted(labels, comps)` marks merged away, again on the
    result until none is left: a speck of class 1 inside a removed class-2 object first takes
    class 2, then must go with that object. One pass settles a mask of one foreground class
    and background (a speck can only become background)."""
    out = merge_away(labels, comps, unwanted(labels, comps))
    if comps.first == 1 and comps.num_classes == 2:
        return out
    for _ in range(PASSES):
        if np.array_equal(out, labels):
            break
        labels, comps = out, find_components(out, comps.num_classes, comps.first)
        out = merge_away(labels, comps, unwanted(labels, comps))
    return out


@dataclass(frozen=True)
class Components:
    """The components of the classes from `first` on, numbered across classes (they never
    touch: a component is one class's): found once, they serve every size a filter tries."""

    ids: np.ndarray  # (H, W) int32: a pixel's component, 0 for a class before `first`
    sizes: np.ndarray  # (k + 1,) pixels per component; sizes[0] = 0
    num_classes: int = 2
    first: int = 1  # the first class found (0: every class, no background)


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
    return Components(ids, sizes, num_classes, first)


def _border_counts(labels: np.ndarray, comps: Components, small: np.ndarray,
                   ys: np.ndarray, xs: np.ndarray, which: np.ndarray, m: int):
    """(m, classes) twice: for each of the m small components (`which` numbers the pixels
    ys, xs by component), how many of its pixel-neighbour pairs border each class, counting
    every neighbour outside it, and counting only neighbours outside every small one."""
    h, w = labels.shape
    classes = int(labels.max()) + 1
    every = np.zeros(m * classes, np.int64)
    kept = np.zeros(m * classes, np.int64)
    own = comps.ids[ys, xs]
    for dy, dx in ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)):
        y, x = ys + dy, xs + dx
        inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
        y, x = y[inside], x[inside]
        other = comps.ids[y, x]
        border = other != own[inside]
        index = which[inside] * classes + labels[y, x]
        every += np.bincount(index[border], minlength=m * classes)
        kept += np.bincount(index[border & ~small[other]], minlength=m * classes)
    return every.reshape(m, classes), kept.reshape(m, classes)


def remove_small(labels: np.ndarray, comps: Components, min_size: int) -> np.ndarray:
    """`labels` with every component of `comps` smaller than `min_size` pixels merged into the
    class it shares most border with (as gdal_sieve does): a foreground speck in the
    background becomes background, a speck of one class inside an object of another takes
    that class. Borders with other small components count only where nothing else borders
    it; a component bordering nothing (the whole image) stays. Time and memory grow with the
    small components' pixels, not the image's."""
    return settled(labels, comps, lambda _, c: c.sizes < min_size)


def merge_away(labels: np.ndarray, comps: Components, small: np.ndarray) -> np.ndarray:
    """`labels` with the components marked in `small` ((k + 1,) bool) merged into the class
    each shares most border with (see remove_small)."""
    small = small.copy()
    small[0] = False
    ys, xs = np.nonzero(small[comps.ids])
    out = labels.copy()
    if not ys.size:
        return out
    _, which = np.unique(comps.ids[ys, xs], return_inverse=True)
    m = int(which.max()) + 1
    every, kept = _border_counts(labels, comps, small, ys, xs, which, m)
    counts = np.where(kept.sum(1, keepdims=True) > 0, kept, every)  # (m, classes)
    merged = counts.argmax(1)[which]
    out[ys, xs] = np.where(counts.sum(1)[which] > 0, merged, labels[ys, xs])
    return out
