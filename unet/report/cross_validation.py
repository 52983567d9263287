"""Cross-validation summary: each fold's best validation scores, their mean and spread."""

from __future__ import annotations

import csv
import logging
import math
import os

import numpy as np

from unet.common.fileio import atomic_path
from unet.train.history import read_history, trained_rows

log = logging.getLogger(__name__)


def best_epochs(history_csvs: list[str | os.PathLike]) -> list[dict[str, float]]:
    """Per fold, the history row that training kept (best.pt): the best val Dice, among equals
    the lowest val loss, among those the first (train._keep_if_best); epochs not validated
    (train.val_every: blank) were never kept, nor a fine-tuning source's epoch 0."""
    best = []
    for path in history_csvs:
        rows = [r for r in trained_rows(read_history(path)) if not math.isnan(r["val_loss"])]
        if not rows:
            raise ValueError(f"{path} has no validated epochs: rerun training for this fold")
        best.append(max(rows, key=lambda r: (r["val_dice"], -r["val_loss"], -r["epoch"])))
    return best


def _cell(value: float) -> str:
    """A score to 4 decimals, blank for NaN (a class with no pixels to score)."""
    return "" if np.isnan(value) else f"{value:.4f}"


def _mean_sd(column: np.ndarray, folds: int) -> tuple[float, float]:
    """Mean and sample sd over the folds that scored it (NaN for none; sd NaN for one fold of
    several, 0 with a single fold, as before)."""
    values = column[~np.isnan(column)]
    if not values.size:
        return np.nan, np.nan
    if values.size == 1:
        return float(values[0]), 0.0 if folds == 1 else np.nan
    return float(values.mean()), float(values.std(ddof=1))


def cross_validation(history_csvs: list[str | os.PathLike], out_tsv: str | os.PathLike) -> dict:
    """TSV with one row per fold (best epoch, val loss, val Dice overall and per class), then
    the mean and sample standard deviation over folds; returns the mean and sd of val Dice."""
    best = best_epochs(history_csvs)
    classes = [k for k in best[0] if k.startswith("val_dice_")]  # the history's class order
    keys = ["val_dice", *classes, "val_loss"]
    # (folds, keys); NaN where a fold's validation images and predictions hold no pixel of the
    # class (history.csv): no score, left blank and out of the mean and sd of that column
    table = np.array([[r[k] for k in keys] for r in best])
    mean, sd = np.array([_mean_sd(col, len(best)) for col in table.T]).T
    with atomic_path(out_tsv) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["fold", "best_epoch", *keys])
        for n, r in enumerate(best):
            w.writerow([n, int(r["epoch"]), *(_cell(r[k]) for k in keys)])
        w.writerow(["mean", "", *(_cell(v) for v in mean)])
        w.writerow(["sd", "", *(_cell(v) for v in sd)])
    result = {
        "folds": len(best),
        "val_dice_mean": float(mean[0]),
        "val_dice_sd": float(sd[0]),
    }
    log.info("cross-validation over %d folds: val Dice %.4f ± %.4f", *result.values())
    return result
