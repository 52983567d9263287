"""Sliding-window prediction: overlapping tiles, Gaussian-blended logits, bands of rows.

As nnU-Net and MONAI do, each tile's logits are weighted by a Gaussian centred on the tile
(its border, where zero padding and missing context hurt, counts least) and the weighted sum is
divided by the summed weights. The image is processed one row of tiles at a time (a column
for an image wider than tall) and finished rows (columns) are handed out as bands, so memory is
bounded by a strip of tiles across the image's shorter side, not by the image.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

log = logging.getLogger(__name__)
PROGRESS_STRIPS = 20  # an image of this many strips of tiles or more logs its progress

@dataclass(frozen=True)
class Window:
    """Tile (h, w), the share of a tile shared with its neighbour, tiles per forward pass, and
    the multiple tile starts keep (2^depth: the network is shift-equivariant by that step)."""

    tile: tuple[int, int]
    overlap: float = 0.5
    batch: int = 8
    align: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.overlap < 1:  # below 0 the tiles would leave gaps
            raise ValueError(f"predict.overlap {self.overlap}: use a share in [0, 1), e.g. 0.5")
        if self.batch < 1 or min(self.tile) < 1:
            raise ValueError(f"sliding window needs a tile and a batch >= 1, got {self}")


Flips = tuple[tuple[int, ...], ...]  # the flipped dims of each view averaged; () = as is
NO_FLIPS: Flips = ((),)  # the image as is
ALL_FLIPS: Flips = ((), (-1,), (-2,))  # as is, left-right, up-down


@torch.no_grad()
def predict_logits(
    model: torch.nn.Module, images: torch.Tensor, flips: Flips, dtype: torch.dtype | None
) -> torch.Tensor:
    """Logits (B, C, h, w) at the input's size, averaged over the flipped views `flips`
    (NO_FLIPS, ALL_FLIPS, or forward.tta_flips for a model file)."""
    total = None
    for dims in flips:
        x = images.flip(dims) if dims else images
        x = x.contiguous(memory_format=torch.channels_last)  # NHWC convolutions are faster
        with torch.autocast(images.device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(x).float()
        logits = logits.flip(dims) if dims else logits
        total = logits if total is None else total + logits
    return total / len(flips)  # averaged logits; softmax after upsampling


def gaussian_weights(h: int, w: int, sigma_scale: float = 0.125) -> torch.Tensor:
    """(h, w) Gaussian importance map, 1 at the centre, sigma = tile side x sigma_scale; its
    smallest value is kept above 0 so every pixel of a tile counts a little."""
    axes = []
    for n in (h, w):
        d = torch.arange(n, dtype=torch.float64) - (n - 1) / 2
        axes.append(torch.exp(-0.5 * (d / max(n * sigma_scale, 1e-6)) ** 2))
    g = axes[0][:, None] * axes[1][None, :]
    g = g / g.max()
    return g.clamp_(min=float(g[g > 0].min())).float()


@lru_cache(maxsize=8)
def _tile_weights(build: Callable[[int, int], torch.Tensor], th: int, tw: int,
                  device: torch.device) -> torch.Tensor:
    """`build(th, tw)` (gaussian_weights) on `device`, made once per tile size and device, not
    once per image (a folder of small images rebuilt it for each); read only: it is added, never
    added into. `build` is in the key so that a replaced gaussian_weights is not served this."""
    return build(th, tw).to(device)


def tile_starts(length: int, tile: int, overlap: float, align: int = 1) -> list[int]:
    """Starts of tiles of `tile` px covering `length` px, each overlapping the next by about
    `overlap`; every start a multiple of `align` except the last, which ends at the edge."""
    if length <= tile:
        return [0]
    stride = max(align, int(tile * (1 - overlap)) // align * align)
    starts = list(range(0, length - tile, stride))
    return starts + [length - tile] if starts[-1] != length - tile else starts


def _tile(image: np.ndarray | torch.Tensor, y: int, x: int, th: int, tw: int) -> torch.Tensor:
    """(C, th, tw) float tile at (y, x): uint8 (H, W, C) arrays or float (C, H, W) tensors;
    zero beyond the image."""
    if isinstance(image, torch.Tensor):
        part = image[:, y : y + th, x : x + tw].float()
    else:
        part = torch.from_numpy(np.array(image[y : y + th, x : x + tw])).permute(2, 0, 1)
        part = part.float().div_(255.0)
    c, h, w = part.shape
    if (h, w) == (th, tw):
        return part
    out = part.new_zeros((c, th, tw))
    out[:, :h, :w] = part
    return out


def _size(image: np.ndarray | torch.Tensor) -> tuple[int, int]:
    """(H, W) of a uint8 (H, W, C) array or a float (C, H, W) tensor."""
    return tuple(image.shape[-2:] if isinstance(image, torch.Tensor) else image.shape[:2])


def window_bands(
    models: list[torch.nn.Module],
    image: np.ndarray | torch.Tensor,
    window: Window,
    flips: Flips,
    dtype: torch.dtype | None,
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Yield (first row, first column, probabilities (C, rows, cols) float32 on the CPU) bands
    that cover the image once; the models' softmaxed blends are averaged (an ensemble). Bands
    run across the shorter side: rows of tiles top to bottom, or for an image wider than tall
    columns of tiles left to right, so the open buffer spans a tile by the shorter side (a row
    of a 256 x 65536 line scan's tiles spanned the whole image)."""
    height, width = _size(image)
    if width <= height:  # column_bands mirrors this choice
        for y, band in _strips(models, image, window, flips, dtype, turned=False):
            yield y, 0, band
        return
    # The same sweep on the image turned on its diagonal (a view, no copy); each tile is
    # turned back upright before the models see it, so they predict what they learnt.
    swapped = image.transpose(1, 2) if isinstance(image, torch.Tensor) else image.swapaxes(0, 1)
    turned = Window(window.tile[::-1], window.overlap, window.batch, window.align)
    for x, band in _strips(models, swapped, turned, flips, dtype, turned=True):
        yield 0, x, band.transpose(1, 2).contiguous()  # (C, H, cols)


