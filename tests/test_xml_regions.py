"""XML annotation follow-ups: degenerate regions skipped as VIA's and LabelMe's are, and a class
named by its own number printed once."""

from __future__ import annotations

import logging

import numpy as np

from tests.test_xml_masks import H, W, _aperio, _asap, _box, _layer, _masks, _region, _save


def test_regions_of_fewer_than_three_points_are_skipped_and_counted(tmp_path, caplog):
    # a click ImageScope kept as a 1-vertex region, a short drag as a 2-vertex one: they cover
    # no area, so they are left out as VIA's and LabelMe's are, not refused
    _save(tmp_path, "a", _aperio([_layer([
        _region(_box(2, 3, 12, 13), rid=1), _region([(20, 5)], rid=2),
        _region([(20, 5), (25, 9)], rid=3), _region([(4, 4)], rid=4, kind=2),
        _region([(6, 6), (8, 8)], rid=5, negative=True)])]))
    _save(tmp_path, "b", _asap([("_0", _box(1, 1, 9, 9), "Polygon"),
                                ("_0", [(20, 5), (25, 9)], "Polygon")]))
    caplog.set_level(logging.WARNING)
    manifest, masks = _masks(tmp_path)
    want = np.zeros((H, W), bool)
    want[3:13, 2:12] = True
    assert ((masks["a"] > 0) == want).all()  # the square whole: the 2-point cut is no hole
    assert (masks["b"][1:9, 1:9] > 0).all() and masks["b"][:, 12:].max() == 0
    assert "5 arrow, ruler or point annotation(s), or region(s) of fewer than 3 points" \
        in caplog.text
    assert "a.xml (4)" in caplog.text and "b.xml (1)" in caplog.text


def _texts(fig):
    return [t.get_text() for lg in [*fig.legends, *(ax.get_legend() for ax in fig.axes)] if lg
            for t in lg.get_texts()]


def test_a_class_named_by_its_own_number_is_printed_once(tmp_path, monkeypatch):
    # MoNuSeg's one unnamed layer is class "1", written as value 1: the overlays' legend read
    # "class 1 1 (1)", the curves "class 1 1", the score chart "1 (1)", unet info "1 = 1 (1)"
    import matplotlib.pyplot as plt

    from tests.test_score_chart_layout import _summary
    from unet.common.labels import MaskMapping
    from unet.model.describe import class_list
    from unet.report import charts, figures

    names = ["background", "1"]
    mapping = MaskMapping((0, 1))
    fig = plt.figure()
    figures._legend(fig, mapping, np.zeros((2, 3)), names, figures.IGNORED_COLOUR)
    assert _texts(fig) == ["class 1 (1)"]  # class 0, background, is not painted
    plt.close(fig)
    assert charts._class_label(1, names) == "class 1"
    assert charts._class_label(1, ["background", "nucleus"]) == "class 1 nucleus"
    figs = []
    monkeypatch.setattr(charts, "save_figure", lambda fig, path: figs.append(fig))
    charts.plot_methods({**_summary(["0", "1"]), "class_names": names}, tmp_path / "m.png")
    ticks = [t.get_text() for t in figs[0].axes[0].get_xticklabels()]
    assert ticks == ["class 0\nbackground (0)", "class 1\n1"]
    assert class_list(mapping, names) == "2: 0 = 0 (background), 1 = 1"
    assert class_list(mapping, [None, "a"]) == "2: 0 = 0, 1 = 1 (a)"
