"""`evaluate_masks`: per-image and whole-set scores for raw and CRF masks."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from unet.common.fileio import read_json, write_json
from unet.common.labels import IGNORE_INDEX, MaskMapping, mapping_from_meta, shown_names
from unet.common.parallel import parallel_map
from unet.common.probs import probs_path
from unet.dataset.names import listing
from unet.evaluate import metrics
from unet.evaluate.boundary import (
    HD95_PENALTY,
    image_diagonal,
    image_scores,
    region_boundary,
)
from unet.evaluate.case_volumes import case_spacing, refuse_rowless, rowless_ids
from unet.evaluate.cases import case_summary, spacing_groups
from unet.evaluate.detection import MEAN_POSITIVE_RULE, image_level, target_holds
from unet.evaluate.ground_truth import with_truth
from unet.evaluate.metrics import (
    EMPTY_MASK_CONVENTION,
    foreground_dice,
    foreground_iou,
    mean_or_none,
)
from unet.evaluate.objects import object_source, score_objects
from unet.evaluate.pr_curve import PrPool, read_histograms
from unet.evaluate.reading import ScoreJob, read_scored
from unet.evaluate.regions import region_classes
from unet.evaluate.relaxed import relaxed_counts
from unet.evaluate.requested import add_requested
from unet.evaluate.rows import PER_CLASS, log_scores, write_rows

log = logging.getLogger(__name__)
# Copied into the summary beside the empty-mask convention (kept out of metrics.py, which
# training imports: editing it there would rerun every training).
MEAN_PER_IMAGE_RULE: str = (
    "a class's mean_per_image averages the images whose target or prediction holds it and "
    "those holding no scored class (1, HD95 0, by the convention); an image that lacks only "
    "this class is left out, as its 1.0 would lift any model's score"
)
RULES = {"empty_mask_convention": EMPTY_MASK_CONVENTION, "hd95_penalty": HD95_PENALTY,
         "mean_per_image_rule": MEAN_PER_IMAGE_RULE, "mean_positive_rule": MEAN_POSITIVE_RULE}


def score_image(job: ScoreJob) -> dict:
    """One image's scores per method (each region's (hd95, boundary F1) under `regions` with
    evaluate.regions, relaxed precision's counts under `relaxed` with evaluate.relaxed_slack),
    and its diagonal (the HD95 penalty when a class is missed)."""
    target, masks, outside = read_scored(job)
    out = {m: image_scores(pred, target, job.mapping.num_classes, IGNORE_INDEX, job.tolerance,
                           outside) for m, pred in masks.items()}
    for m, pred in masks.items():
        if job.regions:
            out[m]["regions"] = {name: region_boundary(pred, target, c, IGNORE_INDEX,
                                                       job.tolerance, outside)
                                 for name, c in job.regions.items()}
        if job.relaxed is not None:  # thin structures' slack (roads, vessels, membranes)
            out[m]["relaxed"] = relaxed_counts(pred, target, range(
                job.mapping.scored_from, job.mapping.num_classes), IGNORE_INDEX, job.relaxed)
    scored = {"id": job.image_id, "diagonal": image_diagonal(target.shape), "scores": out}
    if job.probs:  # evaluate.pr_curve: the raw probabilities' histograms, pooled by PrPool
        scored["pr"] = read_histograms(job.probs, target, job.mapping)
    if job.objects:  # evaluate.objects: the true objects' ids where the data has them
        scored["objects"] = score_objects(target, masks, job.object_ids, range(
            job.mapping.scored_from, job.mapping.num_classes), IGNORE_INDEX, job.ids_drawn)
    return scored


def _held(results: list[dict], m: str) -> np.ndarray:
    """(N, C) bool: the classes each image's target or prediction holds, for method `m`."""
    return np.array([s["confusion"].sum(axis=0) + s["confusion"].sum(axis=1) > 0
                     for s in (r["scores"][m] for r in results)]).reshape(len(results), -1)


