"""The per-class score chart (raw_vs_crf.png) stays readable with a few classes: colour masks'
long labels clear of one another, and the methods' legend over no bar."""

from __future__ import annotations

import numpy as np

from tests.test_many_class_plots import _overlaps, _tick_boxes, drawn  # noqa: F401
from unet.evaluate.boundary import image_diagonal, image_scores
from unet.evaluate.evaluate import summarise
from unet.report import charts


def _summary(labels: list[str], near: bool = True) -> dict:
    """Classes as bands of rows, found exactly (Dice 1, the top of the panel) or 1 px off."""
    k = len(labels)
    target = np.zeros((k * 4, 40), np.uint8)
    for c in range(k):
        target[4 * c : 4 * c + 4, 5:35] = c
    pred = target if near else np.roll(target, 1, axis=1)
    scores = image_scores(pred, target, k)
    result = {"id": "a", "diagonal": image_diagonal(target.shape),
              "scores": {m: scores for m in ("raw", "crf", "final")}}
    return {"class_values": list(range(k)), "class_labels": labels,
            "class_names": ["bg", "disk", "rect", "rare"][:k],
            "methods": summarise([result], ["raw", "crf", "final"], k)}


COLOURS = ["[0, 0, 0]", "[255, 0, 0]", "[0, 255, 0]", "[0, 0, 255]"]


def test_colour_mask_class_labels_do_not_overlap(tmp_path, drawn):  # noqa: F811
    # Four colour-coded classes drew "bg ([0, 0, 0])" and "disk ([255, 0, 0])" side by side
    # under 13 inches of three panels: each label ran into its neighbours, unreadable.
    charts.plot_methods(_summary(COLOURS), tmp_path / "m.png")
    fig, renderer = drawn[0]
    for panel in _tick_boxes(fig, renderer):
        assert len(panel) == 4
        panel = sorted(panel, key=lambda b: b.x0)
        for a, b in zip(panel, panel[1:], strict=False):
            assert not _overlaps(a, b)
    texts = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "rare" in texts[3] and "[0, 0, 255]" in texts[3]


def test_the_methods_legend_hides_no_bar(tmp_path, drawn):  # noqa: F811
    # A good model's Dice and boundary F1 reach the top of their panels, where the legend
    # (raw, crf, final) sat: it hid the tops of the bars, the very difference the chart shows.
    charts.plot_methods(_summary(["0", "1", "2"]), tmp_path / "m.png")
    fig, renderer = drawn[0]
    for n, ax in enumerate(fig.axes):
        legends = [lg for lg in [*fig.legends, ax.get_legend()] if lg]
        assert legends
        bars = [p.get_window_extent(renderer) for p in ax.patches if p.get_height() > 0]
        assert bars or n == 2  # HD95 0 draws no bar
        for legend in legends:
            box = legend.get_window_extent(renderer)
            assert not any(_overlaps(box, b) for b in bars)


def test_the_methods_legend_covers_no_class_label(tmp_path, drawn):  # noqa: F811
    # Below the side-by-side panels the legend sat at a fixed height: a class no test image
    # holds has a third label line, '(not in test)', and the legend was drawn over it.
    from tests.test_many_class_plots import _summary as with_absent

    charts.plot_methods(with_absent(2), tmp_path / "m.png")
    fig, renderer = drawn[0]
    assert "(not in test)" in fig.axes[1].get_xticklabels()[1].get_text()
    box = fig.legends[0].get_window_extent(renderer)
    assert not any(_overlaps(box, b) for panel in _tick_boxes(fig, renderer) for b in panel)


def test_the_hd95_axis_shows_no_negative_distance(tmp_path, drawn):  # noqa: F811
    # Classes found exactly have HD95 0: the panel autoscaled around 0, from -0.05 px up
    charts.plot_methods(_summary(["0", "1", "2"]), tmp_path / "m.png")
    fig, _ = drawn[0]
    assert fig.axes[2].get_ylim()[0] == 0 < fig.axes[2].get_ylim()[1]
