"""The report's metrics table and per-class plot for a class that no test image's ground truth
or prediction holds: its scores are 0/0, 1.0 by convention, which read as a perfect class (a
nucleus class found only in training images showed Dice 1.0000, boundary F1 1.0000 and HD95 0
in metrics.tsv and full-height bars in raw_vs_crf.png)."""

from __future__ import annotations

import csv

import numpy as np
from PIL import Image

from unet.evaluate.boundary import image_diagonal, image_scores
from unet.evaluate.evaluate import summarise
from unet.report import figures
from unet.report.plot import metrics_table


def _summary() -> dict:
    target = np.zeros((37, 101), np.uint8)
    target[4:16, 0:30] = 1  # class 1 at the border; class 2 in no image
    pred = np.roll(target, 3, axis=1)
    scores = image_scores(pred, target, 3)
    result = {"id": "a", "diagonal": image_diagonal(target.shape), "scores": {"raw": scores}}
    return {"class_values": [0, 100, 200], "class_names": ["background", "cell", "nucleus"],
            "methods": summarise([result], ["raw"], 3)}


def test_the_table_leaves_an_absent_class_blank(tmp_path):
    metrics_table(_summary(), tmp_path / "t.tsv")
    with open(tmp_path / "t.tsv") as f:
        rows = {r["class"]: r for r in csv.DictReader(f, delimiter="\t")}
    scores = [k for k in rows["2"] if k.startswith(("global_", "mean_"))]
    assert {rows["2"][k] for k in scores} == {""}  # not 1.0000 and 0.0000
    assert rows["2"]["name"] == "nucleus"
    assert float(rows["1"]["global_dice"]) < 1  # a held class keeps its scores


def test_the_plot_draws_no_bar_for_an_absent_class(tmp_path, monkeypatch):
    drawn = []
    real = figures.plt.Axes.bar

    def bar(ax, x, heights, *args, **kwargs):
        drawn.append(list(heights))
        return real(ax, x, heights, *args, **kwargs)

    monkeypatch.setattr(figures.plt.Axes, "bar", bar)
    figures.plot_methods(_summary(), tmp_path / "m.png")
    assert len(drawn) == 3  # Dice, boundary F1, HD95
    for heights in drawn:
        assert np.isnan(heights[2]) and not np.isnan(heights[1])
    assert Image.open(tmp_path / "m.png").size[0] > 0
