"""A warning when the kept epoch's model has not learnt a class: on sparse data (most images
empty, objects of a few pixels) a UNet often settles on predicting background everywhere, or
the class everywhere, and its validation Dice alone (0.0, or 0.007) does not say which."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

ADVICE = ("train longer (train.epochs), give the objects more weight (train.dice_weight, "
          "train.class_weights), train on patches centred on them (train.patch.size, "
          "train.patch.foreground), or lower train.lr (a rate too high also settles on one "
          "class)")
# history.csv's columns of each class's validation pixels: in the ground truth, predicted,
# and predicted where the ground truth holds it (pixel_counts' keys)
COLUMNS = {"target": "val_px_{}", "predicted": "val_pred_px_{}", "hit": "val_hit_px_{}"}


def pixel_counts(cm: np.ndarray) -> dict[str, list[int]]:
    """Each class's validation pixels in the ground truth and in the prediction, from the
    (C, C) confusion matrix (rows target, columns prediction): plain lists, kept in last.pt."""
    cm = np.asarray(cm, np.int64)
    return {"target": cm.sum(1).tolist(), "predicted": cm.sum(0).tolist(),
            "hit": np.diag(cm).tolist()}


def count_columns(counts: dict[str, list[int]]) -> dict[str, int]:
    """pixel_counts as history.csv's columns, so the report can judge the kept epoch."""
    return {COLUMNS[k].format(c): n for k, ns in counts.items() for c, n in enumerate(ns)}


def counts_from_row(row: dict) -> dict[str, list[int]] | None:
    """pixel_counts from a history row's columns; None for a history written without them."""
    n = sum(1 for k in row if k.startswith("val_px_"))
    if not n:
        return None
    return {k: [int(row[col.format(c)]) for c in range(n)] for k, col in COLUMNS.items()}


def collapse_notes(counts: dict[str, list[int]], first: int, epoch: int) -> list[str]:
    """One line per scored class (`first` and up) that the validation ground truth holds but
    the kept epoch's model predicts nowhere, everywhere, or never where it is."""
    target, predicted, hit = counts["target"], counts["predicted"], counts["hit"]
    total = sum(target)
    notes = []
    for c in range(first, len(target)):
        if not target[c]:
            continue
        held = f"the validation masks hold {target[c]} px of it ({target[c] / total:.2%})"
        if not predicted[c]:
            how = "predicts it nowhere"
        elif predicted[c] == total:
            how = "predicts it on every pixel"
        elif not hit[c]:
            how = f"predicts it on {predicted[c]} px, none of them right"
        else:
            continue
        notes.append(f"class {c}: the model kept (epoch {epoch}) {how} on the validation "
                     f"images, where {held}")
    return notes


def collapse_message(counts: dict[str, list[int]] | None, first: int, epoch: int) -> str:
    """collapse_notes as one sentence with the fix; "" when every class is learnt."""
    notes = collapse_notes(counts, first, epoch) if counts else []
    if not notes:
        return ""
    return (f"the model has not learnt {len(notes)} class(es): {'; '.join(notes)}. Its masks "
            f"are not usable: {ADVICE}")


def warn_collapse(counts: dict[str, list[int]] | None, first: int, epoch: int) -> None:
    """Log collapse_message as a warning; nothing when every class is learnt."""
    message = collapse_message(counts, first, epoch)
    if message:
        log.warning("%s", message)