def _held_image_mean(results: list[dict], m: str, key: str, first: int) -> float:
    """`key` (boundary_f1 or hd95) of each image's classes `first` and up that its target or
    prediction holds, averaged per image then over images, as foreground_dice_mean: an image
    holding none scores boundary F1 1, HD95 0; an inf HD95 counts as the image's diagonal."""
    per_image = []
    for r, held in zip(results, _held(results, m)[:, first:], strict=True):
        s = r["scores"][m]
        values = np.where(np.isinf(s[key]), r["diagonal"], s[key])[first:]
        per_image.append(values[held].mean() if held.any() else float(key != "hd95"))
    return float(np.mean(per_image))


def _counted(results: list[dict], m: str, first: int) -> np.ndarray:
    """(N, C) bool: which images a class's mean over images counts. For a scored class (`first`
    and up), the images whose target or prediction holds it, and those holding no scored
    class (1 by convention, as foreground_dice_mean counts them): an image lacking only this
    class would add its 1.0 (HD95 0) to any model's score. Every image for the others, and
    for a class no image holds (its summary says held: false)."""
    held = _held(results, m)
    counted = held | ~held[:, first:].any(axis=1, keepdims=True)
    counted[:, :first] = True
    counted[:, ~counted.any(axis=0)] = True
    return counted


def summarise(results: list[dict], methods: list[str], num_classes: int, first: int = 1) -> dict:
    """Global scores (counts summed over the set) and means over images, per method and class;
    the foreground means average classes `first` and up (0: no background class).

    An inf HD95 (class in exactly one of target and prediction) enters the mean as that image's
    diagonal (HD95_PENALTY); `hd95_penalised` counts those images. A class's mean over images
    leaves out the images that lack it but hold another scored class (_counted).
    """
    diagonals = np.array([r["diagonal"] for r in results], dtype=np.float64)  # (N,)
    summary: dict = {}
    for m in methods:
        cm = sum(r["scores"][m]["confusion"] for r in results)
        glob = metrics.scores_from_confusion(cm)
        per_class = {}
        counted = _counted(results, m, first)  # (N, C)
        positive = target_holds(results, m, num_classes)  # (N, C): the ground truth holds c
        for c in range(num_classes):
            stack = {k: np.array([r["scores"][m][k][c] for r in results]) for k in PER_CLASS}
            missed = np.isinf(stack["hd95"])
            stack["hd95"] = np.where(missed, diagonals, stack["hd95"])
            per_class[str(c)] = {
                "global": {k: float(glob[k][c]) for k in ("dice", "iou", "precision", "recall")},
                "mean_per_image": {k: mean_or_none(v[counted[:, c]]) for k, v in stack.items()},
                "mean_positive": {k: mean_or_none(v[positive[:, c]]) for k, v in stack.items()},
                "hd95_penalised": int(missed.sum()),
                # in the target or the prediction of some image: else every score is 0/0,
                # 1 by convention, and the means over classes leave it out
                "held": bool(cm[c].sum() or cm[:, c].sum()),
            }
        summary[m] = {
            "pixel_accuracy": float(glob["accuracy"]),
            # Classes in neither target nor prediction of the whole set (0/0) are left out.
            "foreground_dice_global": foreground_dice(cm, first),
            "foreground_iou_global": foreground_iou(cm, first),  # mIoU
            # class 0 too, as VOC's 21-class mIoU counts its background (Cityscapes has none)
            "iou_global_all_classes": foreground_iou(cm, 0),
            # Each image's mean over the classes its target or prediction holds, then over images
            "foreground_dice_mean": float(np.mean(
                [foreground_dice(r["scores"][m]["confusion"], first) for r in results])),
            # The images whose ground truth holds a scored class only: inspection data's
            # defect-free images, 1 each when left empty, lift foreground_dice_mean
            "foreground_dice_mean_positive": mean_or_none(np.array(
                [foreground_dice(r["scores"][m]["confusion"], first)
                 for r, p in zip(results, positive[:, first:].any(axis=1), strict=True) if p])),
            "foreground_boundary_f1_mean": _held_image_mean(results, m, "boundary_f1", first),
            "foreground_hd95_mean": _held_image_mean(results, m, "hd95", first),
            "hd95_penalty": HD95_PENALTY,
            "classes": per_class,
            "images": image_level(results, m, num_classes, first),  # detected, missed, ...
        }
    return summary


