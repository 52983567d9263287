"""evaluate_masks' per_image.csv (one row per image, method and class) and its log lines."""

from __future__ import annotations

import csv
import logging
import os

from unet.common.fileio import atomic_path
from unet.evaluate.objects import OBJECT_COLUMNS, object_cells
from unet.evaluate.relaxed import relaxed_scores

PER_CLASS = ("dice", "iou", "precision", "recall", "hd95", "boundary_f1")
RELAXED = ("relaxed_precision", "relaxed_recall", "relaxed_f1")  # evaluate.relaxed_slack


def _relaxed_cells(scores: dict, c: int, first: int) -> list[str]:
    """One row's relaxed precision, recall and F1 of the image alone: blank for a class not
    scored (the background)."""
    if c < first:
        return [""] * len(RELAXED)
    return [f"{v:.10g}" for v in relaxed_scores(scores["relaxed"][c]).values()]


def class_name(names: list | None, c: int) -> str:
    """A CSV row's `name` cell: class `c`'s name, blank where the classes have none."""
    return "" if names is None else str(names[c])


def write_rows(path: str | os.PathLike, results: list[dict], values: list, first: int = 1,
               names: list | None = None) -> None:
    """One CSV row per image, method and class (`values`: each class's value as written in the
    config; `names`: each class's name, masks.names or the data's, else the column blank),
    with the class's pixels in the target and the prediction (both 0: absent, its
    scores 1 by convention). HD95 stays the honest per-image value (inf for a class in exactly
    one mask); image_diagonal_px is the penalty the summary's mean uses instead. With
    evaluate.objects (results holding `objects`), each foreground class's object counts and
    scores too (OBJECT_COLUMNS); with evaluate.relaxed_slack, each scored class's (`first` and
    up) relaxed precision, recall and F1 (RELAXED)."""
    objects = any("objects" in r for r in results)
    relaxed = any("relaxed" in s for r in results for s in r["scores"].values())
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        header = ["id", "method", "class", "value", "name", "target_px", "predicted_px", *PER_CLASS,
                  "pixel_accuracy"]
        w.writerow([*header, "image_diagonal_px", *(OBJECT_COLUMNS if objects else ()),
                    *(RELAXED if relaxed else ())])
        for r in results:
            for m, s in r["scores"].items():
                held = (s["confusion"].sum(axis=1), s["confusion"].sum(axis=0))
                for c, v in enumerate(values):
                    w.writerow([r["id"], m, c, v, class_name(names, c), int(held[0][c]),
                                int(held[1][c]),
                                *(f"{s[k][c]:.10g}" for k in PER_CLASS),
                                f"{s['accuracy']:.10g}", f"{r['diagonal']:.10g}",
                                *(object_cells(r, m, c) if objects else ()),
                                *(_relaxed_cells(s, c, first) if relaxed else ())])


def log_scores(log: logging.Logger, methods: dict, images: int) -> None:
    """One line of pixel scores and one of image counts per method, in evaluate_masks.log
    (through evaluate's `log`, whose name the lines carry)."""
    for m, s in methods.items():
        n, positive = s["images"]["any"], s["foreground_dice_mean_positive"]
        log.info(
            "%s: foreground Dice %.4f (global) %.4f (mean/image) %s (mean over the %d images "
            "holding foreground), mIoU %.4f, pixel accuracy %.4f", m, s["foreground_dice_global"],
            s["foreground_dice_mean"], "n/a" if positive is None else f"{positive:.4f}",
            n["positive"], s["foreground_iou_global"], s["pixel_accuracy"],
        )
        log.info("%s: %d of %d images hold foreground: %d detected, %d missed; of the %d "
                 "without, %d have foreground predicted", m, n["positive"], images,
                 n["detected"], n["missed"], n["negative"], n["false_positive"])
