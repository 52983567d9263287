"""COCO category colours (panoptic COCO's `color: [r, g, b]`, COCO Annotator's '#rrggbb') kept
in the drawn masks' palette, one colour per class over every part's JSON."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image

from tests.test_coco import _coco, _layout, _roboflow
from unet.dataset.download import write_manifest
from unet.dataset.layout import Layout

pytest.importorskip("pycocotools.mask")


def _palettes(manifest):
    return [np.reshape(Image.open(p["mask"]).getpalette()[:9], (3, 3)).tolist()
            for p in manifest["pairs"]]


def test_category_colours_fill_the_palette(tmp_path):
    data = _coco(tmp_path)
    data["categories"] = [{"id": 7, "name": "cell", "color": [220, 20, 60]},
                          {"id": 3, "name": "nucleus", "color": "#0A8040"}]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    assert manifest["class_names"] == {"0": "background", "1": "nucleus", "2": "cell"}
    for rgb in _palettes(manifest):
        assert rgb == [[0, 0, 0], [10, 128, 64], [220, 20, 60]]


def test_parts_coloured_otherwise_keep_the_first_and_warn(tmp_path, caplog):
    cats = [[{"id": 1, "name": "crack", "color": [255, 0, 0]}, {"id": 2, "name": "spall"}],
            [{"id": 1, "name": "crack", "color": [0, 0, 255]},
             {"id": 2, "name": "spall", "color": [0, 200, 0]}]]
    _roboflow(tmp_path, parts=("train", "valid"), categories=cats)
    layout = Layout(images="{group}", coco=(("json", "{group}/_annotations.coco.json"),))
    caplog.set_level(logging.WARNING)
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    first = _palettes(manifest)[0]
    assert first[1] == [255, 0, 0] and first[2] == [0, 200, 0]  # train's, then valid's
    assert all(rgb == first for rgb in _palettes(manifest))  # palette masks must agree
    assert "crack" in caplog.text and "(0, 0, 255)" in caplog.text and "valid" in caplog.text


def test_more_than_255_coloured_categories_still_draw(tmp_path):
    """LVIS-sized category lists (1203) each with a colour: a mask of classes up to 255 had a
    palette longer than 256 colours, which PIL refused ('invalid palette size')."""
    data = _coco(tmp_path)
    data["categories"] = [{"id": 3, "name": "nucleus", "color": [10, 128, 64]},
                          {"id": 7, "name": "cell", "color": [220, 20, 60]},
                          *({"id": 1000 + k, "name": f"c{k}", "color": [k % 256, 0, 0]}
                            for k in range(300))]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    assert len(manifest["class_names"]) == 303
    for rgb in _palettes(manifest):
        assert rgb == [[0, 0, 0], [10, 128, 64], [220, 20, 60]]


def test_shorthand_colours_are_read_and_others_and_shared_ones_warned(tmp_path, caplog):
    """'#0a4' (CSS shorthand) and 'red' were dropped without a word (those classes took the
    default palette's colours), and two categories of one colour, whose masks then look
    alike, went unremarked: '#0a4' is read now, and both are warned of, once, by name."""
    data = _coco(tmp_path)
    data["categories"] = [{"id": 7, "name": "cell", "color": "#0a4"},
                          {"id": 3, "name": "nucleus", "color": "red"}]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    caplog.set_level(logging.WARNING)
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, _layout())
    for rgb in _palettes(manifest):
        assert rgb[2] == [0, 170, 68]
    unread = [r.message for r in caplog.records if "'red'" in r.message]
    assert len(unread) == 1 and "nucleus" in unread[0] and "ann.json" in unread[0], caplog.text
    data["categories"] = [{"id": 7, "name": "cell", "color": [0, 170, 68]},
                          {"id": 3, "name": "nucleus", "color": "#00AA44"}]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    caplog.clear()
    write_manifest(tmp_path / "out2" / "manifest.json", "local", tmp_path, _layout())
    shared = [r.message for r in caplog.records if "one colour" in r.message]
    assert len(shared) == 1 and "'cell'" in shared[0] and "'nucleus'" in shared[0], caplog.text
