"""A class keeps one colour across the report: the training curves draw each class's
validation Dice in the colour the overlays paint it (LoveDA's building red in the overlays was
orange in the curves, water orange there and red here)."""

from __future__ import annotations

import csv

import matplotlib.figure
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from unet.common.labels import MaskMapping
from unet.report import charts
from unet.report.figures import class_colours

NAMES = ["background", "building", "road", "water", "barren", "forest", "agriculture"]


def _history(path, k: int) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", "train_loss", "val_loss", "val_dice",
                         *(f"val_dice_{c}" for c in range(k)), "lr", "seconds", "images_per_s"])
        for e in (1, 2):
            writer.writerow([e, 1.0 / e, 1.1 / e, 0.3 * e, *(0.1 * e for _ in range(k)), 0.01,
                             1, 1])


def _class_lines(monkeypatch, tmp_path, mapping: MaskMapping) -> dict[str, tuple]:
    """The validation Dice panel's line colours by label, as plot_curves draws them."""
    figs: list = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda fig, *a, **k: figs.append(fig))
    _history(tmp_path / "history.csv", mapping.num_classes)
    charts.plot_curves([tmp_path / "history.csv"], tmp_path / "c.png", NAMES, mapping)
    return {line.get_label(): to_rgb(line.get_color()) for line in figs[0].axes[1].get_lines()}


@pytest.mark.parametrize("background", [True, False])
def test_each_class_curve_has_its_overlay_colour(monkeypatch, tmp_path, background):
    mapping = MaskMapping(tuple(range(1, 8)), ignore=0, background=background)
    lines = _class_lines(monkeypatch, tmp_path, mapping)
    painted = class_colours(mapping)
    for c in range(mapping.scored_from, 7):
        assert np.allclose(lines[f"class {c} {NAMES[c]} ({c + 1})"], painted[c]), c
    if background:  # unpainted in the overlays: a line of its own, in none of their colours
        grey = lines["class 0 background (1)"]
        assert not any(np.allclose(grey, painted[c]) for c in range(1, 7))


def test_a_white_class_colour_stays_visible(monkeypatch, tmp_path):
    # ISPRS Potsdam: impervious surfaces are white in the masks, a white line on white.
    isprs = [(255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0),
             (255, 0, 0), (128, 0, 0)]
    mapping = MaskMapping(tuple((r << 16) | (g << 8) | b for r, g, b in isprs), rgb=True,
                          background=False)
    lines = _class_lines(monkeypatch, tmp_path, mapping)
    assert max(lines["class 0 background ([255, 255, 255])"]) < 0.9
    assert np.allclose(lines["class 1 building ([0, 0, 255])"], (0, 0, 1))


def _voc_like() -> MaskMapping:
    """A palette mask of VOC's colours: background (0, 0, 0), aeroplane (128, 0, 0) and cat,
    value 8, near-black (64, 0, 0)."""
    palette = [0] * 768
    for value, rgb in ((0, (0, 0, 0)), (1, (128, 0, 0)), (8, (64, 0, 0)), (15, (192, 128, 128))):
        palette[3 * value : 3 * value + 3] = rgb
    return MaskMapping((0, 1, 8, 15), palette=tuple(palette))


def _class_styles(monkeypatch, tmp_path, mapping: MaskMapping, names) -> dict[str, tuple]:
    """The validation Dice panel's (colour, line style) by label, as plot_curves draws them."""
    figs: list = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda fig, *a, **k: figs.append(fig))
    _history(tmp_path / "history.csv", mapping.num_classes)
    charts.plot_curves([tmp_path / "history.csv"], tmp_path / "c.png", names, mapping)
    return {line.get_label(): (to_rgb(line.get_color()), line.get_linestyle())
            for line in figs[0].axes[1].get_lines()}


def test_curves_name_classes_as_the_overlays_do(monkeypatch, tmp_path):
    names = ["background", "aeroplane", "cat", "person"]
    lines = _class_styles(monkeypatch, tmp_path, _voc_like(), names)
    assert list(lines) == ["class 0 background (0)", "class 1 aeroplane (1)", "class 2 cat (8)",
                           "class 3 person (15)"]


def test_a_near_black_class_line_is_told_from_the_background_line(monkeypatch, tmp_path):
    lines = _class_styles(monkeypatch, tmp_path, _voc_like(), None)
    (_, grey_style), (cat, cat_style) = lines["class 0 (0)"], lines["class 2 (8)"]
    assert np.allclose(cat, (64 / 255, 0, 0))  # still the overlays' colour
    assert cat_style != grey_style
    assert lines["class 1 (1)"][1] == lines["class 3 (15)"][1] == "-"  # distinct: solid


def test_line_styles_differ_only_between_alike_colours():
    styles = charts.line_styles([(0.3, 0.3, 0.3), (0.25, 0, 0), (0.1, 0.1, 0.1), (1, 0, 0),
                                 (0.95, 0.05, 0), (0, 0, 1)])
    assert styles[0] == "-" and styles[3] == "-" and styles[5] == "-"
    assert len({styles[0], styles[1], styles[2]}) == 3  # three near-black lines, three styles
    assert styles[4] != styles[3]
