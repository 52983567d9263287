"""Per-case boundary scores (split.group_by with evaluate.voxel_spacing): each case's slices read
again, stacked in id order as one volume, and its HD95 and boundary F1 measured over the 3-D
surface per class and region (volume.py) in the spacing's unit, as BraTS and KiTS rank cases.
Dice per case needs no masks (cases.py)."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass

import numpy as np

from unet.common.labels import IGNORE_INDEX
from unet.common.parallel import parallel_map
from unet.dataset.spacing_table import read_spacing_table
from unet.evaluate.objects3d import case_objects
from unet.evaluate.reading import ScoreJob, read_scored
from unet.evaluate.volume import volume_diagonal, volume_scores

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseJob:
    """One case: its slices' jobs in stacking order, its classes and regions to measure."""

    case: str
    slices: tuple[ScoreJob, ...]
    num_classes: int
    regions: dict[str, list[int]]
    tolerance: float  # boundary F1 tolerance in px
    spacing: tuple[float, float, float]  # (slice, row, column) voxel size, e.g. in mm


@dataclass(frozen=True)
class CaseSpacing:
    """evaluate.voxel_spacing as a table: each case's own (z, y, x) voxel size, in one unit."""

    path: str
    unit: str
    by_case: dict[str, tuple[float, float, float]]


def case_spacing(spacing: list[float] | str | os.PathLike | None, groups: dict[str, str] | None,
                 ids: list[str]) -> list[float] | CaseSpacing | None:
    """evaluate.voxel_spacing as given, or where it is a table's path (and `groups` names
    each id's case) its rows of the cases of `ids` (the scored ones), before anything is
    written; a case it lacks, or
    cases of two units (a mean HD95 of mm and um is no length), refused naming them."""
    if groups is None or not isinstance(spacing, (str, os.PathLike)):
        return spacing
    path, cases = spacing, {groups[i] for i in ids}
    table = read_spacing_table(path)
    refuse_rowless(path, sorted(cases - set(table)), len(cases))
    units = {table[c][1] for c in cases}
    if len(units) > 1:
        _refuse_units(path, {c: table[c][1] for c in cases})
    return CaseSpacing(str(path), units.pop() if units else "",
                       {c: table[c][0] for c in sorted(cases)})


def rowless_ids(spacing: list[float] | str | os.PathLike | None,
                groups: dict[str, str] | None, ids: list[str]) -> dict[str, str]:
    """{id: its case} of the ids of `ids` whose case has no row in evaluate.voxel_spacing's
    table; {} where it is no table (or no split.group_by), or every case has its row."""
    if groups is None or not isinstance(spacing, (str, os.PathLike)):
        return {}
    table = read_spacing_table(spacing)
    return {i: groups[i] for i in ids if groups[i] not in table}


def refuse_rowless(path: str | os.PathLike, missing: list[str], cases: int) -> None:
    """Refuse the `missing` cases (of `cases` scored) that the table at `path` has no row for."""
    if missing:
        raise ValueError(
            f"case {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} "
            f"({len(missing)} of {cases}) has no row in {path} (evaluate.voxel_spacing), "
            "so its HD95 has no mm: split its volume with `unet unstack VOLUME FOLDER` into "
            "the table's folder (it adds the row), or add `case,z,y,x,unit` by hand")


def _refuse_units(path: str | os.PathLike, units: dict[str, str]) -> None:
    """Refuse cases whose rows give several units (a mean HD95 of mm and um is no length),
    naming those without one (a NIfTI header of unknown units) and the fix for them."""
    said = ", ".join(sorted(repr(u) for u in set(units.values())))
    blank = sorted(c for c, u in units.items() if not u)
    if blank and len(set(units.values())) == 2:  # rows without a unit beside one unit
        unit = next(u for u in units.values() if u)
        named = ", ".join(blank[:5]) + (" ..." if len(blank) > 5 else "")
        raise ValueError(
            f"{path}: case {named} ({len(blank)} of {len(units)}) has no unit (its volume's "
            f"header said none), beside cases in {unit!r}: a mean HD95 needs one. Write the "
            f"unit its sizes are in into the row's unit column ({unit} where its volume came "
            "as the others did: ITK reads a NIfTI of unknown units as mm)")
    raise ValueError(f"{path}: the cases' sizes are in several units ({said}): a mean "
                     "HD95 needs one: resample the volumes, or rewrite the rows in one")


def _natural(image_id: str) -> list:
    """Sort key reading digit runs as numbers: slice 10 after slice 9, not after slice 1."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", image_id)]


def _stacked(job: CaseJob) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """(D, H, W) target and each method's masks, ignored voxels IGNORE_INDEX in the target;
    None (logged) when the slices differ in size: no volume to measure."""
    read = [read_scored(s) for s in job.slices]
    shapes = {t.shape for t, _, _ in read}
    if len(shapes) > 1:
        log.warning("case %s: its slices differ in size (%s), so no volume: its hd95, "
                    "boundary_f1 and 3-D objects are left blank", job.case,
                    ", ".join(map(str, sorted(shapes))))
        return None
    target = np.stack([t for t, _, _ in read])
    return target, {m: np.stack([masks[m] for _, masks, _ in read]) for m in read[0][1]}


def measure_case(job: CaseJob) -> dict:
    """{method: {"hd95": [C], "boundary_f1": [C], "regions": {name: [hd95, bf1]}}} and the
    volume's diagonal (the penalty of a class in one mask only); {} where _stacked is None."""
    got = _stacked(job)
    if got is None:
        return {"case": job.case, "diagonal": None, "methods": {}}
    target, masks = got
    ignored = target == IGNORE_INDEX  # outside the class in both masks
    spacing = job.spacing
    # the tolerance is px of the images (evaluate.boundary_tolerance): in the spacing's unit
    tolerance = job.tolerance * min(spacing[1:])
    out = {}
    for m, pred in masks.items():
        pred = np.where(ignored, IGNORE_INDEX, pred)

        def scores(classes, pred=pred):
            return volume_scores(np.isin(pred, classes), np.isin(target, classes), spacing,
                                 tolerance)
        per_class = [scores([c]) for c in range(job.num_classes)]
        out[m] = {"hd95": [h for h, _ in per_class], "boundary_f1": [b for _, b in per_class],
                  "regions": {name: list(scores(c)) for name, c in job.regions.items()}}
    got = {"case": job.case, "diagonal": volume_diagonal(target.shape, spacing), "methods": out}
    if job.slices[0].objects:  # evaluate.objects: the raw masks' blobs, as score_image's
        got["objects"] = case_objects(job.slices, target, masks)
    return got


def case_boundaries(jobs: list[ScoreJob], groups: dict[str, str], num_classes: int,
                    regions: dict[str, list[int]], tolerance: float,
                    spacing: tuple[float, float, float] | CaseSpacing,
                    processes: int = 1) -> dict:
    """Case -> measure_case's result, each case's slices (`jobs`, grouped by `groups`)
    stacked in natural id order as voxels of `spacing` (z, y, x; a table: the case's own),
    over `processes` workers a case at a time."""
    by_case: dict[str, list[ScoreJob]] = {}
    for j in jobs:
        by_case.setdefault(groups[j.image_id], []).append(j)
    cases = [CaseJob(c, tuple(sorted(s, key=lambda j: _natural(j.image_id))), num_classes,
                     regions, tolerance, spacing.by_case[c] if isinstance(spacing, CaseSpacing)
                     else tuple(spacing)) for c, s in sorted(by_case.items())]
    return {r["case"]: r for r in parallel_map(measure_case, cases, processes, "case volumes")}
