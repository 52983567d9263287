"""Don't-care labels and class colours of annotation tools: QuPath's `Ignore*` (any class
name ending in `*`) and LabelMe's `__ignore__` drawn as masks.ignore's value, and QuPath's
classification colours kept in the drawn masks' palette."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
from PIL import Image

from tests import test_labelme as lm
from tests import test_qupath as qp
from unet.cache.mapping import choose_mapping
from unet.cache.settings import settings_from_config
from unet.dataset.download import write_manifest
from unet.dataset.json_masks import drawn_ignore
from unet.dataset.layout import DataLayoutError
from unet.report.figures import class_colours


def _write(tmp_path, layout, ignore=None):
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout,
                              ignore=ignore)
    return manifest, {p["id"]: Image.open(p["mask"]) for p in manifest["pairs"]}


def _settings(ignore=None):
    return settings_from_config({}, {"values": None, "threshold": None, "ignore": ignore})


def _qupath_ignore(root):
    qp._save(root, "a", [qp._obj(qp._poly(qp._box(0, 0, 30, 10)), "Tumor"),
                         qp._obj(qp._poly(qp._box(0, 10, 10, 20)), "Ignore*"),
                         qp._obj(qp._poly(qp._box(20, 10, 30, 20)), "Stroma")])


def test_qupath_ignore_class_is_masks_ignore_not_a_class(tmp_path, caplog):
    _qupath_ignore(tmp_path)
    caplog.set_level(logging.INFO)
    manifest, masks = _write(tmp_path, qp._layout(), ignore=255)
    a = np.asarray(masks["a"])
    assert manifest["class_names"] == {"0": "background", "1": "Stroma", "2": "Tumor"}
    assert (a[:10] == 2).all() and (a[10:, 20:] == 1).all() and (a[10:, 10:20] == 0).all()
    assert (a[10:, :10] == 255).all()  # don't-care: neither trained nor scored
    assert masks["a"].getpalette()[3 * 255:] == [180] * 3  # shown grey, not as a class's colour
    assert "'Ignore*'" in caplog.text and "masks.ignore" in caplog.text
    mapping = choose_mapping(manifest["pairs"], _settings(255), 1)  # preprocess's reading
    assert mapping.values == (0, 1, 2) and mapping.ignore == 255


def test_unclassified_objects_named_ignore_star_are_dont_care(tmp_path):
    qp._save(tmp_path, "a", [qp._obj(qp._poly(qp._box(0, 0, 30, 10)), "Tumor"),
                             qp._obj(qp._poly(qp._box(0, 10, 10, 20)))])  # unclassified
    layout = qp._layout(qupath={"unclassified": "Ignore*"})
    manifest, masks = _write(tmp_path, layout, ignore=255)
    a = np.asarray(masks["a"])
    assert manifest["class_names"] == {"0": "background", "1": "Tumor"}
    assert (a[:10] == 1).all() and (a[10:, :10] == 255).all() and (a[10:, 10:] == 0).all()


def test_labelme_ignore_label_is_masks_ignore_not_a_class(tmp_path):
    lm._save(tmp_path, "a", [lm._shape("car", [[0, 0], [29, 9]], "rectangle"),
                             lm._shape("__ignore__", [[0, 10], [9, 19]], "rectangle")])
    manifest, masks = _write(tmp_path, lm._layout(), ignore=200)
    a = np.asarray(masks["a"])
    assert manifest["class_names"] == {"0": "background", "1": "car"}
    assert (a[:10] == 1).all() and (a[10:, :10] == 200).all() and (a[10:, 10:] == 0).all()
    assert masks["a"].getpalette()[3 * 200:3 * 201] == [180] * 3


def test_dont_care_without_a_usable_masks_ignore_refused_naming_the_key(tmp_path):
    _qupath_ignore(tmp_path)
    with pytest.raises(DataLayoutError, match=r"'Ignore\*'.*masks\.ignore: 255"):
        _write(tmp_path, qp._layout())
    for bad in (0, 2, [255, 255, 255], 256):  # background, Tumor's class, a colour, too big
        said = re.escape(f"masks.ignore {bad!r}") + ".*3 to 255"
        with pytest.raises(DataLayoutError, match=said):
            _write(tmp_path, qp._layout(), ignore=bad)
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_download_settings_carry_masks_ignore_only_for_drawn_json_masks():
    qupath = {"path": "/d", "qupath": {"json": "a/{id}.geojson"}}
    assert drawn_ignore(qupath, {"ignore": 255}) == 255
    assert drawn_ignore({"path": "/d", "labelme": {"json": "{id}.json"}}, {"ignore": 7}) == 7
    assert drawn_ignore(qupath, {}) is None
    assert drawn_ignore({"path": "/d", "masks": "m"}, {"ignore": 255}) is None


def _classed(box, name, **colour):
    feature = qp._obj(qp._poly(qp._box(*box)), name)
    feature["properties"]["classification"] = {"name": name, **colour}
    return feature


def test_qupath_class_colours_make_the_palette_first_seen_wins(tmp_path, caplog):
    argb = -(1 << 24) + (10 << 16) + (20 << 8) + 30  # QuPath 0.2's colorRGB: packed, alpha set
    qp._save(tmp_path, "a", [_classed((0, 0, 10, 10), "Tumor", color=[200, 0, 0]),
                             _classed((10, 0, 20, 10), "Stroma", color=[0, 150, 0]),
                             _classed((20, 0, 30, 10), "Necrosis", colorRGB=argb)])
    qp._save(tmp_path, "b", [_classed((0, 0, 10, 10), "Tumor", color=[0, 0, 255]),
                             _classed((10, 0, 20, 10), "Other")])  # no colour: the default
    caplog.set_level(logging.WARNING)
    manifest, masks = _write(tmp_path, qp._layout())
    assert manifest["class_names"] == {"0": "background", "1": "Necrosis", "2": "Other",
                                       "3": "Stroma", "4": "Tumor"}
    for mask in masks.values():
        rgb = np.reshape(mask.getpalette()[:15], (5, 3)).tolist()
        assert rgb[0] == [0, 0, 0] and rgb[1] == [10, 20, 30] and rgb[3] == [0, 150, 0]
        assert rgb[4] == [200, 0, 0]  # a.geojson's, seen first
        assert rgb[2] not in ([0, 0, 0], [10, 20, 30], [0, 150, 0], [200, 0, 0])
    assert "'Tumor'" in caplog.text and "(0, 0, 255)" in caplog.text and "b.geojson" in caplog.text
    # preprocess keeps the palette, and the report's overlays paint each class in it
    mapping = choose_mapping(manifest["pairs"], _settings(), 1)
    assert (class_colours(mapping)[4] * 255).round().tolist() == [200, 0, 0]


def test_qupath_classes_of_one_colour_and_unread_colours_are_warned(tmp_path, caplog):
    """Two QuPath classes of one colour draw masks that look alike, and a colour given as
    '#c00' or 'green' was dropped without a word: '#c00' is read, and both warned of once."""
    qp._save(tmp_path, "a", [_classed((0, 0, 10, 10), "Tumor", color=[0, 0, 255]),
                             _classed((10, 0, 20, 10), "Stroma", color="#00f"),
                             _classed((20, 0, 30, 10), "Other", color="green")])
    qp._save(tmp_path, "b", [_classed((20, 0, 30, 10), "Other", color="green")])
    caplog.set_level(logging.WARNING)
    _, masks = _write(tmp_path, qp._layout())
    assert np.reshape(masks["a"].getpalette()[:12], (4, 3)).tolist()[2] == [0, 0, 255]
    shared = [r.message for r in caplog.records if "one colour" in r.message]
    assert len(shared) == 1 and "'Stroma'" in shared[0] and "'Tumor'" in shared[0], caplog.text
    unread = [r.message for r in caplog.records if "'green'" in r.message]
    assert len(unread) == 1 and "'Other'" in unread[0], caplog.text
