"""The report's charts: training curves and each method's per-class scores."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from unet.common.labels import MaskMapping, own_name
from unet.report.figures import class_label, curve_colours, plt, save_figure
from unet.train.history import read_history, trained_rows


def _line_colours(k: int) -> list:
    """k distinguishable line colours: tab10's, tab20's beyond 10, spaced turbo beyond 20."""
    if k <= 10:
        return [f"C{i}" for i in range(k)]
    if k <= 20:
        return list(matplotlib.colormaps["tab20"].colors[:k])
    return list(matplotlib.colormaps["turbo"](np.linspace(0.05, 0.95, k))[:, :3])


# Classes a legend names one by one; beyond, the class lines are thin and the legend names the
# mean (150 entries hung 3,000 px below the figure, and turbo's neighbours look alike).
LEGEND_CLASSES = 20


def plot_curves(
    history_csvs: list[str | os.PathLike], out_png: str | os.PathLike, names: list | None = None,
    mapping: MaskMapping | None = None,
) -> None:
    """Loss, validation Dice and learning rate against epoch: per class for one model (each
    named from `names`, masks.names, in a legend below the panels, and in the colour the
    overlays paint it with `mapping`), per fold (mean foreground Dice) for cross-validation."""
    runs = [read_history(p) for p in history_csvs]
    # a line through one point draws nothing: a one-epoch run's panels were empty (a
    # fine-tuning source's epoch 0 has validation columns only: no loss, no rate)
    marker = "o" if max(len(trained_rows(rows)) for rows in runs) == 1 else None
    # constrained: each panel's tick labels get their room (the rate's 0.00030 ran into the
    # Dice panel)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.5), layout="constrained")
    for n, rows in enumerate(runs):
        val = validated(rows)
        tag = f"fold {n} " if len(runs) > 1 else ""
        for key, style in (("train_loss", ":"), ("val_loss", "-")):
            color = f"C{n}" if len(runs) > 1 else None
            shown = trained_rows(rows) if key == "train_loss" else val
            axes[0].plot([r["epoch"] for r in shown], [r[key] for r in shown], style, color=color,
                         label=tag + key[:-5], marker=_marker(shown, marker))
        if len(runs) > 1:
            axes[1].plot([r["epoch"] for r in val], [r["val_dice"] for r in val],
                         label=tag.strip(), color=f"C{n}", marker=_marker(val, marker))
    axes[0].set(title="loss (dotted: train)" if len(runs) > 1 else "loss", xlabel="epoch")
    title = "validation foreground Dice per fold" if len(runs) > 1 else "validation Dice"
    axes[1].set(title=title, xlabel="epoch", ylim=(0, 1))
    rates = trained_rows(runs[0])
    axes[2].plot([r["epoch"] for r in rates], [r["lr"] for r in rates], marker=marker)
    axes[2].set(title="learning rate", xlabel="epoch")
    axes[2].ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))  # 3.0 and x1e-4 above
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs: no 2.5
        if marker:  # one epoch: its number, not 0.945 to 1.05 in steps
            ax.set_xticks(sorted({r["epoch"] for rows in runs for r in rows}))
    axes[0].legend(fontsize="small")
    if len(runs) > 1:
        axes[1].legend(fontsize="small")
    else:
        val = validated(runs[0])
        colours = curve_colours(mapping) if mapping else None
        values = mapping.labels() if mapping else None
        _class_curves(fig, axes[1], val, (names, values), _marker(val, marker), colours)
    save_figure(fig, out_png)


def validated(rows: list[dict]) -> list[dict]:
    """The history rows of validated epochs: those train.val_every skipped have blank (NaN)
    validation columns, and a line through points cut apart by NaN drew nothing."""
    return [r for r in rows if not np.isnan(r["val_loss"])]


def _marker(rows: list[dict], marker: str | None) -> str | None:
    """A dot where a line has one point (one epoch, or one validation) and would draw nothing."""
    return "o" if len(rows) == 1 else marker


def _class_curves(fig: plt.Figure, ax: plt.Axes, rows: list[dict],
                  named: tuple[list | None, list[str] | None], marker: str | None = None,
                  colours: list | None = None) -> None:
    """Each class's validation Dice, named in a legend below the panels as the overlays name
    it (`named`: masks.names and the mask values, each None where unknown), in `colours` (one
    per class) where they cover every class, a line style apart where colours look alike
    (line_styles); with more than LEGEND_CLASSES classes, thin lines and the mean over the
    scored classes (val_dice) bold."""
    epoch = [r["epoch"] for r in rows]
    keys = [k for k in rows[0] if k[:9] == "val_dice_"]
    many = len(keys) > LEGEND_CLASSES
    if not colours or len(colours) != len(keys):  # a history of other classes: its own
        colours = _line_colours(len(keys))
    names, values = named
    if not values or len(values) != len(keys):  # a history of other classes: no values
        values = None
    for key, colour, style in zip(keys, colours, line_styles(colours), strict=True):
        c = int(key[9:])
        ax.plot(epoch, [r[key] for r in rows], style, label=_class_label(
            c, names, values[c] if values else None), color=colour, marker=marker,
                **({"linewidth": 0.6, "alpha": 0.6} if many else {}))
    handles = ax.get_lines()
    if many:
        mean = ax.plot(epoch, [r["val_dice"] for r in rows], color="black", linewidth=2.5,
                       marker=marker,
                       label="mean over the scored classes (keeps the best epoch)")
        thin = Line2D([], [], color="grey", linewidth=0.6,
                      label=f"each of the {len(keys)} classes (history.csv: val_dice_<class>)")
        handles = [*mean, thin]
    fig.legend(handles=handles, loc="upper center", ncol=min(len(handles), 5),
               fontsize="small", bbox_to_anchor=(0.5, 0), bbox_transform=fig.transFigure)


def _class_label(c: int, names: list | None, value: str | None = None) -> str:
    """'class 3 car (26)', or without the name or value where there is none (class_label)."""
    return class_label(c, names[c] if names and c < len(names) else None, value)


# Line styles in turn for lines whose colours look alike; solid where none is near.
LINE_STYLES = ("-", "--", "-.", ":")
NEAR_RGB = 0.2  # RGB distance within which two thin lines read as one colour
DARK = 0.35  # lines whose every channel is below this look black, whatever their hue


def line_styles(colours: list) -> list[str]:
    """A line style per colour: solid, or the first style that no earlier line of a like colour
    has (VOC's near-black cat (64, 0, 0) beside the background's dark grey line was one line)."""
    rgb = [np.asarray(to_rgb(c)) for c in colours]
    styles: list[str] = []
    for i, colour in enumerate(rgb):
        taken = {styles[j] for j in range(i) if _alike(colour, rgb[j])}
        free = [s for s in LINE_STYLES if s not in taken]
        styles.append(free[0] if free else LINE_STYLES[i % len(LINE_STYLES)])
    return styles


def _alike(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two line colours are hard to tell apart: near in RGB, or both near black."""
    return bool(np.linalg.norm(a - b) < NEAR_RGB or max(a.max(), b.max()) < DARK)


