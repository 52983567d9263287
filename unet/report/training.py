"""The report's word on training: a kept model that has not learnt a class the validation
masks hold (predicted nowhere, everywhere, or never where it is), from history.csv."""

from __future__ import annotations

import os

from unet.report.cross_validation import best_epochs
from unet.train.collapse import collapse_message, counts_from_row


def training_verdict(history_csvs: list[str | os.PathLike], first: int) -> str:
    """One sentence per run (fold) whose kept epoch has not learnt a scored class (`first` and
    up); "" when every kept model learnt them, or the histories predate the pixel counts."""
    text = []
    for k, row in enumerate(best_epochs(history_csvs)):
        message = collapse_message(counts_from_row(row), first, int(row["epoch"]))
        if message:
            fold = f" fold {k}" if len(history_csvs) > 1 else ""
            text.append(f"Training{fold}: {message}.")
    return " ".join(text)
