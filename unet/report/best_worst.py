"""The test images the report's overlays show: the best and the worst by raw foreground Dice."""

from __future__ import annotations

import csv
import os

import numpy as np


def best_and_worst(
    per_image_csv: str | os.PathLike, n: int = 2, first: int = 1
) -> list[tuple[str, dict]]:
    """The n best then n worst test images by raw foreground Dice (classes `first` and up that
    the image's target or prediction holds), with each method's Dice."""
    dice: dict[str, dict[str, list[float]]] = {}
    with open(per_image_csv) as f:
        for r in csv.DictReader(f):
            if int(r["class"]) < first:
                continue
            held = dice.setdefault(r["id"], {}).setdefault(r["method"], [])
            if r.get("target_px") != "0" or r.get("predicted_px") != "0":  # else Dice 1 by rule
                held.append(float(r["dice"]))
    # An image whose target and prediction hold none of the classes: 1.0, nothing missed.
    mean = {i: {m: float(np.mean(v)) if v else 1.0 for m, v in s.items()} for i, s in dice.items()}
    order = sorted(mean, key=lambda i: mean[i]["raw"], reverse=True)
    picked = order[:n] + [i for i in order[-n:] if i not in order[:n]]
    return [(i, mean[i]) for i in picked]
