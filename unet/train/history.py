"""The per-epoch training history as CSV."""

from __future__ import annotations

import csv
import os

from unet.common.fileio import atomic_path


def write_history(path: str | os.PathLike, rows: list[dict]) -> None:
    """Per-epoch history as CSV, atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["epoch"])
        writer.writeheader()
        writer.writerows(rows)


def read_history(path: str | os.PathLike) -> list[dict[str, float]]:
    """One dict per epoch from a history CSV, every value a float."""
    with open(path) as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