def column_bands(height: int, width: int, window: Window) -> bool:
    """Whether window_bands hands out an image of this size as more than one band of columns
    (narrower than the image): wider than tall, and than a tile (else one band spans it)."""
    return width > height and width > window.tile[1]


def _strips(
    models: list[torch.nn.Module],
    image: np.ndarray | torch.Tensor,
    window: Window,
    flips: Flips,
    dtype: torch.dtype | None,
    turned: bool,
) -> Iterator[tuple[int, torch.Tensor]]:
    """(first row, probabilities (C, rows, W)) of `image` a row of tiles at a time; `turned`:
    the image is a transposed view, whose tiles the models see transposed back."""
    height, width = _size(image)
    th, tw = window.tile
    device = next(models[0].parameters()).device
    ys = tile_starts(height, th, window.overlap, window.align)
    xs = tile_starts(width, tw, window.overlap, window.align)
    weight = _tile_weights(gaussian_weights, th, tw, device)  # (th, tw)
    wide = max(width, tw)
    acc: torch.Tensor | None = None  # (models, C, th, wide): the open band of blended logits
    wsum = torch.zeros((th, wide), device=device)
    # One huge image (a 27 MP orthomosaic: minutes on a CPU) shows its progress a tenth at a
    # time; the per-image progress bar stood at 0/1 until its mask was written.
    every = -(-len(ys) // 10) if len(ys) >= PROGRESS_STRIPS else 0
    for r, y in enumerate(ys):
        # Every tile that covers rows >= y starts at y or later: the buffer starts at row y.
        for i in range(0, len(xs), window.batch):
            chunk = xs[i : i + window.batch]
            batch = torch.stack([_tile(image, y, x, th, tw) for x in chunk]).to(device)
            batch = batch.transpose(-1, -2) if turned else batch  # (B, C, h, w) upright
            for m, model in enumerate(models):
                logits = predict_logits(model, batch, flips, dtype)  # (B, C, h, w)
                logits = logits.transpose(-1, -2) if turned else logits  # (B, C, th, tw)
                if acc is None:
                    acc = torch.zeros((len(models), logits.shape[1], th, wide), device=device)
                for j, x in enumerate(chunk):
                    acc[m, :, :, x : x + tw] += logits[j] * weight
            for x in chunk:
                wsum[:, x : x + tw] += weight
        done = (ys[r + 1] if r + 1 < len(ys) else th + y) - y  # rows no later tile touches
        rows = min(done, height - y)
        blend = acc[:, :, :rows, :width] / wsum[:rows, :width]  # (M, C, rows, W)
        if every and ((r + 1) % every == 0 or r + 1 == len(ys)):
            _progress(r + 1, len(ys), (height, width) if turned else (width, height), turned)
        yield y, blend.softmax(1).mean(0).cpu()
        acc = torch.cat([acc[:, :, done:], torch.zeros_like(acc[:, :, :done])], dim=2)
        wsum = torch.cat([wsum[done:], torch.zeros_like(wsum[:done])], dim=0)


def _progress(done: int, strips: int, size: tuple[int, int], turned: bool) -> None:
    """Log how many of an image's `strips` (rows, or columns where `turned`) of tiles are done;
    `size` (width, height) as the image is."""
    log.info("sliding window over %dx%d: %d of %d %ss of tiles done (%d%%)", *size, done,
             strips, "column" if turned else "row", 100 * done // strips)


def window_probs(
    models: list[torch.nn.Module],
    image: np.ndarray | torch.Tensor,
    window: Window,
    flips: Flips,
    dtype: torch.dtype | None,
) -> torch.Tensor:
    """The whole image's probabilities (C, H, W) from its bands (for images that fit)."""
    height, width = _size(image)
    bands = [band for *_, band in window_bands(models, image, window, flips, dtype)]
    return torch.cat(bands, 2 if width > height else 1)  # columns of a wide image
