"""Per-case scores (split.group_by): each case's images' confusion matrices summed and scored
as one volume, as the Decathlon, BraTS and KiTS report Dice per case (3-D), not per slice.
Built from the per-image counts already there: no mask is read again."""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Collection
from pathlib import Path

import numpy as np

from unet.common.fileio import atomic_path
from unet.dataset.spacing_table import read_spacing_table
from unet.dataset.split import groups_of
from unet.evaluate.case_volumes import CaseSpacing, case_boundaries
from unet.evaluate.metrics import foreground_dice, mean_or_none, scores_from_confusion
from unet.evaluate.objects import OBJECT_COLUMNS, object_cells
from unet.evaluate.objects3d import OBJECTS_3D_RULE, add_case_objects
from unet.evaluate.reading import ScoreJob
from unet.evaluate.regions import region_confusion
from unet.evaluate.rows import class_name
from unet.evaluate.volume import volume_rule

log = logging.getLogger(__name__)

# Copied into the summary: what a case is and which cases each mean counts.
PER_CASE_RULE: str = (
    "a case is a split.group_by group (a volume's slices, a patient's images): its scores "
    "come from its images' confusion matrices summed, as of one 3-D volume; `mean` averages "
    "every case (a class or region absent from both a case's target and prediction scoring 1, "
    "by the empty-mask convention), `mean_positive` the cases whose ground truth holds it"
)
# ... and, without evaluate.voxel_spacing, why a case has no HD95
NOT_VOLUMES: str = (
    "hd95 and boundary_f1 per case are not measured: evaluate.voxel_spacing is unset, so a "
    "case's images are not taken as slices of one volume (set it to the voxel size, z, y, x, "
    "to measure them)"
)
# a slice's id as unet unstack names it: its volume's stem, then _<k>
_SLICE = re.compile(r"^(.+)_\d+$")
# ... and where a group holds several of the spacing table's volumes (a patient's frames)
WITHIN_GROUPS: str = (
    "a case is each volume of the spacing table (its rows' slices, <case>_<k>) where a "
    "split.group_by group holds several, as a patient's ED and ES frames split together"
)
ROW_SCORES = ("dice", "iou", "precision", "recall")
BOUNDARY_SCORES = ("hd95", "boundary_f1")  # of the case's volume (case_volumes.py)


def case_groups(manifest: dict, group_by: str) -> dict[str, str]:
    """Each id's case, as split_dataset grouped it; a folder named below the data's root."""
    groups = groups_of(manifest["pairs"], group_by) or {}
    if group_by == "folder" and manifest.get("root"):  # the patient's folder, not a full path
        groups = {i: os.path.relpath(g, manifest["root"]) for i, g in groups.items()}
    return groups


def volume_cases(groups: dict[str, str], volumes: Collection[str]) -> dict[str, str]:
    """`groups` with the ids of a group that has no row in a spacing table (`volumes`) but
    holds a volume that has (a slice stem, `<stem>_<k>` as unet unstack names it) made cases of
    their own stems: a patient's ED and ES frames, split together by patient, are two volumes,
    not one stacked. A frame without its row is so refused by its own name, not the patient's
    (whose row, added by hand, stacked both frames as one)."""
    stems = {i: m.group(1) for i in groups if (m := _SLICE.match(i))}
    holding = {g for i, g in groups.items() if g not in volumes and stems.get(i) in volumes}
    return {i: stems.get(i, g) if g in holding else g for i, g in groups.items()}


def spacing_groups(manifest: dict, group_by: str | None,
                   spacing: list[float] | str | os.PathLike | None
                   ) -> tuple[dict[str, str] | None, bool]:
    """{id: its case} under split.group_by (None without it); where evaluate.voxel_spacing is a
    table, a group's slices of the table's own volumes are cases of those volumes
    (volume_cases: a patient's ED and ES frames), and whether any group was so split."""
    groups = case_groups(manifest, group_by) if group_by else None
    if groups is None or not isinstance(spacing, (str, os.PathLike)):
        return groups, False
    cased = volume_cases(groups, read_spacing_table(spacing))
    return cased, cased != groups


def _case_counts(results: list[dict], groups: dict[str, str], m: str) -> dict:
    """Case -> (its image count, its summed (C, C) confusion matrix) for method `m`, sorted."""
    out: dict[str, list] = {}
    for r in results:
        case = out.setdefault(groups[r["id"]], [0, 0])
        case[0] += 1
        case[1] = case[1] + r["scores"][m]["confusion"]
    return {k: tuple(out[k]) for k in sorted(out)}


