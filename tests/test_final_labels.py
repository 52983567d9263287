"""The report's figures say what the final masks are (finalize's choice), not just "final"."""

from __future__ import annotations

import csv

import matplotlib.figure
import numpy as np
from PIL import Image

from tests.test_score_chart_layout import _summary
from unet.common.labels import MaskMapping
from unet.report import charts, figures


def test_the_score_chart_names_the_chosen_final_masks(tmp_path, monkeypatch):
    # Three bars, raw, crf and final, where final was a copy of crf: the chart never said
    # which, so a reader took "final" for a third method (only crf_verdict.txt told).
    figs = []
    monkeypatch.setattr(charts, "save_figure", lambda fig, path: figs.append(fig))
    summary = {**_summary(["0", "1"]), "final": {"chosen": "crf"}}
    charts.plot_methods(summary, tmp_path / "m.png")
    fig = figs[0]
    labels = [t.get_text() for lg in [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
              if lg for t in lg.get_texts()]
    assert "final (crf)" in labels and "raw" in labels and "final" not in labels


def test_the_overlays_name_the_chosen_final_masks(tmp_path, monkeypatch):
    # The overlay panels' titles read "final: Dice 0.995" beside "crf: Dice 0.995".
    titles = []
    real = matplotlib.figure.Figure.savefig

    def savefig(self, *args, **kwargs):
        titles.extend(ax.get_title() for ax in self.axes)
        real(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    mask = np.zeros((8, 8), np.uint8)
    mask[2:5, 2:5] = 255
    Image.fromarray(mask).save(tmp_path / "a.png")
    dirs = {}
    for m in ("raw", "final"):
        (tmp_path / m).mkdir()
        Image.fromarray(mask).save(tmp_path / m / "a.png")
        dirs[m] = tmp_path / m
    with open(tmp_path / "pi.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "method", "class", "target_px", "predicted_px", "dice"])
        w.writerows([["a", m, c, 9, 9, 1.0] for m in dirs for c in (0, 1)])
    manifest = {"pairs": [{"id": "a", "image": str(tmp_path / "a.png"),
                           "mask": str(tmp_path / "a.png")}]}
    figures.write_overlays(tmp_path / "pi.csv", manifest, dirs, tmp_path / "o.png",
                           MaskMapping((0, 255)), labels={"final": "final (raw)"})
    assert "final (raw): Dice 1.000" in titles and "raw: Dice 1.000" in titles
