"""The classes a model trains on: those with a pixel in its training rows' cached masks (a
cross-validation fold's are its own), and a fine-tuned model's source's too."""

from __future__ import annotations

import os

import numpy as np

from unet.cache.reader import load_split
from unet.common.labels import class_counts
from unet.model import checkpoint
from unet.train.dataset import Row


def trained_classes(
    cache_dir: str | os.PathLike,
    rows: list[Row],
    num_classes: int,
    source: str | os.PathLike | None = None,
) -> list[int]:
    """The class indices with a pixel in the cached masks of `rows` (the ignored index is no
    class), joined by those the fine-tuning `source` model file trained on: its weights learnt
    them. A source file without the record counts as having trained on every class."""
    masks: dict[str, np.ndarray] = {}
    counts = np.zeros(256, np.int64)
    for split, k in rows:
        if split not in masks:
            masks[split] = load_split(cache_dir, split)[1]
        counts += class_counts(masks[split][k])
        if counts[:num_classes].all():  # every class found: the rest need not be read
            break
    seen = {k for k in range(num_classes) if counts[k]}
    if source is not None:
        theirs = checkpoint.load_model_file(source).get("trained_classes")
        seen |= set(range(num_classes) if theirs is None else theirs)
    return sorted(seen)
