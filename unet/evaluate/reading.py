"""Reading what evaluate_masks scores: an image's ground truth and each method's mask, with
the region of interest and no-data pixels set to ignored; per image, and per case (cases.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unet.common.imageio import ImageReadError
from unet.common.labels import IGNORE_INDEX, MaskMapping
from unet.common.probs import RERUN_PREDICTION
from unet.common.roi import left_out
from unet.evaluate.void import unscored


@dataclass(frozen=True)
class ScoreJob:
    """One image to score: its ground truth and each method's predicted mask."""

    image_id: str
    gt_path: str
    preds: dict[str, str]  # method -> predicted mask file
    mapping: MaskMapping
    tolerance: float  # boundary F1 tolerance in px
    roi: str | None = None  # the image's region of interest: outside it is not scored
    regions: dict[str, list[int]] | None = None  # evaluate.regions' classes, scored as one
    objects: bool = False  # evaluate.objects: object counts per foreground class too
    object_ids: str | None = None  # the true objects' ids (None: the target's components)
    ids_drawn: bool = False  # object_ids drawn per image (masks.separate): no ids across slices
    relaxed: float | None = None  # evaluate.relaxed_slack px: relaxed precision's counts too
    ignored: str | None = None  # the image's region to ignore: not scored, masks kept as are
    probs: str | None = None  # evaluate.pr_curve: the raw probabilities (C, H, W) .npy


# The rule that writes each method's masks: what to rerun when one cannot be read.
WRITTEN_BY = {"raw": "predict_masks", "crf": "refine_crf", "final": "finalize_masks"}


def _read_prediction(mapping: MaskMapping, method: str, path: str) -> np.ndarray:
    """A method's mask as class indices; missing or damaged, an error naming it and the rule
    to rerun (the generic advice, to replace or remove the file and its mask, is for data)."""
    try:
        return mapping.read_index(path, "predicted mask")
    except ImageReadError as err:
        rule = WRITTEN_BY.get(method, "the step that wrote it")
        raise ImageReadError(
            f"cannot read the {method} mask {path} ({err.__cause__ or err}): a file deleted or "
            f"cut short in a folder Snakemake does not look inside; rerun {rule}, e.g. "
            f"snakemake --forcerun {rule} with the same --configfile"
        ) from err


def read_scored(job: ScoreJob) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray | None]:
    """(H, W) target class indices (IGNORE_INDEX beyond the region of interest and on no-data
    pixels), each method's (H, W) mask, and the (H, W) bool pixels outside (None: none)."""
    target = job.mapping.read_index(job.gt_path, "ground-truth mask")  # (H, W) class indices
    # beyond the region of interest or in the region to ignore: ignored, and beyond the
    # image's edge for boundaries
    outside = left_out(job.roi, job.ignored, target.shape, job.gt_path)
    masks = {m: _read_prediction(job.mapping, m, path) for m, path in job.preds.items()}
    for method, pred in masks.items():
        if pred.shape != target.shape:
            raise ValueError(
                f"predicted mask {job.preds[method]} is {pred.shape[::-1]}, its ground truth "
                f"{job.gt_path} is {target.shape[::-1]}; {RERUN_PREDICTION}")
    outside = unscored(list(masks.values()), outside)  # and the scene's no-data pixels
    target = target if outside is None else np.where(outside, IGNORE_INDEX, target).astype(np.uint8)
    return target, masks, outside
