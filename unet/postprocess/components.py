"""Connected-component filters of label masks: the largest blob per class, or no small ones.

Components are 8-connected, as scikit-image's and the Kaggle min-area post-processing count
them (a diagonal line is one object).
"""

from __future__ import annotations

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


def component_sizes(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(H, W) int64: the size in pixels of the foreground component each pixel is in; 0 on
    class 0. Found once, it serves every size a filter tries."""
    out = np.zeros(labels.shape, np.int64)
    for c in range(1, num_classes):
        comps, n = ndimage.label(labels == c, structure=EIGHT)
        if n:
            sizes = np.bincount(comps.ravel())
            sizes[0] = 0
            out += sizes[comps]  # class c's pixels get their component's size, others 0
    return out


def remove_small(labels: np.ndarray, sizes: np.ndarray, min_size: int) -> np.ndarray:
    """`labels` with every foreground component smaller than `min_size` pixels made class 0;
    `sizes` from component_sizes."""
    out = labels.copy()
    out[(sizes > 0) & (sizes < min_size)] = 0
    return out
