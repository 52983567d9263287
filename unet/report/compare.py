"""`compare_experiments`: every experiment of a data set in one table."""

from __future__ import annotations

import csv
import os

from unet.common.fileio import atomic_path, read_json
from unet.report import objects, relaxed
from unet.report.cases import experiment_cells, experiment_columns
from unet.report.regions import region_cells, region_columns

# evaluate.iou_threshold's columns, where some summary has it (ISIC's thresholded Jaccard)
THRESHOLDED = ("iou_threshold", "thresholded_iou")
# experiments.tsv's columns before the optional ones (regions, cases, objects, thresholded)
HEADER = ("experiment", "method", "foreground_dice_global", "foreground_dice_mean",
          "foreground_dice_mean_positive", "foreground_iou_global", "boundary_f1_mean",
          "hd95_mean", "pixel_accuracy")


def _thresholded_cells(summary: dict, method: str, columns: list[str]) -> list[str]:
    """One row's evaluate.iou_threshold cells: its threshold and the method's thresholded IoU;
    blank for a run evaluated without it, none where no run had it."""
    got = summary.get("iou_threshold")
    if not columns or got is None:
        return [""] * len(columns)
    return [f"{got['threshold']:g}", f"{got['methods'][method]['mean']:.4f}"]


def compare_experiments(summaries: dict[str, str | os.PathLike], path: str | os.PathLike) -> None:
    """TSV: one row per experiment and method, foreground Dice (global, per image, and per image
    over only the images whose ground truth holds foreground: blank in older summaries), mIoU,
    boundary F1, HD95 and pixel accuracy on the test split, over the scored classes (1 and
    up, or every class with masks.background: false) that some image holds; then each
    evaluate.regions region's Dice, global and mean per image (none unset), and with
    split.group_by each method's foreground Dice per case (none without), and with
    evaluate.objects its object F1, PQ and DSB score (report.objects; none without), and with
    evaluate.iou_threshold the threshold and the thresholded IoU, and with
    evaluate.relaxed_slack the slack and the foreground's relaxed precision, recall and F1 (none
    without)."""
    read = {name: read_json(p) for name, p in summaries.items()}
    regions = region_columns(list(read.values()))
    cases = experiment_columns(list(read.values()))
    found = objects.experiment_columns(list(read.values()))  # evaluate.objects
    cut = list(THRESHOLDED) if any("iou_threshold" in s for s in read.values()) else []
    slack = relaxed.experiment_columns(list(read.values()))
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow([*HEADER, *regions, *cases, *found, *cut, *slack])
        for name, summary in read.items():
            for method, s in summary["methods"].items():
                scored = summary.get("scored_classes")  # older summaries: classes 1 and up
                fg = [str(c) for c in scored] if scored else [c for c in s["classes"] if c != "0"]
                # classes no image holds are left out, as the foreground Dice leaves them out
                # (older summaries: every class)
                held = [c for c in fg if s["classes"][c].get("held", True)]
                mean = [s["classes"][c]["mean_per_image"] for c in held or fg]
                hd = [m["hd95"] for m in mean if m["hd95"] is not None]
                # Each image's mean over the classes it holds, as foreground_dice_mean (older
                # summaries: the per-class means, where an image lacking a class counts 1 and 0)
                bf1 = s.get("foreground_boundary_f1_mean",
                            sum(m["boundary_f1"] for m in mean) / len(mean))
                positive = s.get("foreground_dice_mean_positive")  # None: no such image, or old
                hd95 = s.get("foreground_hd95_mean", sum(hd) / len(hd) if hd else None)
                w.writerow(
                    [
                        name,
                        method,
                        f"{s['foreground_dice_global']:.4f}",
                        f"{s['foreground_dice_mean']:.4f}",
                        "" if positive is None else f"{positive:.4f}",
                        f"{s['foreground_iou_global']:.4f}" if "foreground_iou_global" in s else "",
                        f"{bf1:.4f}",
                        f"{hd95:.2f}" if hd95 is not None else "",
                        f"{s['pixel_accuracy']:.4f}",
                        *region_cells(summary, method, regions),
                        *experiment_cells(summary, method, cases),
                        *objects.experiment_cells(summary, method, found),
                        *_thresholded_cells(summary, method, cut),
                        *relaxed.experiment_cells(summary, method, slack),
                    ]
                )
