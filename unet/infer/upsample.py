"""Bilinear resizing of a (C, h, w) map to an image's original (H, W), a band of output rows at
a time: each band equals the same rows of torch's `F.interpolate(mode="bilinear",
align_corners=False)` of the whole map, but only the input rows it needs are read (a
memory-mapped map stays on disk) and only the band is held, so memory does not grow with the
original size.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

BAND_BYTES = 16 << 20  # float32 output per band: 16 MB (64 rows of a 32768-wide 2-class map)


def band_rows(channels: int, width: int) -> int:
    """Output rows per band for a (channels, H, width) float32 result."""
    return max(1, BAND_BYTES // (4 * channels * width))


def _sources(
    n_in: int, n_out: int, start: int, stop: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input rows i0, i1 and the weight of i1 for output rows start..stop, computed as torch
    computes them (float32, scale n_in / n_out, half-pixel centres, clamped at 0)."""
    scale = np.float32(n_in) / np.float32(n_out)
    dst = np.arange(start, stop, dtype=np.float32)
    src = np.maximum(scale * (dst + np.float32(0.5)) - np.float32(0.5), np.float32(0))
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, np.clip(src - i0.astype(np.float32), 0, 1)


def resized_rows(
    src: torch.Tensor | np.ndarray, size: tuple[int, int], start: int, stop: int
) -> torch.Tensor:
    """Rows start..stop of `src` (C, h, w), a tensor or an array such as a memory map,
    bilinearly resized to size (H, W): a (C, stop - start, W) float32 tensor on src's device."""
    (_, h, w), (out_h, out_w) = src.shape, size
    i0, i1, weight = _sources(h, out_h, start, stop)
    lo, hi = int(i0.min()), int(i1.max()) + 1
    slab = src[:, lo:hi]
    if isinstance(slab, np.ndarray):
        slab = torch.from_numpy(np.ascontiguousarray(slab))
    slab = slab.float()
    if w != out_w:  # the columns: the rows keep their height, so they stay exactly as they are
        slab = F.interpolate(slab[None], size=(hi - lo, out_w), mode="bilinear",
                             align_corners=False)[0]
    device = slab.device
    top = slab[:, torch.from_numpy(i0 - lo).to(device)]
    bottom = slab[:, torch.from_numpy(i1 - lo).to(device)]
    weight = torch.from_numpy(weight).to(device)[None, :, None]
    return top * (1 - weight) + bottom * weight


def resized_bands(
    src: torch.Tensor | np.ndarray, size: tuple[int, int]
) -> Iterator[tuple[int, torch.Tensor]]:
    """(y, rows) for the whole of `src` resized to size (H, W), top to bottom, in bands."""
    out_h, out_w = size
    step = band_rows(src.shape[0], out_w)
    for y in range(0, out_h, step):
        yield y, resized_rows(src, size, y, min(y + step, out_h))
