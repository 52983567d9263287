"""Exact distances from pixels to the nearest pixel of a boundary, in memory bounded by a tile.

A distance transform of a whole image costs about 40 bytes a pixel (float64 distances and
scipy's int32 feature indices): 2.7 GB at 8192x8192, 43 GB at 32768x32768. Here each tile of
TILE px is transformed within a window reaching MARGIN px into its neighbours. A distance of at
most MARGIN found in the window is exact, since any pixel outside it is farther away; the few
pixels farther than that from every boundary pixel in their window are measured against all
the boundary's pixels with a k-d tree. The result equals the whole-image transform's.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

TILE = 1024  # tile side; a window is at most TILE + 2 * MARGIN a side (about 94 MB)
MARGIN = 256


def _spans(n: int) -> list[tuple[int, int, int, int]]:
    """(start, stop, window start, window stop) of the tiles along an axis of length n: one
    span covering it all when it fits in a window."""
    if n <= TILE + 2 * MARGIN:
        return [(0, n, 0, n)]
    return [(a, min(a + TILE, n), max(a - MARGIN, 0), min(a + TILE + MARGIN, n))
            for a in range(0, n, TILE)]


def distances_at(boundary: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Euclidean distance in px from each True pixel of `at` (H, W) bool to the nearest True
    pixel of `boundary` (H, W) bool, which must hold one; in no particular order (the scores
    taken from them do not depend on it)."""
    found: list[np.ndarray] = []
    far: list[np.ndarray] = []  # (n, 2) pixels to measure against the whole boundary
    rows, cols = _spans(boundary.shape[0]), _spans(boundary.shape[1])
    whole = len(rows) == len(cols) == 1
    for y0, y1, wy0, wy1 in rows:
        for x0, x1, wx0, wx1 in cols:
            here = at[y0:y1, x0:x1]
            if not here.any():
                continue
            window = boundary[wy0:wy1, wx0:wx1]
            if not window.any():  # scipy would measure to a point outside the window
                far.append(np.argwhere(here) + (y0, x0))
                continue
            dist = ndimage.distance_transform_edt(~window)[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0]
            d = dist[here]
            exact = np.ones(d.shape, bool) if whole else d <= MARGIN
            found.append(d[exact])
            if not exact.all():
                far.append(np.argwhere(here)[~exact] + (y0, x0))
    if far:
        points = np.concatenate(far)
        found.append(cKDTree(np.argwhere(boundary)).query(points)[0])
    return np.concatenate(found) if found else np.empty(0)
