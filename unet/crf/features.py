"""The CRF's bilateral features for grey and multi-band images: position and every band."""

from __future__ import annotations

import numpy as np

# Most colour dimensions the bilateral kernel gets. DenseCRF2D's permutohedral lattice grows
# with them: on a 1024x1024 image of independent noise per band, 4 bands took 2.3 s and 307 MB,
# 6 bands 8.4 s and 414 MB, 13 bands (Sentinel-2) 228 s and 2.8 GB. Four keeps RGB +
# near-infrared exact; more bands are rotated onto their four principal axes (principal_bands).
MAX_BANDS = 4

# Pixels sampled for the bands' covariance: enough for four axes, cheap on any image.
SAMPLE_PIXELS = 1 << 18


def principal_bands(image: np.ndarray) -> np.ndarray:
    """(H, W, N) bands as (H, W, MAX_BANDS) float32 along their principal axes when N is more:
    a rotation keeps every distance between pixels, so `bilateral_srgb` keeps its meaning in
    the 8-bit levels; dropping the axes of least variance loses the least of those distances
    (spectral bands are correlated: a few axes hold nearly all of them)."""
    h, w, n = image.shape
    if n <= MAX_BANDS:
        return image
    flat = image.reshape(-1, n)
    sample = flat[:: max(1, flat.shape[0] // SAMPLE_PIXELS)].astype(np.float64)  # (S, N)
    _, vectors = np.linalg.eigh(np.cov(sample, rowvar=False))  # ascending eigenvalues
    axes = vectors[:, ::-1][:, :MAX_BANDS].astype(np.float32)  # (N, MAX_BANDS)
    out = np.empty((h, w, MAX_BANDS), np.float32)
    step = max(1, SAMPLE_PIXELS // max(1, w))
    for y in range(0, h, step):  # a block of rows at a time: no float copy of all N bands
        out[y : y + step] = image[y : y + step].astype(np.float32) @ axes
    return out


def band_features(image: np.ndarray, sxy: float, srgb: float) -> np.ndarray:
    """(2 + N, H*W) float32 bilateral features (x, y) / sxy and each band of image (H, W, N) /
    srgb, as addPairwiseBilateral builds them for colour: a step of d levels in one band weighs
    as the same step in one colour channel (grey repeated into three channels made every grey
    difference sqrt(3) times as large: 13 acted as 7.5 levels)."""
    h, w, n = image.shape
    feats = np.empty((2 + n, h, w), np.float32)
    feats[0] = np.arange(w, dtype=np.float32) / sxy
    feats[1] = np.arange(h, dtype=np.float32)[:, None] / sxy
    for b in range(n):  # a band at a time: no float copy of the whole image beside feats
        np.divide(image[..., b], srgb, out=feats[2 + b], dtype=np.float32)
    return feats.reshape(2 + n, -1)


# Kernel widths between a scene's no-data pixels and the rest in their own feature dimensions:
# exp(-GAP^2 / 2) is 0 in float32, and the lattice's blur reaches a few widths, so no message
# crosses; small enough for the lattice's 16-bit coordinates.
GAP = 64.0


def apart(feats: np.ndarray, void: np.ndarray) -> np.ndarray:
    """`feats` (2 + N, H*W) bilateral features with the colour of `void` (H, W) pixels (a
    scene's no-data) moved GAP widths below every valid pixel's: the fill's one colour is no
    likeness to the dark ground beside it. In place; returned."""
    off = void.reshape(-1)
    for row in feats[2:]:
        row[off] = row[~off].min(initial=0.0) - GAP
    return feats


def position_features(h: int, w: int, sxy: float, void: np.ndarray) -> np.ndarray:
    """(3, H*W) float32 smoothness features: (x, y) / sxy, and GAP for `void` (H, W) pixels,
    so no-data pixels smooth only among themselves."""
    feats = np.empty((3, h, w), np.float32)
    feats[0] = np.arange(w, dtype=np.float32) / sxy
    feats[1] = np.arange(h, dtype=np.float32)[:, None] / sxy
    feats[2] = void * np.float32(GAP)
    return feats.reshape(3, -1)
