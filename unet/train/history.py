"""The per-epoch training history as CSV."""

from __future__ import annotations

import csv
import math
import os

from unet.common.fileio import atomic_path


def write_history(path: str | os.PathLike, rows: list[dict]) -> None:
    """Per-epoch history as CSV, atomically; a column that only later epochs have (a run resumed
    from a checkpoint of an older version) is left blank in the earlier ones."""
    fields = list(dict.fromkeys(k for row in rows for k in row)) or ["epoch"]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def read_history(path: str | os.PathLike) -> list[dict[str, float]]:
    """One dict per epoch from a history CSV, every value a float (NaN for a blank cell)."""
    with open(path) as f:
        return [{k: float(v) if v else math.nan for k, v in row.items()}
                for row in csv.DictReader(f)]


def trained_rows(rows: list[dict]) -> list[dict]:
    """The rows of trained epochs: not a fine-tuning source's epoch 0 (its score on this run's
    validation before the first step), which training never keeps."""
    return [r for r in rows if r["epoch"] > 0]
