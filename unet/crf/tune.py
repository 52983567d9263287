"""`tune_crf`: grid-search the CRF's pairwise terms on the validation split."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os

import numpy as np

from unet.common.fileio import read_json, write_json
from unet.common.imageio import read_image
from unet.common.labels import IGNORE_INDEX, MaskMapping, mapping_from_meta
from unet.common.parallel import parallel_map
from unet.common.probs import probs_path, read_probs
from unet.crf.dense import CRFParams, refine
from unet.evaluate.metrics import confusion_matrix, scores_from_confusion

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CountJob:
    """One validation image: its pixels, predicted probabilities and ground truth."""

    image_path: str
    probs_path: str
    gt_path: str
    mapping: MaskMapping
    combos: list[CRFParams]  # CRF settings to score


def _image_counts(job: CountJob) -> tuple[np.ndarray, list[np.ndarray]]:
    """Confusion matrices of one image: raw argmax, then the CRF at each grid point."""
    image = read_image(job.image_path)
    probs = np.asarray(read_probs(job.probs_path))  # (C, H, W) float16
    target = job.mapping.read_index(job.gt_path)
    n = job.mapping.num_classes
    raw_cm = confusion_matrix(probs.argmax(0), target, n, IGNORE_INDEX)
    return raw_cm, [
        confusion_matrix(refine(image, probs, p), target, n, IGNORE_INDEX) for p in job.combos
    ]


def _fg_dice(cm: np.ndarray) -> float:
    return float(scores_from_confusion(cm)["dice"][1:].mean())


def _summed(
    manifest: dict,
    meta: dict,
    pred_dir: str | os.PathLike,
    ids: list[str],
    combos: list[CRFParams],
    processes: int,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Confusion matrices summed over `ids`: raw argmax, and the CRF at each of `combos`."""
    by_id = {p["id"]: p for p in manifest["pairs"]}
    mapping = mapping_from_meta(meta)
    jobs = [
        CountJob(by_id[i]["image"], str(probs_path(pred_dir, i)),
                 by_id[i]["mask"], mapping, combos)
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
) -> np.ndarray:
    """One CRF setting's confusion matrix summed over the images `ids` of `pred_dir`."""
    return _summed(manifest, meta, pred_dir, ids, [params], processes)[1][0]


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
) -> dict:
    """Score every combination of `grid` (CRFParams field -> values) and keep the best."""
    manifest, meta = read_json(manifest_path), read_json(meta_path)
    ids = meta["splits"][split]["ids"][:max_images]
    keys = sorted(grid)
    combos = [
        dataclasses.replace(base, **dict(zip(keys, values, strict=True)))
        for values in itertools.product(*(grid[k] for k in keys))
    ]
    raw_cm, crf_cms = _summed(manifest, meta, pred_dir, ids, combos, processes)
    scores = [_fg_dice(cm) for cm in crf_cms]
    best = int(np.argmax(scores))
    raw_dice = _fg_dice(raw_cm)
    result = {
        "split": split,
        "images": len(ids),
        "raw_dice": raw_dice,
        "grid": [
            {**{k: getattr(c, k) for k in keys}, "dice": s}
            for c, s in zip(combos, scores, strict=True)
        ],
        "best": dataclasses.asdict(combos[best]),
        "best_dice": scores[best],
        "helps": scores[best] > raw_dice,
    }
    write_json(out_json, result)
    log.info(
        "CRF on %d %s images: raw foreground Dice %.4f, best CRF %.4f with %s (%s)",
        len(ids),
        split,
        raw_dice,
        scores[best],
        {k: getattr(combos[best], k) for k in keys},
        "helps" if result["helps"] else "does not help",
    )
    return result
