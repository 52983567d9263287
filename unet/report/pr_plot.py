"""The report's precision-recall chart (evaluate.pr_curve): the raw probabilities' curve per
scored class, its MaxF point and AP in the legend."""

from __future__ import annotations

import os

from unet.common.labels import own_name
from unet.report.figures import plt, save_figure


def _label(summary: dict, c: str, scores: dict) -> str:
    """A class's legend entry: its name (or value), AP, MaxF and its threshold."""
    names = summary.get("class_names") or [None] * len(summary["class_values"])
    value = summary["class_values"][int(c)]
    name = own_name(names[int(c)], int(c), value) or f"class {value}"
    return (f"{name}: AP {scores['ap']:.3f}, MaxF {scores['max_f1']:.3f} at "
            f"{scores['max_f1_threshold']:.3f}")


def plot_pr_curve(summary: dict, out_png: str | os.PathLike) -> None:
    """Recall against precision of the raw probabilities per scored class (summary.json's
    pr_curve), the MaxF (ODS) threshold's point marked; a class no test pixel holds is left
    out (its figures are null)."""
    got = summary["pr_curve"]
    classes = got["methods"]["raw"]["classes"]
    fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    for k, (c, scores) in enumerate(classes.items()):
        if scores["ap"] is None:
            continue
        ax.step(scores["recall"], scores["precision"], where="post", color=f"C{k}",
                label=_label(summary, c, scores))
        best = round(scores["max_f1_threshold"] * got["bins"])  # its bin edge's index
        ax.plot(scores["recall"][best], scores["precision"][best], "o", color=f"C{k}")
    ax.set(xlim=(0, 1.01), ylim=(0, 1.01), xlabel="recall", ylabel="precision",
           title=f"Raw probabilities, test split ({got['bins']} bins; dot: MaxF threshold)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    save_figure(fig, out_png)