def _means(cms: np.ndarray, index: int, bounds: tuple | None = None) -> dict:
    """Mean Dice and IoU over the cases of one class (`index` in each (K, C, C) matrix); with
    `bounds` ((K,) HD95, (K,) boundary F1, (K,) diagonals; NaN: a case not measured) their
    means too, an inf HD95 counted as the case's diagonal as a class's over images."""
    scores = [scores_from_confusion(cm) for cm in cms]
    stack = {k: np.array([s[k][index] for s in scores]) for k in ("dice", "iou")}
    positive = cms[:, index, :].sum(axis=1) > 0  # the case's ground truth holds it
    out = {"mean": {k: mean_or_none(v) for k, v in stack.items()},
           "mean_positive": {k: mean_or_none(v[positive]) for k, v in stack.items()},
           "positive": int(positive.sum())}
    if bounds is not None:
        hd, bf1, diagonal = bounds
        missed = np.isinf(hd)
        measured = ~np.isnan(bf1)
        for key, v in (("hd95", np.where(missed, diagonal, hd)), ("boundary_f1", bf1)):
            out["mean"][key] = mean_or_none(v[measured])
            out["mean_positive"][key] = mean_or_none(v[measured & positive])
        out["hd95_penalised"] = int(missed.sum())
    return out


def _method(cms: np.ndarray, first: int, regions: dict[str, list[int]],
            bounds: dict | None = None) -> dict:
    """One method's per-case means from its (K, C, C) case matrices; `bounds`: _bounds'."""
    fg = np.array([foreground_dice(cm, first) for cm in cms])
    positive = cms[:, first:, :].sum(axis=(1, 2)) > 0  # the case holds a scored class
    b = bounds or {}

    def part(key, i):
        return (b[key][0][:, i], b[key][1][:, i], b["diagonal"]) if b else None
    return {
        "foreground_dice_mean": mean_or_none(fg),
        "foreground_dice_mean_positive": mean_or_none(fg[positive]),
        "cases_positive": int(positive.sum()),
        "classes": {str(c): _means(cms, c, part("classes", c)) for c in range(cms.shape[1])},
        "regions": {name: _means(np.array([region_confusion(cm, c) for cm in cms]), 1,
                                 part("regions", k))
                    for k, (name, c) in enumerate(regions.items())},
    }


def _bounds(measured: dict, cases: list[str], m: str, num_classes: int,
            regions: list[str]) -> dict:
    """Method `m`'s (K, C) HD95 and boundary F1 of classes, (K, R) of regions, (K,) diagonals
    from case_volumes' `measured`, NaN for a case not measured (slices of several sizes)."""
    k, nan = len(cases), np.nan
    out = {"classes": (np.full((k, num_classes), nan), np.full((k, num_classes), nan)),
           "regions": (np.full((k, len(regions)), nan), np.full((k, len(regions)), nan)),
           "diagonal": np.full(k, nan)}
    for i, case in enumerate(cases):
        got = measured[case]
        if m not in got["methods"]:
            continue
        s = got["methods"][m]
        out["diagonal"][i] = got["diagonal"]
        out["classes"][0][i], out["classes"][1][i] = s["hd95"], s["boundary_f1"]
        for r, name in enumerate(regions):
            out["regions"][0][i, r], out["regions"][1][i, r] = s["regions"][name]
    return out


