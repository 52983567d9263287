"""Objects per case in 3-D (evaluate.objects with evaluate.voxel_spacing): a case's slices stacked
as one volume (case_volumes.py), so a mitochondrion spanning 15 slices is one object found or
missed, not 15, as lesion detection counts lesions per patient."""

from __future__ import annotations

import logging

import numpy as np

from unet.common.labels import IGNORE_INDEX
from unet.evaluate.objects import image_objects, log_counts, read_ids, summarise_objects
from unet.evaluate.reading import ScoreJob

log = logging.getLogger(__name__)
# per_case's rule for its `objects`, beside objects_rule (the 2-D one)
OBJECTS_3D_RULE: str = (
    "objects per case in 3-D: the case's slices stacked as for its HD95 (the same order, "
    "ignored voxels and slices), a true object one id of the source masks within each "
    "26-connected blob of the ground truth (ids drawn per image under masks.separate are "
    "numbered afresh in each slice, so such cases take the blobs alone; ids with no pixel "
    "whose 4 in-plane neighbours hold the same id join another as objects_rule says), else a "
    "26-connected "
    "blob, a predicted object a 26-connected blob of the method's masks; matched, counted and "
    "scored as objects_rule says of an image, per case (per_case.csv's objects_* columns) and "
    "from counts summed over the cases with an object (a case with none is cases_empty; one "
    "whose slices differ in size is not measured)"
)


def _volume_ids(slices: tuple[ScoreJob, ...], shape: tuple[int, ...]) -> np.ndarray | None:
    """(D, H, W) ids of the slices' true objects where each slice's are its source mask's (a
    volume's labels: an object keeps its id from slice to slice); None (the blobs) otherwise."""
    if not all(s.object_ids and not s.ids_drawn for s in slices):
        if any(s.object_ids for s in slices):
            log.info("case of %s: object ids drawn per image, or on some slices only, so its "
                     "3-D objects are the ground truth's 26-connected blobs", slices[0].image_id)
        return None
    return np.stack([read_ids(s.object_ids, shape) for s in slices])


def case_objects(slices: tuple[ScoreJob, ...], target: np.ndarray,
                 masks: dict[str, np.ndarray]) -> dict:
    """{method: {class: match's counts}} of one case's (D, H, W) `target` (IGNORE_INDEX left
    out) and each method's (D, H, W) mask, per foreground class of the slices' mapping."""
    mapping = slices[0].mapping
    ids = _volume_ids(slices, target.shape[1:])
    return {m: {str(c): image_objects(target, pred, c, ids, IGNORE_INDEX)
                for c in range(mapping.scored_from, mapping.num_classes)}
            for m, pred in masks.items()}


def _per_case(counts: list[dict]) -> dict:
    """summarise_objects' set scores of per-case counts, its images keys named for cases."""
    s = summarise_objects(counts)
    s["dsb_score_mean_per_case"] = s.pop("dsb_score_mean_per_image")
    s["cases"], s["cases_empty"] = s.pop("images"), s.pop("images_empty")
    return s


def add_case_objects(out: dict, measured: dict, cases: list[str]) -> bool:
    """Into each method's per-case summary in `out` (in place): `objects`, per foreground class
    the counts of the measured `cases` summed and scored, one log line each; False (nothing
    added) where no case was measured with objects."""
    got = [measured[c]["objects"] for c in cases if "objects" in measured[c]]
    if not got:
        return False
    for m, s in out.items():
        s["objects"] = {c: _per_case([g[m][c] for g in got]) for c in got[0][m]}
        for c, n in s["objects"].items():
            log_counts(log, f"{m} class {c} objects per case (3-D)", n)
    return True
