"""Many new images predicted whole, in batches: those of one model input size go through the
network together (predict.batch_size a pass), and those of one original size through the
resize together. A folder of 3,000 small images spent most of its time in passes of one image.

On the CPU, oneDNN's convolutions round a batch of 8 differently from a batch of 1 (by about
3e-8 in the logits), so a mask may differ from the one-image-a-pass mask where two classes'
float16 probabilities all but tie; predict.batch_size 1 gives those masks bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import torch

from unet.common.labels import MaskMapping
from unet.infer import upsample
from unet.infer.forward import ensemble_logits
from unet.infer.memory import batch_pixels, check_one_pass
from unet.infer.out_checks import mask_names
from unet.infer.tiles import Flips
from unet.infer.upsample import band_rows, resized_rows
from unet.infer.writer import PredictionWriter

# Model input pixels a pass holds at most (unless one image is larger): 4 Mpx, 48 MB of float32
# RGB, so a batch of large images (a native-size model) does not multiply the memory one takes.
BATCH_PIXELS = 1 << 22

# path -> (h, w, C) uint8, (W, H); None for a file that could not be decoded (not predicted)
Prepare = Callable[[Path], tuple[np.ndarray, tuple[int, int]] | None]


def input_batches(
    sizes: list[tuple[int, int]], batch_size: int, budget: int = BATCH_PIXELS
) -> list[list[int]]:
    """Indices of the images, grouped by their model input size (w, h) in the order the sizes
    first appear, in batches of at most `batch_size` images and `budget` input pixels."""
    groups: dict[tuple[int, int], list[int]] = {}
    for k, size in enumerate(sizes):
        groups.setdefault(tuple(size), []).append(k)
    batches = []
    for (w, h), members in groups.items():
        n = max(1, min(batch_size, budget // max(1, w * h)))
        batches += [members[i : i + n] for i in range(0, len(members), n)]
    return batches


def batch_probs_bands(
    logits: list[torch.Tensor], size: tuple[int, int]
) -> Iterator[tuple[int, torch.Tensor]]:
    """(y, rows) of a batch's class probabilities (B, C, rows, W) at their one original size
    (H, W), band by band: each model's logits (B, C, h, w) resized, softmaxed over the classes
    and averaged over the models, bit for bit as forward.probs_bands does each image's. The
    resize is one call for the batch (each channel's arithmetic is its own); the softmax is
    one an image: torch's softmax of a (B, C, ...) batch rounds some pixels differently from
    each (C, ...) image's (its vectorised loop splits the pixels differently), and it is cheap
    beside the resize. The bands are an image's own (upsample.band_rows), as where they split
    rounds some pixels too: give at most images_per_band images to keep memory bounded."""
    (b, c, h, w), (height, width) = logits[0].shape, size
    step = band_rows(c, width)
    flat = [one.reshape(b * c, h, w) for one in logits]  # resize_rows takes (channels, h, w)
    for y in range(0, height, step):
        stop = min(y + step, height)
        probs = sum(torch.stack([p.softmax(0) for p in
                                 resized_rows(one, size, y, stop).view(b, c, stop - y, width)])
                    for one in flat)
        yield y, (probs / len(logits)).cpu()


def images_per_band(classes: int, size: tuple[int, int]) -> int:
    """Images of original size (H, W) whose bands batch_probs_bands holds together: as many as
    fit upsample.BAND_BYTES of float32 probabilities, at least one."""
    height, width = size
    rows = min(height, band_rows(classes, width))
    return max(1, upsample.BAND_BYTES // (4 * classes * rows * width))


def _forward(models, images: list[np.ndarray], flips: Flips, dtype) -> list[torch.Tensor]:
    """Each model's logits (B, C, h, w) of images of one size, (h, w, C) uint8 each."""
    device = next(models[0].parameters()).device
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255)
    return ensemble_logits(models, x.to(device), flips, dtype)


def predict_batches(
    models: list[torch.nn.Module], files: list[Path], rois: list[Path | None],
    input_sizes: list[tuple[int, int]], prepare: Prepare, out_dir: Path, mapping: MaskMapping,
    flips: Flips, dtype: torch.dtype | None, batch_size: int, masks: dict[Path, str] | None = None,
) -> Iterator[Path]:
    """Write out_dir/<stem>.png (its name in `masks`, where given) of every file (prepared by
    `prepare` at its model input size `input_sizes` (w, h)) at its own size, `batch_size`
    images a forward pass; yields each image as its mask is written. A file `prepare` gives
    None for is passed over. An image whose one pass cannot fit in the device's memory is
    refused first (memory.py), and a batch holds no more images than it takes together."""
    check_one_pass(models, files, input_sizes, dtype)  # now, not at the first mask asked for
    budget = batch_pixels(models, dtype, BATCH_PIXELS)
    masks = masks or mask_names(files)
    return _predict_batches(models, files, rois, input_sizes, prepare, out_dir, mapping, flips,
                            dtype, batch_size, budget, masks)


def _predict_batches(
    models: list[torch.nn.Module], files: list[Path], rois: list[Path | None],
    input_sizes: list[tuple[int, int]], prepare: Prepare, out_dir: Path, mapping: MaskMapping,
    flips: Flips, dtype: torch.dtype | None, batch_size: int, budget: int,
    masks: dict[Path, str],
) -> Iterator[Path]:
    """predict_batches' masks, one image at a time as each is written; `budget` model input
    pixels a pass at most (unless one image is larger)."""
    for batch in input_batches(input_sizes, batch_size, budget):
        prepared = [prepare(files[k]) for k in batch]  # ((h, w, C) uint8, (W, H))
        batch = [k for k, one in zip(batch, prepared, strict=True) if one is not None]
        prepared = [one for one in prepared if one is not None]  # the rest of the batch goes on
        by_shape: dict[tuple[int, ...], list[int]] = {}  # a header that misled: split, not fail
        for j, (x, _) in enumerate(prepared):
            by_shape.setdefault(x.shape, []).append(j)
        for members in by_shape.values():
            logits = _forward(models, [prepared[j][0] for j in members], flips, dtype)
            by_size: dict[tuple[int, int], list[int]] = {}
            for i, j in enumerate(members):
                by_size.setdefault(prepared[j][1][::-1], []).append(i)  # (H, W)
            for original, rows in by_size.items():
                n = images_per_band(logits[0].shape[1], original)
                for part in (rows[i : i + n] for i in range(0, len(rows), n)):
                    index = torch.tensor(part, device=logits[0].device)
                    chosen = [one.index_select(0, index) for one in logits]
                    paths = [files[batch[members[i]]] for i in part]
                    regions = [rois[batch[members[i]]] for i in part]
                    _write(chosen, original, regions, [out_dir / masks[p] for p in paths], mapping)
                    yield from paths


def _write(logits: list[torch.Tensor], original: tuple[int, int],
           regions: list[Path | None], outs: list[Path], mapping: MaskMapping) -> None:
    """Each image of a batch of one original size (H, W) into its mask file `outs`, band by band;
    a failure or an interrupt leaves none of the batch's unfinished files."""
    with ExitStack() as stack:
        writers = [stack.enter_context(PredictionWriter(out, None, mapping, original, original, r))
                   for out, r in zip(outs, regions, strict=True)]
        for y, band in batch_probs_bands(logits, original):
            for writer, one in zip(writers, band, strict=True):
                writer.add(y, one)