def _labelled(results: list[dict], split: str, by_id: dict) -> tuple[list[dict], list[str]]:
    """The images with a labelled pixel, and the ids of those whose ground truth is all
    ignored: their every score would be 0/0, counted as 1.0, so they are left out (and named);
    a split without one labelled pixel is refused."""
    labelled = [_labelled_one(r) for r in results]
    scored = [r for r, keep in zip(results, labelled, strict=True) if keep]
    unlabelled = [r["id"] for r, keep in zip(results, labelled, strict=True) if not keep]
    if results and not scored:
        raise ValueError(
            f"every ground-truth mask of the {split} split is all ignored (masks.ignore, "
            f"masks.unlisted), e.g. {by_id[results[0]['id']]['mask']}: nothing to score; set "
            "split.test_ids to labelled images"
        )
    if unlabelled:
        log.warning("not scored, their ground truth is all ignored: %s", listing(unlabelled))
    return scored, unlabelled


def _labelled_one(result: dict) -> bool:
    """Whether an image's ground truth holds a pixel that is scored (not all ignored)."""
    return any(s["confusion"].any() for s in result["scores"].values())


def _score(jobs: list[ScoreJob], processes: int, spacing: list[float] | str | os.PathLike | None,
           groups: dict[str, str] | None, pool: PrPool | None = None) -> list[dict]:
    """score_image of each job, in order (`pool`: evaluate.pr_curve's, each image's
    probability histograms pooled as it comes, not held per image). Where
    evaluate.voxel_spacing's table has no row for a case (`groups`: spacing_groups'), that
    case's slices go first: one labelled is refused before the rest is scored (minutes on a
    large set); a case all ignored is not scored, so it needs no row."""
    rowless = rowless_ids(spacing, groups, [j.image_id for j in jobs])
    first = [j for j in jobs if j.image_id in rowless]
    # `if first`: no empty progress line in the log where every case has its row
    take = pool.take if pool else iter
    done = {r["id"]: r for r in take(parallel_map(score_image, first, processes, "score"))
            } if first else {}
    refuse_rowless(spacing, sorted({rowless[i] for i, r in done.items() if _labelled_one(r)}),
                   len({groups[j.image_id] for j in jobs}) if groups else 0)
    done |= {r["id"]: r for r in take(parallel_map(
        score_image, [j for j in jobs if j.image_id not in done], processes, "score"))}
    return [done[j.image_id] for j in jobs]


def _deltas(methods: dict) -> dict:
    """Each method's summary scores minus the raw masks' (e.g. crf_minus_raw)."""
    keys = ("pixel_accuracy", "foreground_dice_global", "foreground_dice_mean")
    return {f"{m}_minus_raw": {k: methods[m][k] - methods["raw"][k] for k in keys}
            for m in methods if m != "raw"}


def _jobs(ids: list[str], by_id: dict, mask_dirs: dict, mapping: MaskMapping, tolerance: float,
          regions: dict[str, list[int]] | None, objects: bool = False,
          relaxed: float | None = None, probs_dir: str | os.PathLike | None = None
          ) -> list[ScoreJob]:
    """One ScoreJob per id: its ground truth, each method's mask, the regions' classes, with
    `objects` where its true objects' ids are (object_source), the relaxed slack, and its
    probabilities under `probs_dir` (predict_masks' folder) for evaluate.pr_curve."""
    sources = {i: object_source(by_id[i], mapping.threshold) if objects else ("", None)
               for i in ids}
    return [ScoreJob(i, by_id[i]["mask"], {m: str(Path(d) / f"{i}.png") for m, d in
                     mask_dirs.items()}, mapping, tolerance, by_id[i].get("roi"), regions or None,
                     objects, sources[i][1], sources[i][0] == "drawn", relaxed,
                     by_id[i].get("ignore_regions"),
                     str(probs_path(probs_dir, i)) if probs_dir else None) for i in ids]


