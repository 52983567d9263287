"""The report's per-case chart (split.group_by): each case's Dice per scored class and region,
a dot per case and method, from per_case.csv, so that one bad case stands out of the mean."""

from __future__ import annotations

import csv
import os

import numpy as np

from unet.common.labels import own_name
from unet.report.figures import plt, save_figure


def read_case_dice(per_case_csv: str | os.PathLike, summary: dict) -> dict[str, dict]:
    """Method -> column label -> each case's Dice, for the scored classes then the regions,
    leaving out a class or region no case's target or prediction holds (1 by convention)."""
    names = summary.get("class_names") or [None] * len(summary["class_values"])
    scored = {str(c) for c in summary["scored_classes"]}
    out: dict[str, dict] = {}
    with open(per_case_csv, newline="") as f:
        for row in csv.DictReader(f):
            is_class = row["class"].isdigit()  # else a region's name
            if is_class and row["class"] not in scored:
                continue
            c = int(row["class"]) if is_class else None
            label = (f"{names[c]}\n({row['value']})"
                     if is_class and own_name(names[c], c, row["value"]) else
                     f"class {row['value']}" if is_class else f"region\n{row['class']}")
            held = int(row["target_px"]) + int(row["predicted_px"]) > 0
            out.setdefault(row["method"], {}).setdefault(label, []).append(
                float(row["dice"]) if held else np.nan)
    return out


def plot_case_dice(per_case_csv: str | os.PathLike, summary: dict,
                   out_png: str | os.PathLike, labels: dict[str, str] | None = None) -> None:
    """Strip chart: per scored class and region, each case's Dice (pixels of its slices
    summed) as a dot per method, the mean over the cases holding it as a bar; a case where
    neither target nor prediction holds it has no dot."""
    dice = read_case_dice(per_case_csv, summary)
    methods = list(dice)
    columns = list(next(iter(dice.values()), {}))
    cases = summary["per_case"]["cases"]
    inches = max(6.0, 1.2 + 0.55 * len(columns) * max(1, len(methods)))
    fig, ax = plt.subplots(figsize=(inches, 4), layout="constrained")
    width = 0.8 / max(1, len(methods))
    rng = np.random.default_rng(0)  # fixed jitter: the same figure from the same scores
    for k, m in enumerate(methods):
        for i, col in enumerate(columns):
            y = np.array(dice[m][col])
            x = i + k * width + rng.uniform(-width / 4, width / 4, len(y))
            ax.scatter(x, y, s=12, color=f"C{k}", alpha=0.7,
                       label=(labels or {}).get(m, m) if i == 0 else None)
            if np.isfinite(y).any():
                ax.hlines(np.nanmean(y), i + k * width - width / 2.5, i + k * width + width / 2.5,
                          color=f"C{k}", linewidth=2)
    ax.set(ylim=(-0.03, 1.03), ylabel="Dice per case",
           title=f"Dice per case ({cases} cases, split.group_by; line: mean over cases "
                 "holding it)",
           xticks=np.arange(len(columns)) + width * (len(methods) - 1) / 2)
    ax.set_xticklabels(columns)
    fig.legend(loc="outside lower center", ncol=max(1, len(methods)))
    save_figure(fig, out_png)