# Beyond this many classes the score panels stack, each as wide as its classes need, and the
# class labels stand upright: side by side in 13 inches, VOC's 21 labels ran into one another
# and ADE20K's 150 were a smear across all three panels.
SIDE_BY_SIDE = 5
CLASS_INCHES = 0.17  # one class's bars and its upright label ("12 person (15)")


# Characters of tick label (its longest line, times the classes) that fit under a side-by-side
# panel: four colour classes' "disk ([255, 0, 0])" ran into one another there.
SIDE_BY_SIDE_CHARS = 36


def _upright(ticks: list[str]) -> bool:
    """Whether the class labels need the stacked panels: many classes, or long labels."""
    longest = max(len(line) for t in ticks for line in t.split("\n"))
    return len(ticks) > SIDE_BY_SIDE or longest * len(ticks) > SIDE_BY_SIDE_CHARS


def _score_axes(n: int, upright: bool) -> tuple[plt.Figure, list]:
    """Three panels side by side for a few short-labelled classes, else one above the other."""
    if not upright:
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.5), layout="constrained")
    else:
        width = max(13.0, 2.5 + CLASS_INCHES * n)
        fig, axes = plt.subplots(3, 1, figsize=(width, 12), layout="constrained")
    return fig, list(axes)


def plot_methods(summary: dict, out_png: str | os.PathLike) -> None:
    """Per-class Dice, boundary F1 and HD95 for each method (raw, CRF unless it is off, final),
    side by side (stacked with many classes)."""
    methods = list(summary["methods"])
    classes = list(summary["methods"][methods[0]]["classes"])
    panels = [
        ("dice", "global", "Dice (pixels summed over the set)"),
        ("boundary_f1", "mean_per_image", "boundary F1 (mean over images)"),
        ("hd95", "mean_per_image", "HD95 px (mean over images, lower is better)"),
    ]
    labels = [str(v) for v in summary.get("class_labels", summary["class_values"])]
    names = summary.get("class_names") or [None] * len(labels)
    labels = [f"{n} ({v})" if own_name(n, c, v) else v
              for c, (n, v) in enumerate(zip(names, labels, strict=True))]
    ticks = [f"class {c}\n{labels[int(c)]}{_absent(summary, c)}" for c in classes]
    upright = _upright(ticks)
    fig, axes = _score_axes(len(classes), upright)
    if upright:  # one line each: "12 person (15)", "(not in test)" after it
        ticks = [f"{c} {labels[int(c)]}{_absent(summary, c)}".replace("\n", " ") for c in classes]
    width = 0.8 / len(methods)
    for ax, (key, scope, title) in zip(axes, panels, strict=True):
        for k, m in enumerate(methods):
            per_class = summary["methods"][m]["classes"]
            # no bar for a class no test image holds: its 0/0 scores are 1 (HD95 0) by rule
            vals = [per_class[c][scope][key] if per_class[c].get("held", True) else None
                    for c in classes]
            vals = [np.nan if v is None else v for v in vals]
            ax.bar(np.arange(len(classes)) + k * width, vals, width,
                   label=method_labels(summary).get(m, m))
        ax.set(title=title, xticks=np.arange(len(classes)) + width * (len(methods) - 1) / 2,
               xlim=(-0.5, len(classes) - 0.5 + width * (len(methods) - 1)))
        ax.set_xticklabels(ticks, rotation=90 if upright else 0,
                           fontsize="small" if upright else None)
        if key != "hd95":  # scores in [0, 1]: a low score must not fill the panel
            ax.set_ylim(0, 1)
        else:  # distances from 0: all 0 (found exactly) autoscaled to -0.05..0.05 px
            ax.set_ylim(bottom=0)
        if upright:  # beside the panel, where it hides no bar
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if not upright:  # once, below the panels: inside one it hid the tops of Dice near 1;
        # under the lowest label, however many lines ('(not in test)' covered at a fixed height)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                   ncol=len(methods))
    save_figure(fig, out_png)


def method_labels(summary: dict) -> dict[str, str]:
    """What a figure calls each method: 'final (crf)' says which masks finalize_masks kept."""
    chosen = summary.get("final", {}).get("chosen")
    return {"final": f"final ({chosen})"} if chosen else {}


def _absent(summary: dict, c: str) -> str:
    """'\n(not in test)' under a class that no method's test targets or predictions hold."""
    held = [s["classes"][c].get("held", True) for s in summary["methods"].values()]
    return "" if any(held) else "\n(not in test)"
