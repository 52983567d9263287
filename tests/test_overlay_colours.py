"""Overlays paint every class in a colour of its own, the data's own where its masks are
colour-coded, and name the classes in a legend."""

from __future__ import annotations

import numpy as np
from PIL import Image

from unet.common.labels import MaskMapping
from unet.report.figures import class_colours, plot_overlays


def _distinct(colours: np.ndarray) -> bool:
    return len({tuple(np.round(c, 4)) for c in colours[1:]}) == len(colours) - 1


def test_every_class_has_a_colour_of_its_own():
    # Ten colours were cycled through a colour map clipped at its end: with VOC's 21 classes,
    # classes 10 to 20 were all painted the tenth colour.
    for n in (2, 5, 11, 21, 40):
        colours = class_colours(MaskMapping(tuple(range(n))))
        assert colours.shape == (n, 3) and _distinct(colours), n


def test_colour_coded_masks_are_painted_in_their_own_colours():
    isprs = [(255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0)]
    packed = tuple((r << 16) | (g << 8) | b for r, g, b in isprs)
    colours = class_colours(MaskMapping(packed, rgb=True))
    assert np.allclose(colours[1:] * 255, isprs[1:])
    voc = [0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0]  # a palette of colours: the data's own
    colours = class_colours(MaskMapping((0, 1, 2, 3), palette=tuple(voc)))
    assert np.allclose(colours[1:] * 255, np.reshape(voc, (4, 3))[1:])
    grey = [0, 0, 0, 255, 255, 255]  # a grey palette (Carvana's GIFs) only shows grey levels
    assert not np.allclose(class_colours(MaskMapping((0, 1), palette=tuple(grey)))[1], 1)


def test_the_legend_names_each_class_by_its_value(tmp_path, legend_labels):
    mask = np.zeros((20, 30), np.uint8)
    mask[2:8, 2:8], mask[10:15, 10:20] = 85, 170
    Image.fromarray(mask).save(tmp_path / "m.png")
    Image.fromarray(mask).save(tmp_path / "img.png")
    rows = [{"id": "a", "image": tmp_path / "img.png", "panels": [("gt", tmp_path / "m.png")]}]
    plot_overlays(rows, tmp_path / "o.png", MaskMapping((0, 85, 170, 255)))
    assert legend_labels == ["class 1 (85)", "class 2 (170)", "class 3 (255)"]


def test_the_score_bars_name_each_class_by_its_value(tmp_path, monkeypatch):
    import unet.report.charts as charts

    figs = []
    monkeypatch.setattr(charts, "save_figure", lambda fig, path: figs.append(fig))
    scores = {"global": {"dice": 0.5}, "mean_per_image": {"boundary_f1": 0.5, "hd95": 3.0}}
    summary = {"class_values": [0, 0xFF0000], "class_labels": ["[0, 0, 0]", "[255, 0, 0]"],
               "methods": {"raw": {"classes": {"0": scores, "1": scores}}}}
    charts.plot_methods(summary, tmp_path / "m.png")
    ticks = [t.get_text() for t in figs[0].axes[0].get_xticklabels()]
    assert ticks == ["class 0\n[0, 0, 0]", "class 1\n[255, 0, 0]"]


def test_ignored_pixels_are_shown_and_named(tmp_path, legend_labels):
    # The Pet trimap border, Cityscapes' void ids: skipped by the loss and the metrics, they
    # were left unpainted, so the ground truth showed them as background.
    from unet.common.labels import IGNORE_INDEX
    from unet.report.figures import IGNORED_COLOUR, _painted, class_layer

    mask = np.zeros((20, 30), np.uint8)
    mask[2:8, 2:8], mask[10:15, 10:20] = 1, 3  # 3: the trimap border, ignored
    Image.fromarray(mask).save(tmp_path / "m.png")
    mapping = MaskMapping((0, 1), ignore=3)
    layer = class_layer(tmp_path / "m.png", mapping)
    assert (layer.data[10:15, 10:20] == IGNORE_INDEX).all()
    rgba = _painted(layer, class_colours(mapping))
    assert np.allclose(rgba[12, 12, :3], IGNORED_COLOUR) and rgba[12, 12, 3] > 0
    assert rgba[0, 0, 3] == 0 and rgba[4, 4, 3] > 0  # background clear, class 1 painted
    rows = [{"id": "a", "image": tmp_path / "m.png", "panels": [("gt", tmp_path / "m.png")]}]
    plot_overlays(rows, tmp_path / "o.png", mapping)
    assert legend_labels == ["class 1 (1)", "ignored (not scored)"]


def test_with_many_classes_the_legend_names_the_classes_shown(tmp_path, legend_labels):
    # With ADE20K's 150 classes the legend named all 150 in 26 rows under three images that
    # held a dozen, in turbo colours too close to tell apart without the names of those shown.
    mask = np.zeros((20, 30), np.uint8)
    mask[2:8, 2:8], mask[10:15, 10:20] = 40, 117
    Image.fromarray(mask).save(tmp_path / "m.png")
    pred = mask.copy()
    pred[0:2, 0:3] = 150
    Image.fromarray(pred).save(tmp_path / "p.png")
    Image.fromarray(mask).save(tmp_path / "img.png")
    rows = [{"id": "a", "image": tmp_path / "img.png",
             "panels": [("gt", tmp_path / "m.png"), ("raw", tmp_path / "p.png")]}]
    plot_overlays(rows, tmp_path / "o.png", MaskMapping(tuple(range(151))))
    assert legend_labels == ["class 40 (40)", "class 117 (117)", "class 150 (150)"]


