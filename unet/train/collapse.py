"""A warning when the kept epoch's model has not learnt a class: on sparse data (most images
empty, objects of a few pixels) a UNet often settles on predicting background everywhere, or
the class everywhere, and its validation Dice alone (0.0, or 0.007) does not say which."""

from __future__ import annotations

import logging

import numpy as np

from unet.train.history import trained_rows

log = logging.getLogger(__name__)

ADVICE = ("train longer (train.epochs), give the objects more weight (train.dice_weight, "
          "train.class_weights), train on patches centred on them (train.patch.size, "
          "train.patch.foreground), or lower train.lr (a rate too high also settles on one "
          "class)")
# A class no training row holds is not learnt however long the training: the split left it out
SPLIT_ADVICE = ("no training image holds {which}, so no training can teach {it} (preprocess "
                "warned of {it}): move images of {it} into the training split (split.val_ids, "
                "split.test_ids, split.seed; with split.folds, spread them over the folds), "
                "add images of {it}, or merge {it} into another class (masks.values)")


def advice(classes: list[int], held: list[int] | None) -> str:
    """The fix for `classes` not learnt: the split's or the data's for those of them no
    training row holds (`held`: the classes training rows hold; None: unknown), training's
    for the rest."""
    unseen = [c for c in classes if held is not None and c not in held]
    if not unseen:
        return ADVICE
    which = f"class {unseen[0]}" if len(unseen) == 1 else "classes " + ", ".join(map(str, unseen))
    split = SPLIT_ADVICE.format(which=which, it="it" if len(unseen) == 1 else "them")
    return split if len(unseen) == len(classes) else f"{split}; for the others: {ADVICE}"


def recorded_counts(meta: dict, fold: int | None) -> np.ndarray | None:
    """The training rows' pixel count per class as preprocess recorded it in meta.json: the
    train split's, or the folds' but `fold`; None for a cache written before they were."""
    if fold is None:
        counts = meta["splits"]["train"].get("class_counts")
        return None if counts is None else np.asarray(counts, np.int64)
    others = [c for f, c in enumerate(meta.get("fold_class_counts") or []) if f != fold]
    return np.sum(others, axis=0, dtype=np.int64) if others else None


def held_classes(meta: dict, fold: int | None) -> list[int] | None:
    """The classes with a pixel in the training rows (recorded_counts); None: unknown."""
    counts = recorded_counts(meta, fold)
    return None if counts is None else np.flatnonzero(counts[: meta["num_classes"]]).tolist()


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
    """pixel_counts from a history row's columns; None for an epoch written without them."""
    n = sum(1 for k in row if k.startswith("val_px_"))
    cells = {k: [row.get(col.format(c)) for c in range(n)] for k, col in COLUMNS.items()}
    # blank (NaN) in an epoch a checkpoint of an older version wrote before a resume
    if not n or any(v is None or v != v for vs in cells.values() for v in vs):
        return None
    return {k: [int(v) for v in vs] for k, vs in cells.items()}


def collapse_notes(counts: dict[str, list[int]], first: int, epoch: int,
                   names: list | None = None) -> list[str]:
    """One line per scored class (`first` and up) that the validation ground truth holds but
    the kept epoch's model predicts nowhere, everywhere, or never where it is; `names` (each
    class's, masks.names or the data's labels) follow the numbers."""
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
        named = f" ({names[c]})" if names and c < len(names) and names[c] else ""
        notes.append(f"class {c}{named}: the model kept (epoch {epoch}) {how} on the validation "
                     f"images, where {held}")
    return notes


# Classes told in full in a collapse message; more (ADE20K's 150) are listed by number
NOTED = 5


def collapse_message(counts: dict[str, list[int]] | None, first: int, epoch: int,
                     held: list[int] | None = None, names: list | None = None) -> str:
    """collapse_notes as one sentence with the fix (advice: `held`, the classes the training
    rows hold); "" when every class is learnt."""
    notes = collapse_notes(counts, first, epoch, names) if counts else []
    if not notes:
        return ""
    told = "; ".join(notes[:NOTED])
    classes = [int(n.removeprefix("class ").split(":")[0].split(" (")[0]) for n in notes]
    if len(notes) > NOTED:  # the rest by number: a sentence each made 7,000 characters of 50
        rest = ", ".join(map(str, classes[NOTED:]))
        told += f"; and {len(notes) - NOTED} more, classes {rest}"
    return (f"the model has not learnt {len(notes)} class(es): {told}. Its masks are not "
            f"usable: {advice(classes, held)}")


def warn_collapse(counts: dict[str, list[int]] | None, first: int, epoch: int,
                  held: list[int] | None = None, names: list | None = None) -> None:
    """Log collapse_message as a warning; nothing when every class is learnt."""
    message = collapse_message(counts, first, epoch, held, names)
    if message:
        log.warning("%s", message)


# Epochs in a row of one class alone before a warning while training: the first epochs of
# most runs predict background alone, and many find the objects after a few.
STREAK = 5


def _one_class(row: dict) -> int | None:
    """The class a history row's epoch predicted on every validation pixel, where the
    validation masks hold several; None otherwise (or without the pixel columns)."""
    counts = counts_from_row(row)
    if counts is None:
        return None
    predicted = [c for c, n in enumerate(counts["predicted"]) if n]
    held = [c for c, n in enumerate(counts["target"]) if n]
    return predicted[0] if len(predicted) == 1 and len(held) > 1 else None


def warn_stuck(history: list[dict], resumed: bool = False,
               held: list[int] | None = None) -> None:
    """Warn, while training, at the epoch that makes STREAK in a row predicting one class alone
    on masks that hold several: the run's later epochs are likely spent for nothing.
    `resumed`: the first epoch of a job resumed from a checkpoint, warned of a streak still on;
    `held`: the classes the training rows hold (advice). Epochs not validated
    (train.val_every) are left out: a streak counts validations; so is a fine-tuning source's
    epoch 0, which trained nothing."""
    history = [row for row in trained_rows(history) if row.get("val_loss") is not None]
    last = [_one_class(row) for row in history[-STREAK - 1 :]]
    streak, before = last[-STREAK:], last[:-STREAK]
    if len(streak) < STREAK or streak[0] is None or len(set(streak)) > 1:
        return
    # warned at the epoch that made the streak, unless that was in a killed job's log: a
    # resumed job's train_unet.log is opened anew
    if before and before[0] == streak[0] and not resumed:
        return
    counts = counts_from_row(history[-1])
    others = [c for c, n in enumerate(counts["target"]) if n and c != streak[0]]
    log.warning("epochs %d-%d predicted class %d alone on every validation pixel, where the "
                "validation masks also hold %s: the model has collapsed onto one class. "
                "Training goes on (train.patience stops it early); to fix it: %s",
                history[-STREAK]["epoch"], history[-1]["epoch"], streak[0],
                ", ".join(f"class {c} ({counts['target'][c]} px)" for c in others),
                advice(others, held))
