"""The report's per-class figures stay readable with many classes (VOC's 21, Cityscapes' 19,
ADE20K's 150): no class label drawn over another, no legend drawn over a panel."""

from __future__ import annotations

import csv

import matplotlib.figure
import numpy as np
import pytest

from unet.evaluate.boundary import image_diagonal, image_scores
from unet.evaluate.evaluate import summarise
from unet.report import charts


@pytest.fixture
def drawn(monkeypatch) -> list:
    """Every figure saved from now on, laid out as in its PNG (bbox_inches='tight')."""
    figs: list = []
    real = matplotlib.figure.Figure.savefig

    def savefig(self, *args, **kwargs):
        real(self, *args, **kwargs)  # lays the figure out and draws it
        figs.append((self, self.canvas.get_renderer()))

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    return figs


def _summary(k: int) -> dict:
    """k classes, class c in the image as a band of rows, found 1 px off; the last class in
    no image (not in test)."""
    target = np.zeros((k * 4, 40), np.uint8)
    for c in range(k - 1):
        target[4 * c : 4 * c + 4, 5:35] = c
    pred = np.roll(target, 1, axis=1)
    scores = image_scores(pred, target, k)
    result = {"id": "a", "diagonal": image_diagonal(target.shape), "scores": {"raw": scores,
                                                                           "crf": scores}}
    return {"class_values": list(range(k)), "class_names": [f"name{c}" for c in range(k)],
            "methods": summarise([result], ["raw", "crf"], k)}


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5


def _tick_boxes(fig, renderer) -> list[list]:
    return [[t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
            for ax in fig.axes]


@pytest.mark.parametrize("k", [21, 150])
def test_class_labels_of_the_score_bars_do_not_overlap(tmp_path, drawn, k):
    # With VOC's 21 classes the labels under the bars ("class 3\nbird (3)") ran into one another,
    # and with ADE20K's 150 they were a black smear over all three panels.
    charts.plot_methods(_summary(k), tmp_path / "m.png")
    fig, renderer = drawn[0]
    boxes = _tick_boxes(fig, renderer)
    for panel in boxes:
        assert len(panel) == k  # every class still labelled
        panel = sorted(panel, key=lambda b: b.x0)
        for a, b in zip(panel, panel[1:], strict=False):
            assert not _overlaps(a, b)
    axes = [ax.get_window_extent(renderer) for ax in fig.axes]
    for n, panel in enumerate(boxes):  # a panel's labels stay clear of the other panels
        for box in panel:
            assert not any(_overlaps(box, other) for m, other in enumerate(axes) if m != n)
    texts = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "name3" in texts[3] and "not in test" in texts[-1]


def _history(path, k: int) -> None:
    columns = ["epoch", "train_loss", "val_loss", "val_dice", *(f"val_dice_{c}" for c in range(k)),
               "lr", "seconds", "images_per_s"]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for e in (1, 2, 3):
            writer.writerow([e, 1.0 / e, 1.0 / e, 0.2 * e, *(c / k for c in range(k)), 0.01, 1, 1])


@pytest.mark.parametrize("k", [21, 150])
def test_the_validation_dice_legend_covers_no_panel(tmp_path, drawn, k):
    # The per-class legend sat inside the validation Dice panel: with 21 classes it hid the
    # curves and the panel's title, with 150 it hung 3,000 px below a 350 px figure.
    _history(tmp_path / "history.csv", k)
    charts.plot_curves([tmp_path / "history.csv"], tmp_path / "c.png",
                        [f"name{c}" for c in range(k)])
    fig, renderer = drawn[0]
    # the loss panel's own small legend (train, val) may sit inside it
    legends = [lg for lg in [*fig.legends, fig.axes[1].get_legend()] if lg]
    panels = [ax.get_window_extent(renderer) for ax in fig.axes]
    titles = [ax.title.get_window_extent(renderer) for ax in fig.axes]
    for legend in legends:
        box = legend.get_window_extent(renderer)
        assert not any(_overlaps(box, p) for p in panels + titles)
    tight = fig.get_tightbbox(renderer)
    assert tight.height < 3 * fig.axes[1].get_window_extent(renderer).height
    assert sum(len(lg.get_texts()) for lg in legends) <= 2 + 30  # a legend one can read
    assert len(fig.axes[1].get_lines()) >= k  # every class's curve still drawn


def test_a_single_epoch_is_drawn(tmp_path, drawn):
    # A one-epoch run's curves were lines of one point, which draw nothing: three empty panels.
    with open(tmp_path / "history.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", "train_loss", "val_loss", "val_dice", "val_dice_0",
                         "val_dice_1", "lr", "seconds", "images_per_s"])
        writer.writerow([1, 0.7, 0.6, 0.5, 0.9, 0.5, 0.01, 1, 1])
    charts.plot_curves([tmp_path / "history.csv"], tmp_path / "c.png")
    fig, _ = drawn[0]
    lines = [line for ax in fig.axes for line in ax.get_lines()]
    assert len(lines) == 5 and all(line.get_marker() not in (None, "None", "") for line in lines)
