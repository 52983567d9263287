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