def case_summary(results: list[dict], methods: list[str], cased: tuple[dict[str, str], bool],
                 group_by: str, summary: dict, csv_out: str | os.PathLike | None,
                 jobs: list[ScoreJob] | None = None, processes: int = 1,
                 spacing: list[float] | CaseSpacing | None = None) -> dict:
    """summary.json's `per_case` (`summary`: the rest of it, for the classes and regions),
    per_case.csv at `csv_out`, and one log line per method; `cased`: spacing_groups' (each
    id's case, whether the table split a group), as the caller scored them, not derived again
    (0.2 s of 20,000 ids by folder); with `jobs` (the scored images') and `spacing`
    (evaluate.voxel_spacing, z, y, x, or each case's from its table), each case's slices are
    read again and its HD95 and boundary F1 measured as a volume, in the spacing's unit."""
    groups, within = cased  # within: the table's volumes inside a group, each a case
    regions = summary.get("regions", {}).get("classes", {})
    first = summary["scored_classes"][0] if summary["scored_classes"] else 0
    counts = {m: _case_counts(results, groups, m) for m in methods}
    # a case's every slice, its all-ignored ones too (not scored in 2-D): dropped, the slices
    # either side of one would be stacked as neighbours, distances across it a slice short
    scored = {groups[r["id"]] for r in results}
    measured = None if jobs is None or not spacing else case_boundaries(
        [j for j in jobs if groups[j.image_id] in scored], groups,
        len(summary["class_values"]), regions, summary["boundary_tolerance_px"],
        spacing if isinstance(spacing, CaseSpacing) else tuple(spacing), processes)
    out = {m: _method(np.array([cm for _, cm in counts[m].values()]), first, regions,
                      None if measured is None else _bounds(
                          measured, list(counts[m]), m, len(summary["class_values"]),
                          list(regions))) for m in methods}
    # evaluate.objects too: each case's objects in 3-D, beside its HD95
    objects = measured is not None and add_case_objects(out, measured, list(
        next(iter(counts.values()), {})))
    if csv_out is not None:
        write_cases(csv_out, counts, summary["class_labels"], regions, measured, objects,
                    summary.get("class_names"))
    cases = len(next(iter(counts.values()), {}))
    for m, s in out.items():
        positive = s["foreground_dice_mean_positive"]
        log.info("%s: per case (%d cases, split.group_by): foreground Dice %.4f (mean/case) %s "
                 "(mean over the %d cases holding foreground)", m, cases,
                 s["foreground_dice_mean"], "n/a" if positive is None else f"{positive:.4f}",
                 s["cases_positive"])
    if measured is None:
        return {"group_by": group_by, "cases": cases, "rule": f"{PER_CASE_RULE}; {NOT_VOLUMES}",
                "methods": out}
    extra = {"objects_rule": OBJECTS_3D_RULE} if objects else {}
    if isinstance(spacing, CaseSpacing):  # the table, its unit and what it gave each case
        return {"group_by": group_by, "cases": cases, "voxel_spacing": spacing.path,
                "spacing_unit": spacing.unit,
                "case_spacing": {c: list(v) for c, v in spacing.by_case.items()},
                "rule": f"{PER_CASE_RULE}; {volume_rule(spacing.path)}"
                        + (f"; {WITHIN_GROUPS}" if within else ""), "methods": out, **extra}
    return {"group_by": group_by, "cases": cases, "voxel_spacing": list(spacing),
            "rule": f"{PER_CASE_RULE}; {volume_rule(spacing)}", "methods": out, **extra}


def _boundary_cells(measured: dict | None, case: str, m: str, name) -> list[str]:
    """A per_case.csv row's hd95 and boundary_f1 (inf: in one mask only; blank: the case's
    slices differ in size); [] without measurements."""
    if measured is None:
        return []
    s = measured[case]["methods"].get(m)
    if s is None:
        return ["", ""]
    pair = s["regions"][name] if isinstance(name, str) else (s["hd95"][name],
                                                             s["boundary_f1"][name])
    return [f"{v:.10g}" for v in pair]


def write_cases(path: str | os.PathLike, counts: dict, values: list,
                regions: dict[str, list[int]], measured: dict | None = None,
                objects: bool = False, names: list | None = None) -> None:
    """One CSV row per case, method and class (then region: `class` and `name` its name,
    `value` its classes; a class's `name` from `names`, else blank), with the case's image
    count, its pixels in target and prediction, and scores
    (pixel_accuracy: the share of the case's labelled pixels right, a region's as one class;
    HD95 and boundary F1 of the case's volume with `measured`, case_volumes'; with `objects`
    its 3-D objects' counts and scores, blank for background, regions and unmeasured cases)."""
    with atomic_path(Path(path)) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "method", "class", "value", "name", "images", "target_px",
                    "predicted_px",
                    *ROW_SCORES, "pixel_accuracy",
                    *(BOUNDARY_SCORES if measured is not None else ()),
                    *(OBJECT_COLUMNS if objects else ())])
        for m, cases in counts.items():
            for case, (n, cm) in cases.items():
                rows = [(c, v, cm) for c, v in enumerate(values)]
                rows += [(name, c, region_confusion(cm, c)) for name, c in regions.items()]
                for name, value, matrix in rows:
                    k = 1 if isinstance(name, str) else name
                    s = scores_from_confusion(matrix)
                    w.writerow([case, m, name, value,
                                name if isinstance(name, str) else class_name(names, name), n,
                                int(matrix[k].sum()),
                                int(matrix[:, k].sum()), *(f"{s[key][k]:.10g}" for key in
                                                           ROW_SCORES),
                                f"{s['accuracy']:.10g}",  # over the case's pixels (Inria's)
                                *_boundary_cells(measured, case, m, name),
                                *(object_cells(measured[case] if isinstance(name, int) else {},
                                               m, name) if objects else ())])
