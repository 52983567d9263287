"""Cross-validation summary: each fold's best validation scores, their mean and spread."""

from __future__ import annotations

import csv
import logging
import os

import numpy as np

from unet.common.fileio import atomic_path
from unet.train.history import read_history

log = logging.getLogger(__name__)


def best_epochs(history_csvs: list[str | os.PathLike]) -> list[dict[str, float]]:
    """Per fold, the history row that training kept (the first with the best val Dice)."""
    best = []
    for path in history_csvs:
        rows = read_history(path)
        if not rows:
            raise ValueError(f"{path} has no epochs: rerun training for this fold")
        best.append(max(rows, key=lambda r: (r["val_dice"], -r["epoch"])))
    return best


def cross_validation(history_csvs: list[str | os.PathLike], out_tsv: str | os.PathLike) -> dict:
    """TSV with one row per fold (best epoch, val loss, val Dice overall and per class), then
    the mean and sample standard deviation over folds; returns the mean and sd of val Dice."""
    best = best_epochs(history_csvs)
    classes = [k for k in best[0] if k.startswith("val_dice_")]  # the history's class order
    keys = ["val_dice", *classes, "val_loss"]
    table = np.array([[r[k] for k in keys] for r in best])
    sd = table.std(0, ddof=1) if len(best) > 1 else np.zeros(len(keys))
    with atomic_path(out_tsv) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["fold", "best_epoch", *keys])
        for n, r in enumerate(best):
            w.writerow([n, int(r["epoch"]), *(f"{r[k]:.4f}" for k in keys)])
        w.writerow(["mean", "", *(f"{v:.4f}" for v in table.mean(0))])
        w.writerow(["sd", "", *(f"{v:.4f}" for v in sd)])
    result = {
        "folds": len(best),
        "val_dice_mean": float(table[:, 0].mean()),
        "val_dice_sd": float(sd[0]),
    }
    log.info("cross-validation over %d folds: val Dice %.4f ± %.4f", *result.values())
    return result
