"""The report's word on training: a kept model that has not learnt a class the validation
masks hold (predicted nowhere, everywhere, or never where it is), from history.csv."""

from __future__ import annotations

import os

from unet.report.cross_validation import best_epochs
from unet.train.collapse import collapse_message, counts_from_row, held_classes


def training_verdict(history_csvs: list[str | os.PathLike], first: int,
                     meta: dict | None = None, names: list | None = None) -> str:
    """One sentence per run (fold) whose kept epoch has not learnt a scored class (`first` and
    up); "" when every kept model learnt them, or the histories predate the pixel counts.
    `meta` (meta.json) tells which classes each run's training rows held, for the advice;
    `names` (as the report shows them) follow the class numbers."""
    text = []
    for k, row in enumerate(best_epochs(history_csvs)):
        fold = k if len(history_csvs) > 1 else None
        held = held_classes(meta, fold) if meta is not None else None
        message = collapse_message(counts_from_row(row), first, int(row["epoch"]), held, names)
        if message:
            text.append(f"Training{'' if fold is None else f' fold {fold}'}: {message}.")
    return " ".join(text)
