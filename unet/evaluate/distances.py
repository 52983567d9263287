"""Exact distances from pixels to the nearest pixel of a boundary, in memory bounded by a tile.

A distance transform of a whole image costs about 40 bytes a pixel (float64 distances and
scipy's int32 feature indices): 2.7 GB at 8192x8192, 43 GB at 32768x32768. Here each tile of
TILE px is transformed within a window reaching MARGIN px into its neighbours. A distance of at
most MARGIN found in the window is exact, since any pixel outside it is farther away; a pixel
farther than that from every boundary pixel in its window ("far") is truly farther than MARGIN.

The scores need only order statistics and counts, so `directed` keeps the near distances as a
histogram of their integer squares, and for far pixels only bounds from a coarse transform of
the boundary's BLOCK x BLOCK blocks (exact to within (BLOCK - 1) * sqrt(2) px). A far pixel is
measured exactly (k-d tree) only when its bounds straddle a value a score needs: a thin shell
of them, where a noisy prediction made millions of k-d tree queries before. The results equal
those of the whole-image transform.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

TILE = 1024  # tile side; a window is at most TILE + 2 * MARGIN a side (about 94 MB)
MARGIN = 256
BLOCK = 8  # side of the coarse transform's blocks (its memory: about 0.6 bytes an image pixel)


def _spans(n: int) -> list[tuple[int, int, int, int]]:
    """(start, stop, window start, window stop) of the tiles along an axis of length n: one
    span covering it all when it fits in a window."""
    if n <= TILE + 2 * MARGIN:
        return [(0, n, 0, n)]
    return [(a, min(a + TILE, n), max(a - MARGIN, 0), min(a + TILE + MARGIN, n))
            for a in range(0, n, TILE)]


def _tiles(
    boundary: np.ndarray, at: np.ndarray, coarse: np.ndarray | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per tile holding `at` pixels: their (n, 2) coordinates and squared window distances
    (int64), MARGIN**2 + 1 marking a far pixel. With `coarse` (_coarse), a tile whose blocks
    all lie farther than MARGIN from the boundary is all far without a window transform."""
    far = MARGIN * MARGIN + 1
    for y0, y1, wy0, wy1 in _spans(boundary.shape[0]):
        for x0, x1, wx0, wx1 in _spans(boundary.shape[1]):
            here = at[y0:y1, x0:x1]
            if not here.any():
                continue
            points = np.argwhere(here) + (y0, x0)
            window = boundary[wy0:wy1, wx0:wx1]
            if not window.any() or _all_far(coarse, y0, y1, x0, x1):
                yield points, np.full(len(points), far, np.int64)
                continue
            dist = ndimage.distance_transform_edt(~window)[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0]
            d = np.rint(np.square(dist[here])).astype(np.int64)  # squares of integer offsets
            yield points, np.minimum(d, far)


