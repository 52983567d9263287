"""`predict_masks`: masks and probabilities of a cached split at each image's original size.

A model trained on whole images predicts batches of cached images, logits resized to the
original size band by band. A model trained on patches (train.patch) predicts each image with a
sliding window of its patch size, band by band. Either way memory does not grow with the image.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from unet.cache.reader import cached_shapes, load_split
from unet.common.durable import sync_tree
from unet.common.fileio import read_json
from unet.common.georef import georef_masks
from unet.common.labels import mapping_from_meta
from unet.common.logs import progress
from unet.common.probs import check_room, probs_path
from unet.infer.forward import (
    PredictSettings,
    ensemble_logits,
    load_ensemble,
    probs_bands,
    tta_flips,
    window_for,
)
from unet.infer.tiles import Window, column_bands, window_bands
from unet.infer.writer import PredictionWriter, scratch_bytes

__all__ = ["PredictSettings", "predict_masks"]
log = logging.getLogger(__name__)


def _predict_whole(models, images, ids, sizes, out_dir, settings, flips, dtype, mapping,
                   rois) -> None:
    """Batches of whole cached images (one size), logits resized to each original size band
    by band (only the cached-size logits and one band are held, whatever the original);
    `rois`: each image's region of interest or None."""
    device = next(models[0].parameters()).device
    step = settings.batch_size
    starts = range(0, len(ids), step)
    for start in progress(starts, "predict", total=len(starts)):
        batch = np.array(images[start : start + step])  # (B, h, w, C) uint8
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255).to(device)
        logits = ensemble_logits(models, x, flips, dtype)
        for k in range(len(batch)):
            image_id, (w, h) = ids[start + k], sizes[start + k]
            mask, probs = out_dir / "masks" / f"{image_id}.png", probs_path(out_dir, image_id)
            roi = rois[start + k]
            with PredictionWriter(mask, probs, mapping, (h, w), (h, w), roi) as writer:
                for y, band in probs_bands([one[k] for one in logits], (h, w)):
                    writer.add(y, band)


def _scratch(meta: dict, split: str, window: Window | None, mapping) -> list[tuple[str, int]]:
    """(id, bytes) of the scratch files each image of `split` is written with (writer.py)."""
    ids, sizes = meta["splits"][split]["ids"], meta["splits"][split]["orig_sizes"]
    # whole images are resized to their original size before the writer: no cached-size map
    shapes = cached_shapes(meta, split) if window else [(h, w) for w, h in sizes]
    value = mapping.to_values(np.zeros(1, np.uint8)).itemsize  # the mask's values map
    return [(image_id, scratch_bytes(mapping.num_classes, shape, (oh, ow),
                                     bool(window) and column_bands(*shape, window), value))
            for image_id, shape, (ow, oh) in zip(ids, shapes, sizes, strict=True)]


def predict_masks(
    model_paths: list[str | os.PathLike],
    cache_dir: str | os.PathLike,
    split: str,
    out_dir: str | os.PathLike,
    settings: PredictSettings,
    threads: int = 1,
    manifest: str | os.PathLike | None = None,
) -> int:
    """Predict every cached image of `split` with the models' averaged probabilities (one
    model, or the ensemble of cross-validation folds); returns the number of images written.
    `manifest`: the data set's, whose GeoTIFF images' georeferencing each mask then carries
    (georef_masks)."""
    models, ckpt, dtype = load_ensemble(model_paths, settings, threads)
    mapping = mapping_from_meta(ckpt)
    meta = read_json(Path(cache_dir) / "meta.json")
    ids, sizes = meta["splits"][split]["ids"], meta["splits"][split]["orig_sizes"]
    rois = meta["splits"][split].get("rois") or [None] * len(ids)  # dataset.<source>.roi
    images, _ = load_split(cache_dir, split)
    out_dir = Path(out_dir)
    window, flips = window_for(ckpt, settings), tta_flips(settings.tta, ckpt)
    check_room(out_dir, mapping.num_classes, [tuple(s) for s in sizes],
               _scratch(meta, split, window, mapping))
    if window is None:
        _predict_whole(models, images, ids, sizes, out_dir, settings, flips, dtype, mapping,
                       rois)
    else:
        shapes = cached_shapes(meta, split)
        for k in progress(range(len(ids)), f"predict {split} (tiles)"):
            w, h = sizes[k]
            mask, probs = out_dir / "masks" / f"{ids[k]}.png", probs_path(out_dir, ids[k])
            with PredictionWriter(mask, probs, mapping, shapes[k], (h, w), rois[k]) as writer:
                for y, x, band in window_bands(models, images[k], window, flips, dtype):
                    writer.add(y, band, x)
    if manifest is not None:
        georef_masks(manifest, ids, out_dir / "masks", mapping.ignore, out_dir)  # NaN probs
    sync_tree(out_dir)  # a rerun trusts the folder: on disk before the job reports done
    how = "whole images" if window is None else f"{window.tile[1]}x{window.tile[0]} tiles"
    log.info(
        "%d masks written to %s (%d model(s), %s); %d view(s) averaged", len(ids),
        out_dir / "masks", len(models), how, len(flips),
    )
    return len(ids)
