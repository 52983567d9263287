"""`tune_crf`: grid-search the CRF's pairwise terms on the validation split."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from unet.common.band_ranges import Span, scale_of
from unet.common.fileio import read_json, write_json
from unet.common.labels import IGNORE_INDEX, MaskMapping, mapping_from_meta
from unet.common.nodata import image_and_nodata
from unet.common.parallel import parallel_map
from unet.common.probs import probs_path, read_probs
from unet.common.roi import left_out, read_roi
from unet.common.schema import default
from unet.crf.dense import CRFParams, densecrf, refine
from unet.crf.sparse_truth import sparse_note
from unet.crf.tiles import note_tiles
from unet.evaluate.metrics import confusion_matrix, foreground_dice
from unet.evaluate.void import without_nodata

log = logging.getLogger(__name__)


MAX_SIDE = default("crf", "tune", "max_side")


def _foreground_counts(target: np.ndarray, band: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Foreground pixels (classes 1.. below IGNORE_INDEX) in each row and each column, `band`
    rows at a time: the centre of the foreground without its (N, 2) int64 coordinates (537 MB
    for a half-foreground 8192x8192 mask)."""
    rows, cols = np.zeros(target.shape[0], np.int64), np.zeros(target.shape[1], np.int64)
    for y in range(0, target.shape[0], band):
        part = target[y : y + band]
        fore = (part > 0) & (part != IGNORE_INDEX)
        rows[y : y + band] = fore.sum(1)
        cols += fore.sum(0)
    return rows, cols