def test_an_image_named_with_dollar_signs_is_titled_as_named(tmp_path, monkeypatch):
    """Titles were read as matplotlib mathtext: 'price $1 to $2' was shown as 'price 1 to 2' in
    italics, and 'x$^$y' stopped plot_results with a ParseSyntaxException."""
    mask = np.zeros((20, 30), np.uint8)
    mask[2:8, 2:8] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    for name in ("price $1 to $2", "x$^$y"):
        rows = [{"id": name, "image": tmp_path / "m.png", "panels": [("gt", tmp_path / "m.png")]}]
        plot_overlays(rows, tmp_path / "o.png", MaskMapping((0, 255)))
        assert (tmp_path / "o.png").is_file()
    import unet.report.figures as figures

    figs = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: figs.append(fig))
    plot_overlays(rows, tmp_path / "o.png", MaskMapping((0, 255)))
    titles = [ax.title for ax in figs[0].axes if ax.get_title()]
    assert [t.get_text() for t in titles] == ["x$^$y", "gt"]
    assert not any(t.get_parse_math() for t in titles)


def test_the_legend_sits_under_the_last_row(tmp_path, monkeypatch):
    """With four rows (ISBI 2012's best and worst test sections) an empty band more than a row's
    height tall (the figure's bottom margin, a share of its height) parted the legend from the
    images."""
    mask = np.zeros((64, 64), np.uint8)
    mask[8:30, 8:30] = 255
    fig = _drawn(tmp_path, monkeypatch, mask, (0, 255), rows=4, panels=3)
    lowest = min(ax.get_window_extent().y0 for ax in fig.axes)
    legend = fig.legends[0].get_window_extent()
    gap_inches = (lowest - legend.y1) / fig.dpi
    assert -0.01 <= gap_inches < 0.4, gap_inches


def test_rows_of_wide_images_are_not_parted_by_blank_bands(tmp_path, monkeypatch):
    """Every row was 2.8 in tall whatever the images' shape: 40x300 scenes (strips 0.5 in tall
    at 3.6 in a panel) stood 2.2 in apart, two thirds of the figure blank."""
    mask = np.zeros((40, 300), np.uint8)
    mask[10:30, 50:90] = 255
    fig = _drawn(tmp_path, monkeypatch, mask, (0, 255), rows=3, panels=2)
    tops = sorted((ax.get_window_extent() for ax in fig.axes[::3]), key=lambda e: -e.y1)
    gaps = [(a.y0 - b.y1) / fig.dpi for a, b in zip(tops[:-1], tops[1:], strict=True)]
    assert max(gaps) < 0.5, gaps


def test_the_legend_takes_no_room_from_a_row_of_wide_images(tmp_path, monkeypatch):
    """Rows as tall as their images left the legend's room to come out of them: one row of
    40x300 scenes drew 2.4 in wide, not 3.6, and a 14-class legend collapsed them."""
    for values in ((0, 255), tuple(range(0, 140, 10))):
        mask = np.zeros((40, 300), np.uint8)
        for k, v in enumerate(values):
            mask[:, k * 20 : k * 20 + 20] = v
        fig = _drawn(tmp_path, monkeypatch, mask, values, rows=1, panels=1)
        widths = [ax.get_images()[0].get_window_extent().width / fig.dpi for ax in fig.axes]
        assert min(widths) > 3.2, (values, widths)


def _drawn(tmp_path, monkeypatch, mask: np.ndarray, values: tuple, rows: int, panels: int):
    """The overlay figure plot_overlays draws (not saved) for `rows` rows of `panels` panels,
    each the image and ground truth `mask` (saved as m.png) of mask values `values`."""
    import unet.report.figures as figures

    Image.fromarray(mask).save(tmp_path / "m.png")
    figs = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: figs.append(fig))
    row = {"image": tmp_path / "m.png", "panels": [("gt", tmp_path / "m.png")] * panels}
    plot_overlays([{**row, "id": str(k)} for k in range(rows)], tmp_path / "o.png",
                  MaskMapping(values))
    figs[-1].canvas.draw()
    return figs[-1]


def test_overlays_of_no_foreground_among_many_classes_draw_without_a_legend(tmp_path, monkeypatch):
    """Beyond LEGEND_ALL classes the legend names those shown: where the panels showed none
    (every row all background) it was asked for 0 columns and the report stopped (ValueError)."""
    fig = _drawn(tmp_path, monkeypatch, np.zeros((40, 60), np.uint8), tuple(range(0, 220, 10)),
                 rows=1, panels=1)
    assert not fig.legends and len(fig.axes) == 2


def test_no_class_is_painted_in_the_ignored_pixels_grey():
    # Cityscapes' 19 classes took tab20's colours, greys included: class 15 (bus, id 28) was
    # painted (0.78, 0.78, 0.78), beside the void's (0.85, 0.85, 0.85) in the same panel.
    from unet.report.figures import IGNORED_COLOUR
    for n in (11, 19, 21):
        colours = class_colours(MaskMapping(tuple(range(n))))
        saturation = np.ptp(colours[1:], axis=1)
        assert saturation.min() > 0.1, (n, colours[1:][saturation.argmin()])
        assert np.linalg.norm(colours[1:] - IGNORED_COLOUR, axis=1).min() > 0.15, n