def _all_far(coarse: np.ndarray | None, y0: int, y1: int, x0: int, x1: int) -> bool:
    """Whether every pixel of the tile is farther than MARGIN from the boundary (_bounds)."""
    if coarse is None:
        return False
    blocks = coarse[y0 // BLOCK : -(-y1 // BLOCK), x0 // BLOCK : -(-x1 // BLOCK)]
    return BLOCK * float(blocks.min()) - (BLOCK - 1) * np.sqrt(2) - 1e-6 > MARGIN


def _coarse(boundary: np.ndarray) -> np.ndarray:
    """Distance in blocks from each BLOCK x BLOCK block to the nearest block holding boundary."""
    h, w = boundary.shape
    hb, wb = -(-h // BLOCK), -(-w // BLOCK)
    occupied = np.zeros((hb, wb), bool)
    for by in range(hb):
        rows = boundary[by * BLOCK : (by + 1) * BLOCK].any(axis=0)
        occupied[by] = np.logical_or.reduceat(rows, np.arange(0, w, BLOCK))
    return ndimage.distance_transform_edt(~occupied)


def _bounds(coarse: np.ndarray, points: np.ndarray, clamp: bool = True):
    """Integer bounds lo <= d <= hi of the distances of `points` (n, 2) to the boundary; far
    ones (`clamp`) are farther than MARGIN."""
    centre = BLOCK * coarse[points[:, 0] // BLOCK, points[:, 1] // BLOCK]
    slack = (BLOCK - 1) * np.sqrt(2) + 1e-6
    lo = np.maximum(np.floor(centre - slack), MARGIN if clamp else 0).astype(np.int64)
    return lo, np.ceil(centre + slack).astype(np.int64)


def _summed(counts: list[np.ndarray]) -> np.ndarray:
    """Histograms of different lengths added bin by bin (int64; empty without any)."""
    out = np.zeros(max((len(c) for c in counts), default=0), np.int64)
    for c in counts:
        out[: len(c)] += c
    return out


class Directed:
    """Distances from each `at` pixel to the nearest `boundary` pixel, kept as what the scores
    need: `percentile` (numpy's linear method) and `fraction_within`, both exact."""

    def __init__(self, boundary: np.ndarray, at: np.ndarray,
                 also: tuple[np.ndarray, np.ndarray] | None = None):
        # `also`: a second (boundary, at) pair whose distances join these (soft boundary pixels)
        self._parts = [(b, a, _coarse(b)) for b, a in [(boundary, at)] + ([also] if also else [])]
        near_all, lo_all, hi_all = [], [], []
        for b, a, coarse in self._parts:
            for points, d2 in _tiles(b, a, coarse):
                far = d2 > MARGIN * MARGIN
                near_all.append(np.bincount(d2[~far]))
                if far.any():
                    lo, hi = _bounds(coarse, points[far])
                    lo_all.append(np.bincount(lo))
                    hi_all.append(np.bincount(hi))
        # counts of squared distances, as long as the largest one found: MARGIN**2 + 1 bins for
        # every image made a 64x64 crop cost as much as a 512x512 image (many small images)
        self.near = _summed(near_all)
        self.far_lo, self.far_hi = _summed(lo_all), _summed(hi_all)
        self.n_near, self.n_far = int(self.near.sum()), int(self.far_lo.sum())
        self.n = self.n_near + self.n_far
        self.exact_queries = 0  # far pixels measured with the k-d tree (tests bound it)

    def _order(self, ranks: list[int]) -> list[float]:
        """The distances at these 0-based ranks of the sorted distances."""
        out: dict[int, float] = {}
        near_cum = np.cumsum(self.near)
        far_ranks = []
        for r in ranks:
            if r < self.n_near:
                out[r] = float(np.sqrt(float(np.searchsorted(near_cum, r + 1))))
            else:
                far_ranks.append(r - self.n_near)
        if far_ranks:
            lo_cum, hi_cum = np.cumsum(self.far_lo), np.cumsum(self.far_hi)
            t_lo = int(np.searchsorted(lo_cum, min(far_ranks) + 1))
            t_hi = int(np.searchsorted(hi_cum, max(far_ranks) + 1))
            below = int(hi_cum[t_lo - 1]) if t_lo > 0 else 0  # certainly under t_lo
            exact = self._exact_far(t_lo, t_hi)
            for r in far_ranks:
                out[r + self.n_near] = float(exact[r - below])
        return [out[r] for r in ranks]

    def _exact_far(self, t_lo: int, t_hi: int) -> np.ndarray:
        """Sorted exact distances of the far pixels whose bounds meet [t_lo, t_hi]: picked by
        their bounds alone (no window transforms again), measured, those within MARGIN
        dropped (far is exactly farther than MARGIN)."""
        found = [np.empty(0)]
        for boundary, at, coarse in self._parts:
            picked = []
            for y0, y1, _, _ in _spans(at.shape[0]):
                for x0, x1, _, _ in _spans(at.shape[1]):
                    points = np.argwhere(at[y0:y1, x0:x1]) + (y0, x0)
                    lo, hi = _bounds(coarse, points, clamp=False)
                    picked.append(points[(lo <= t_hi) & (hi >= t_lo)])
            points = np.concatenate(picked)
            self.exact_queries += len(points)
            if len(points):
                tree = cKDTree(np.argwhere(boundary).astype(np.int32))
                found.append(tree.query(points)[0])
        found = np.concatenate(found)
        return np.sort(found[found > MARGIN])

    def percentile(self, q: float) -> float:
        """np.percentile(distances, q), from two order statistics, as numpy interpolates."""
        quantile = np.true_divide(q, 100)
        virtual = (self.n - 1) * quantile
        previous = int(np.clip(np.floor(virtual), 0, self.n - 1))
        following = int(np.clip(np.floor(virtual) + 1, 0, self.n - 1))
        a, b = (np.float64(v) for v in self._order([previous, following]))
        gamma = np.float64(virtual - np.floor(virtual))
        return float(b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma)

    def fraction_within(self, tolerance: float) -> float:
        """The share of distances <= tolerance."""
        squares = np.arange(self.near.size, dtype=np.float64)
        within = int(self.near[np.sqrt(squares) <= tolerance].sum())
        if tolerance > MARGIN and self.n_far:
            hi_cum = np.cumsum(self.far_hi)
            t = min(int(np.floor(tolerance)), len(hi_cum) - 1)
            sure = int(hi_cum[t])  # far pixels whose upper bound is within
            unsure = self._exact_far(t + 1, t)  # lower bound within, upper bound not
            within += sure + int(np.sum(unsure <= tolerance))
        return within / self.n


def distances_at(boundary: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Every distance of `Directed` as an array, in no particular order (for small inputs)."""
    near, far = [], []
    for points, d2 in _tiles(boundary, at):
        is_far = d2 > MARGIN * MARGIN
        near.append(np.sqrt(d2[~is_far].astype(np.float64)))
        far.append(points[is_far])
    far_points = np.concatenate(far) if far else np.empty((0, 2), np.int64)
    if len(far_points):
        near.append(cKDTree(np.argwhere(boundary)).query(far_points)[0])
    return np.concatenate(near) if near else np.empty(0)