def scoring_window(target: np.ndarray, side: int) -> tuple[slice, slice]:
    """Where a validation image's post-processings are scored: the whole image up to `side`
    a side, else a `side` x `side` window centred on its foreground (class indices 1.. below
    IGNORE_INDEX; the image centre when it has none), inside the image. The CRF acts within
    about 3 x bilateral_sxy px, so a window scores a setting as the whole image would, at a
    fraction of the cost (0.8-8 s a megapixel on one core: README, CRF)."""
    h, w = target.shape
    if h <= side and w <= side:
        return slice(0, h), slice(0, w)
    rows, cols = _foreground_counts(target)
    total = int(rows.sum())
    cy, cx = h // 2, w // 2  # the image centre when it has no foreground
    if total:
        cy, cx = int(np.arange(h) @ rows / total), int(np.arange(w) @ cols / total)

    def span(centre: int, size: int) -> slice:
        if size <= side:
            return slice(0, size)
        start = min(max(centre - side // 2, 0), size - side)
        return slice(start, start + side)

    return span(cy, h), span(cx, w)


def _spread(ids: list[str], count: int) -> list[str]:
    """`count` of `ids`, evenly spaced."""
    if len(ids) <= count:
        return list(ids)
    return [ids[k * len(ids) // count] for k in range(count)]


def scored_ids(ids: list[str], max_images: int, background_only: Iterable[str] = ()) -> list[str]:
    """`max_images` of the validation `ids`, evenly spaced: the split lists them in name order,
    so its first few are often one subject's (a car's views, a patient's slices, as
    split.group_by keeps them), which would tune and choose on that subject alone. Images
    with and without foreground (`background_only`, meta.json's) are drawn in their split's
    proportions, at least one with: MVTec AD's `good_*` images fill whole stretches of the
    sorted ids, and a sample of only those cannot judge a post-processing."""
    if len(ids) <= max_images:
        return list(ids)
    empty = set(background_only)
    held, bare = [i for i in ids if i not in empty], [i for i in ids if i in empty]
    if not held or not bare:
        return _spread(ids, max_images)
    k = max(1, round(max_images * len(held) / len(ids)), max_images - len(bare))
    chosen = set(_spread(held, min(k, len(held)))) | set(_spread(bare, max_images - k))
    return [i for i in ids if i in chosen]


def split_sample(meta: dict, split: str, max_images: int) -> list[str]:
    """scored_ids of `split` in meta.json: what tuning and the final choice both score."""
    entry = meta["splits"][split]
    return scored_ids(entry["ids"], max_images, entry.get("background_only", ()))


@dataclasses.dataclass(frozen=True)
class CountJob:
    """One validation image: its pixels, predicted probabilities and ground truth."""

    image_path: str
    probs_path: str
    gt_path: str
    mapping: MaskMapping
    combos: list[CRFParams]  # CRF settings to score
    max_side: int = MAX_SIDE  # larger images are scored on a window (scoring_window)
    roi: str | None = None  # the image's region of interest: outside it is not scored
    span: Span = None  # meta.json's intensity_range (common.band_ranges.scale_of)
    ignored: str | None = None  # its region to ignore: not scored, yet evidence for the CRF


def _image_counts(job: CountJob) -> tuple[np.ndarray, list[np.ndarray]]:
    """Confusion matrices of one image (its scoring window): raw argmax, then the CRF at each
    grid point."""
    target = job.mapping.read_index(job.gt_path)
    # outside the region of interest: not scored, and no evidence for the CRF (as refine_crf)
    outside = None if job.roi is None else ~read_roi(job.roi, target.shape, job.gt_path)
    # in the region to ignore: not scored, but the CRF keeps its evidence there (as refine_crf)
    skip = [m for m in (outside, left_out(None, job.ignored, target.shape, job.gt_path))
            if m is not None]
    if skip:
        target = np.where(np.logical_or.reduce(skip), IGNORE_INDEX, target).astype(target.dtype)
    target = without_nodata(target, job.image_path, job.mapping.ignore)  # as evaluation scores
    ys, xs = scoring_window(target, job.max_side)
    target, outside = target[ys, xs], None if outside is None else outside[ys, xs]
    image, void = image_and_nodata(job.image_path, job.span)  # no evidence there: refine_crf
    image, void = image[ys, xs], None if void is None else void[ys, xs]
    probs = np.asarray(read_probs(job.probs_path)[:, ys, xs])  # (C, h, w) float16
    n = job.mapping.num_classes
    for tile, overlap in dict.fromkeys((p.tile, p.tile_overlap) for p in job.combos):
        note_tiles(Path(job.probs_path).stem, *probs.shape[1:], n, tile, overlap)  # once each
    raw_cm = confusion_matrix(probs.argmax(0), target, n, IGNORE_INDEX)
    try:
        return raw_cm, [confusion_matrix(refine(image, probs, p, outside, void), target, n,
                                         IGNORE_INDEX) for p in job.combos]
    except ValueError as err:
        raise ValueError(f"{job.probs_path}: {err}") from err


def _summed(
    manifest: dict,
    meta: dict,
    pred_dir: str | os.PathLike,
    ids: list[str],
    combos: list[CRFParams],
    processes: int,
    max_side: int,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Confusion matrices summed over `ids`: raw argmax, and the CRF at each of `combos`."""
    densecrf()  # refused here at once, not by each worker
    by_id = {p["id"]: p for p in manifest["pairs"]}
    mapping = mapping_from_meta(meta)
    jobs = [
        CountJob(by_id[i]["image"], str(probs_path(pred_dir, i)),
                 by_id[i]["mask"], mapping, combos, max_side, by_id[i].get("roi"),
                 scale_of(meta), by_id[i].get("ignore_regions"))
        for i in ids
    ]
    n = mapping.num_classes
    raw_cm, crf_cms = np.zeros((n, n), np.int64), [np.zeros((n, n), np.int64) for _ in combos]
    for raw, per_combo in parallel_map(_image_counts, jobs, processes, "score crf"):
        raw_cm += raw
        for total, cm in zip(crf_cms, per_combo, strict=True):
            total += cm
    return raw_cm, crf_cms


def crf_confusions(
    manifest: dict,
    meta: dict,
    pred_dir: str | os.PathLike,
    ids: list[str],
    params: CRFParams,
    processes: int = 1,
    max_side: int = MAX_SIDE,
) -> np.ndarray:
    """One CRF setting's confusion matrix summed over the images `ids` of `pred_dir` (their
    scoring windows)."""
    return _summed(manifest, meta, pred_dir, ids, [params], processes, max_side)[1][0]


def tune_crf(
    manifest_path: str | os.PathLike,
    meta_path: str | os.PathLike,
    pred_dir: str | os.PathLike,
    out_json: str | os.PathLike,
    base: CRFParams,
    grid: dict[str, list[float]],
    max_images: int,
    split: str = "val",
    processes: int = 1,
    max_side: int = MAX_SIDE,
) -> dict:
    """Score every combination of `grid` (CRFParams field -> values) and keep the best, on
    the scoring windows (at most `max_side` a side) of `max_images` images (scored_ids)."""
    manifest, meta = read_json(manifest_path), read_json(meta_path)
    ids = split_sample(meta, split, max_images)
    keys = sorted(grid)
    combos = [
        dataclasses.replace(base, **dict(zip(keys, values, strict=True)))
        for values in itertools.product(*(grid[k] for k in keys))
    ]
    raw_cm, crf_cms = _summed(manifest, meta, pred_dir, ids, combos, processes, max_side)
    first = mapping_from_meta(meta).scored_from
    scores = [foreground_dice(cm, first) for cm in crf_cms]
    best = int(np.argmax(scores))
    raw_dice = foreground_dice(raw_cm, first)
    # Ground truth without foreground: a setting scores only by erasing the raw masks' false
    # positives (1.0 against 0.0), which says nothing of how it treats true objects.
    foreground = int(raw_cm[first:].sum())
    result = {
        "split": split,
        "images": len(ids),
        "ids": ids,
        "max_side": max_side,
        "raw_dice": raw_dice,
        "val_foreground_pixels": foreground,
        "grid": [
            {**{k: getattr(c, k) for k in keys}, "dice": s}
            for c, s in zip(combos, scores, strict=True)
        ],
        "best": dataclasses.asdict(combos[best]),
        "best_dice": scores[best],
        "helps": bool(foreground) and scores[best] > raw_dice,
    }
    if note := sparse_note(meta, split):  # scribbles: the grid never sees an edge
        result["sparse_labels"] = note
        log.warning("CRF tuning: %s", note)
    write_json(out_json, result)
    log.info(
        "CRF on %d %s images: raw foreground Dice %.4f, best CRF %.4f with %s (%s)",
        len(ids),
        split,
        raw_dice,
        scores[best],
        {k: getattr(combos[best], k) for k in keys},
        ("helps" if result["helps"] else "does not help") if foreground
        else "not judged: the ground truth holds no foreground",
    )
    return result
