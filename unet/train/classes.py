"""The classes a model trains on: those with a pixel in its training rows' cached masks (a
cross-validation fold's are its own), and a fine-tuned model's source's too."""

from __future__ import annotations

import os

import numpy as np

from unet.cache.reader import load_split
from unet.common.label_tables import class_counts
from unet.model import checkpoint
from unet.train.collapse import recorded_counts
from unet.train.dataset import Row


def trained_classes(
    cache_dir: str | os.PathLike,
    rows: list[Row],
    num_classes: int,
    source: str | os.PathLike | None = None,
    meta: dict | None = None,
    fold: int | None = None,
) -> list[int]:
    """The class indices with a pixel in the cached masks of `rows` (the train split's, or
    `fold`'s training rows; the ignored index is no class), joined by those the fine-tuning
    `source` model file trained on: its weights learnt them. A source file without the record
    counts as having trained on every class. The counts come from `meta` (meta.json), where
    preprocess recorded them; an older cache's masks are read again."""
    counts = recorded_counts(meta, fold) if meta is not None else None
    if counts is None:
        counts = _recount(cache_dir, rows, num_classes)
    seen = {k for k in range(num_classes) if counts[k]}
    if source is not None:
        theirs = checkpoint.load_model_file(source).get("trained_classes")
        seen |= set(range(num_classes) if theirs is None else theirs)
    return sorted(seen)


def _recount(cache_dir: str | os.PathLike, rows: list[Row], num_classes: int) -> np.ndarray:
    """(256,) count of each class index in the cached masks of `rows`, read until every class
    has a pixel (an older cache's way, without recorded counts)."""
    masks: dict[str, np.ndarray] = {}
    counts = np.zeros(256, np.int64)
    for split, k in rows:
        if split not in masks:
            masks[split] = load_split(cache_dir, split)[1]
        counts += class_counts(masks[split][k])
        if counts[:num_classes].all():  # every class found: the rest need not be read
            break
    return counts
