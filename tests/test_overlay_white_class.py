"""A white class (ISPRS impervious surfaces) and ignored pixels look apart in the overlays, and
its legend swatch shows on the white figure: measured on the rendered PNG's pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import unet.report.figures as figures
from unet.common.labels import MaskMapping

# ISPRS Vaihingen's colours: clutter (class 0 here), impervious, building, low vegetation,
# tree, car; its eroded borders black, ignored.
ISPRS = [(255, 0, 0), (255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0)]
ISPRS_MAPPING = MaskMapping(tuple((r << 16) | (g << 8) | b for r, g, b in ISPRS), rgb=True,
                            ignore=0)


def _render(tmp_path, monkeypatch, mapping: MaskMapping, mask: np.ndarray, grey: int):
    """plot_overlays of `mask` over a uniform `grey` image: the figure and its PNG's pixels."""
    Image.fromarray(mask).save(tmp_path / "m.png")
    Image.fromarray(np.full(mask.shape[:2], grey, np.uint8)).save(tmp_path / "img.png")
    figs = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: figs.append(fig))
    # three panels: the figure as wide as the 6-entry legend, which is then all on the canvas
    panels = [(t, tmp_path / "m.png") for t in ("gt", "raw", "crf")]
    rows = [{"id": "a", "image": tmp_path / "img.png", "panels": panels}]
    figures.plot_overlays(rows, tmp_path / "o.png", mapping)
    fig = figs[0]
    fig.savefig(tmp_path / "shown.png", dpi=fig.dpi, format="png")  # pixels as display units
    return fig, np.asarray(Image.open(tmp_path / "shown.png").convert("RGB"), np.float64)


def _at(fig, png: np.ndarray, ax, x: float, y: float) -> np.ndarray:
    """The PNG's pixel at data point (x, y) of `ax`."""
    px, py = ax.transData.transform((x, y))
    return png[int(png.shape[0] - py), int(px)]


@pytest.mark.parametrize("grey", [90, 148, 200])
def test_ignored_pixels_and_a_white_class_differ_over_grey(tmp_path, monkeypatch, grey):
    # Over a grey road (148) impervious white at 0.45 and ignored light grey at 0.7 both came
    # out (196, 196, 196): the eroded borders could not be told from the roads.
    mask = np.zeros((20, 30, 3), np.uint8)
    mask[:, :15] = 255  # impervious; the right half black: ignored
    fig, png = _render(tmp_path, monkeypatch, ISPRS_MAPPING, mask, grey)
    ax = fig.axes[1]
    white, ignored = _at(fig, png, ax, 6, 10), _at(fig, png, ax, 23, 10)
    assert np.linalg.norm(white - ignored) > 60, (white, ignored)
    assert np.linalg.norm(ignored - grey) > 40  # still drawn over the image, not left clear


def test_the_white_swatch_has_a_visible_edge(tmp_path, monkeypatch):
    # A white swatch at 0.65 on the white figure drew nothing: 'class 1' named an empty space.
    mask = np.zeros((20, 30, 3), np.uint8)
    mask[:, :15] = 255
    fig, png = _render(tmp_path, monkeypatch, ISPRS_MAPPING, mask, 148)
    swatches = fig.legends[0].get_patches()
    box = swatches[0].get_window_extent()  # class 1, impervious
    assert box.x0 > 1 and box.x1 < png.shape[1] - 2
    top, bottom = int(png.shape[0] - box.y1), int(png.shape[0] - box.y0)
    crop = png[top - 1 : bottom + 2, int(box.x0) - 1 : int(box.x1) + 2]
    assert crop.min() < 170, crop.min()  # an outline darker than the white page
    inside = png[(top + bottom) // 2, int(box.x0 + box.x1) // 2]
    assert inside.min() > 240  # the swatch itself still white, as the class is painted


def test_other_palettes_keep_the_light_grey():
    # Nothing was ambiguous for the default colours: their ignored pixels stay as they were.
    for n in (2, 5, 11, 21, 40):
        mapping = MaskMapping(tuple(range(n)), ignore=255)
        assert figures.ignored_colour(figures.class_colours(mapping), 1) == figures.IGNORED_COLOUR
    voc = [0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0]
    mapping = MaskMapping((0, 1, 2, 3), palette=tuple(voc), ignore=255)
    assert figures.ignored_colour(figures.class_colours(mapping), 1) == figures.IGNORED_COLOUR


def test_a_white_class_gets_ignored_pixels_of_another_colour():
    from unet.report.ignored import separation

    colours = figures.class_colours(ISPRS_MAPPING)
    chosen = figures.ignored_colour(colours, ISPRS_MAPPING.scored_from)
    assert chosen != figures.IGNORED_COLOUR
    assert separation(chosen, colours[1:]).min() > 0.25  # clear of every class


def test_a_figure_chooses_its_ignored_colour_once(tmp_path, monkeypatch):
    # The panels and the legend each chose it: the same answer, worked out twice per figure.
    calls, chosen = [], figures.ignored_colour
    monkeypatch.setattr(figures, "ignored_colour", lambda *a: calls.append(a) or chosen(*a))
    mask = np.zeros((20, 30, 3), np.uint8)
    mask[:, :15] = 255
    fig, _ = _render(tmp_path, monkeypatch, ISPRS_MAPPING, mask, 148)
    assert len(calls) == 1
    legend_colour = fig.legends[0].get_patches()[-1].get_facecolor()[:3]  # the ignored swatch
    assert np.allclose(legend_colour, chosen(*calls[0]))
