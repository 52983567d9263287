"""A warning when the kept epoch's model has not learnt a class: on sparse data (most images
empty, objects of a few pixels) a UNet often settles on predicting background everywhere, or
the class everywhere, and its validation Dice alone (0.0, or 0.007) does not say which."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

ADVICE = ("train longer (train.epochs), give the objects more weight (train.dice_weight, "
          "train.class_weights), or train on patches centred on them (train.patch.size, "
          "train.patch.foreground)")


def pixel_counts(cm: np.ndarray) -> dict[str, list[int]]:
    """Each class's validation pixels in the ground truth and in the prediction, from the
    (C, C) confusion matrix (rows target, columns prediction): plain lists, kept in last.pt."""
    cm = np.asarray(cm, np.int64)
    return {"target": cm.sum(1).tolist(), "predicted": cm.sum(0).tolist(),
            "hit": np.diag(cm).tolist()}


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


def warn_collapse(counts: dict[str, list[int]] | None, first: int, epoch: int) -> None:
    """Log collapse_notes as one warning with the fix; nothing when every class is learnt."""
    notes = collapse_notes(counts, first, epoch) if counts else []
    if notes:
        log.warning("the model has not learnt %d class(es): %s. Its masks are not usable: %s",
                    len(notes), "; ".join(notes), ADVICE)