def evaluate_masks(
    manifest_path: str | os.PathLike,
    meta_path: str | os.PathLike,
    mask_dirs: dict[str, str | os.PathLike],
    csv_out: str | os.PathLike, json_out: str | os.PathLike,
    split: str = "test", tolerance: float = 2, processes: int = 1,
    choice_json: str | os.PathLike | None = None, class_names: list[str] | None = None,
    regions: dict[str, list] | None = None, group_by: str | None = None,
    cases_csv: str | os.PathLike | None = None, dataset: dict | None = None,
    voxel_spacing: list[float] | str | os.PathLike | None = None, objects: bool = False,
    iou_threshold: float | None = None, ground_truth: dict | None = None,
    relaxed_slack: float | None = None, probs_dir: str | os.PathLike | None = None) -> dict:
    """Score each method's masks (e.g. {'raw': dir, 'crf': dir}) against the ground truth;
    `choice_json`: finalize_masks' record of what final/ holds, copied into the summary;
    `class_names`: masks.names, else the data's names; `regions`: evaluate.regions, unions of
    classes scored as one; `group_by`: split.group_by, each case scored whole too (`per_case`,
    `cases_csv`), a volume of `voxel_spacing` (z, y, x, or a table's path) for HD95 and BF1;
    `objects`: evaluate.objects, object scores beside the pixel scores (unet.evaluate.objects);
    `iou_threshold`: ISIC's Jaccard; `ground_truth`: other masks, `dataset` for their {group};
    `relaxed_slack`: px of slack for relaxed precision and recall (unet.evaluate.relaxed);
    `probs_dir`: predict_masks' folder, its probabilities for evaluate.pr_curve."""
    manifest, meta = read_json(manifest_path), read_json(meta_path)
    by_id = {p["id"]: p for p in manifest["pairs"]}
    ids, values = meta["splits"][split]["ids"], meta["class_values"]
    mapping = mapping_from_meta(meta)
    by_id, mapping, truth = with_truth(ids, by_id, mapping, ground_truth, manifest, dataset)
    jobs = _jobs(ids, by_id, mask_dirs, mapping, tolerance, regions and region_classes(
        regions, mapping.groups(), shown_names(class_names, meta), rgb=mapping.rgb,
        ignore=None if mapping.rgb else mapping.ignore), objects, relaxed_slack, probs_dir)
    cased = spacing_groups(manifest, group_by, voxel_spacing)  # (each id's case or None, split)
    groups, pool, methods = cased[0], PrPool() if probs_dir else None, list(mask_dirs)
    results, unlabelled = _labelled(_score(jobs, processes, voxel_spacing, groups, pool), split,
                                    by_id)
    voxel_spacing = case_spacing(voxel_spacing, groups, [r["id"] for r in results])  # scored ones
    summary = {
        "split": split, "images": len(results),
        "unlabelled": unlabelled,  # ids whose ground truth is all ignored: not scored
        "class_values": values,
        "class_labels": mapping.labels(),  # the values as the config writes them: [r, g, b]
        "class_names": shown_names(class_names, meta),  # masks.names, COCO categories, or None
        "ignore_value": meta.get("ignore_value"), "boundary_tolerance_px": tolerance,
        **RULES,  # what a 1.0 on an empty class means, and what each mean averages
        # The classes the foreground scores average: 1 and up, or all (masks.background: false)
        "scored_classes": list(range(mapping.scored_from, mapping.num_classes)),
        "methods": summarise(results, methods, len(values), mapping.scored_from),
        **({"ground_truth": truth} if truth else {}),  # evaluate.ground_truth's, folder resolved
    }
    add_requested(summary, results, by_id, mapping, regions, objects, iou_threshold, relaxed_slack,
                  pool)
    if "raw" in methods:  # each other method's gain over the network's own output
        summary["delta"] = _deltas(summary["methods"])
    if choice_json:  # which post-processing final/ holds, chosen on validation, and why
        summary["final"] = read_json(choice_json)
    write_rows(csv_out, results, mapping.labels(), mapping.scored_from, summary["class_names"])
    if group_by:  # a volume's slices: scored as one case too, as the Decathlon and BraTS do
        summary["per_case"] = case_summary(results, methods, cased, group_by, summary,
                                           cases_csv, jobs, processes, voxel_spacing)
    write_json(json_out, summary)
    log_scores(log, summary["methods"], len(results))
    return summary

