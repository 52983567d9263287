"""Masks as LabelMe annotations (a JSON per image: polygons, rectangles, circles, bitmaps),
drawn into palette PNGs of class numbers when the manifest is written."""

from __future__ import annotations

import base64
import io
import json
import logging

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout, data_files, layout_from
from unet.dataset.layout_kinds import layout_modules

H, W = 20, 30


def _shape(label, points, kind="polygon", **kw):
    return {"label": label, "points": points, "shape_type": kind, "group_id": None,
            "flags": {}, **kw}


def _save(root, stem, shapes, image_path=None, size=(W, H), folder="imgs", img=True):
    """An image `stem`.png in imgs/ and its LabelMe JSON beside it (or in `folder`)."""
    (root / "imgs").mkdir(parents=True, exist_ok=True)
    if img:
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(root / "imgs" / f"{stem}.png")
    (root / folder).mkdir(parents=True, exist_ok=True)
    data = {"version": "5.4.1", "flags": {}, "shapes": shapes,
            "imagePath": image_path or f"{stem}.png", "imageData": None,
            "imageHeight": size[1], "imageWidth": size[0]}
    (root / folder / f"{stem}.json").write_text(json.dumps(data))


def _layout(**kw):
    return Layout(images="imgs", labelme=(("json", "imgs/{id}.json"),), **kw)


def _masks(tmp_path, layout=None):
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path,
                              layout or _layout())
    return manifest, {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}


def test_shapes_filled_in_file_order_classes_by_sorted_label(tmp_path, caplog):
    _save(tmp_path, "a", [
        _shape("road", [[0, 0], [29, 0], [29, 9], [0, 9]]),  # top half, class 2
        _shape("car", [[12, 8], [4, 2]], "rectangle"),  # corners in any order; on the road
        _shape("_background_", [[5, 3], [6, 3], [6, 4], [5, 4]]),  # a hole cut back to 0
        _shape("tree", [[22, 15], [25, 15]], "circle"),  # centre, a point on its rim
        _shape("kerb", [[0, 19], [29, 19]], "line"),  # lines and points draw no area
        _shape("kerb", [[3, 17]], "point"),
    ])
    _save(tmp_path, "b", [_shape("car", [[0, 0], [29, 0], [29, 19], [0, 19]])])
    (tmp_path / "imgs" / "c.png").write_bytes((tmp_path / "imgs" / "a.png").read_bytes())
    caplog.set_level(logging.INFO)
    manifest, masks = _masks(tmp_path)
    assert sorted(masks) == ["a", "b"]  # c.png has no JSON: named, not used
    assert "c.png" in caplog.text
    assert manifest["class_names"] == {"0": "background", "1": "car", "2": "road", "3": "tree"}
    a = masks["a"]
    assert a[0, 29] == 2 and a[9, 0] == 2 and a[10, 0] == 0
    assert a[2, 4] == 1 and a[8, 12] == 1 and a[3, 5] == 0 and a[4, 6] == 0
    assert a[15, 22] == 3 and a[15, 19] == 3 and a[15, 18] == 0 and a[12, 22] == 3
    assert not a[17:, :20].any()  # the line and the point: no pixels
    assert "2 line/point shape(s)" in caplog.text and "a.json" in caplog.text
    assert (masks["b"] == 1).all()
    assert tmp_path / "imgs" / "a.json" in data_files(tmp_path, _layout())


def test_windows_image_path_from_a_folder_of_jsons(tmp_path):
    _save(tmp_path, "a", [_shape("cell", [[1, 1], [5, 1], [5, 5]])],
          image_path="..\\imgs\\a.png", folder="ann")
    manifest, masks = _masks(tmp_path, Layout(images="imgs",
                                              labelme=(("json", "ann/{id}.json"),)))
    assert manifest["pairs"][0]["image"] == str(tmp_path / "imgs" / "a.png")
    assert masks["a"][2, 4] == 1 and masks["a"][10, 10] == 0


def test_size_that_is_not_the_image_is_refused_naming_the_json(tmp_path):
    _save(tmp_path, "a", [_shape("cell", [[1, 1], [5, 1], [5, 5]])], size=(60, 40))
    with pytest.raises(DataLayoutError, match=r"a\.json.*60x40.*30x20"):
        _masks(tmp_path)


def test_mask_shape_painted_at_its_box(tmp_path):
    bitmap = np.zeros((4, 5), bool)
    bitmap[1:3, 1:4] = True
    buf = io.BytesIO()
    Image.fromarray(bitmap).save(buf, format="PNG")
    _save(tmp_path, "a", [_shape("blob", [[10, 6], [14, 9]], "mask",
                                 mask=base64.b64encode(buf.getvalue()).decode())])
    a = _masks(tmp_path)[1]["a"]
    assert a[7:9, 11:14].all() and a.sum() == 6


def test_json_without_its_image_refused_or_skipped(tmp_path, caplog):
    _save(tmp_path, "a", [_shape("cell", [[1, 1], [5, 1], [5, 5]])])
    _save(tmp_path, "gone", [_shape("cell", [[1, 1], [5, 1], [5, 5]])], img=False)
    with pytest.raises(DataLayoutError, match=r"gone\.json.*gone\.png.*allow_unpaired"):
        _masks(tmp_path)
    assert sorted(_masks(tmp_path, _layout(allow_unpaired=True))[1]) == ["a"]


def test_config_section_and_code_inputs(tmp_path):
    layout = layout_from({"images": "imgs", "labelme": {"json": "imgs/{id}.json"}}, "local")
    assert layout.labelme == (("json", "imgs/{id}.json"),)
    assert "dataset.labelme" in layout_modules(layout)
    assert layout_from({"labelme": {"json": ""}}, "local").labelme is None
    with pytest.raises(DataLayoutError, match="coco.json and labelme.json"):
        layout_from({"coco": {"json": "a.json"}, "labelme": {"json": "{id}.json"}}, "local")
    with pytest.raises(DataLayoutError, match="labelme with {group} folders"):
        _masks(tmp_path, Layout(images="{group}", labelme=(("json", "{group}/{id}.json"),)))
    with pytest.raises(DataLayoutError, match=r"labelme\.json.*\{id\}"):
        _masks(tmp_path, Layout(images="imgs", labelme=(("json", "imgs/a.json"),)))


def test_rectangle_of_four_corners_filled_as_its_polygon(tmp_path):
    # X-AnyLabeling and converters write a rectangle's four corners, a rotated box likewise
    _save(tmp_path, "a", [_shape("car", [[2, 3], [9, 3], [9, 7], [2, 7]], "rectangle"),
                          _shape("car", [[20, 2], [24, 6], [20, 10], [16, 6]], "rotation")])
    a = _masks(tmp_path)[1]["a"]
    assert a[3:8, 2:10].all() and a[:, :12].sum() == 5 * 8
    assert a[6, 16:25].all() and a[2, 20] and not a[6, 15] and not a[2, 19]



def test_labels_differing_in_case_or_spaces_are_named(tmp_path, caplog):
    _save(tmp_path, "a", [_shape("car", [[1, 1], [5, 1], [5, 5]])])
    _save(tmp_path, "b", [_shape("Car ", [[1, 1], [5, 1], [5, 5]])])
    manifest = _masks(tmp_path)[0]
    assert manifest["class_names"] == {"0": "background", "1": "Car ", "2": "car"}
    assert "'Car ' and 'car'" in caplog.text and "classes 1 and 2" in caplog.text


def test_integer_labels_are_classes_in_numeric_order_others_in_text_order(tmp_path):
    # labels "1", "2", "10" are numbered as COCO numbers its category ids, not "1", "10", "2"
    _save(tmp_path, "a", [_shape("10", [[0, 0], [9, 9]], "rectangle"),
                          _shape("2", [[10, 0], [19, 9]], "rectangle")])
    _save(tmp_path, "b", [_shape("1", [[0, 0], [9, 9]], "rectangle")])
    manifest, _ = _masks(tmp_path)
    assert manifest["class_names"] == {"0": "background", "1": "1", "2": "2", "3": "10"}
    (tmp_path / "out").rename(tmp_path / "first")
    _save(tmp_path, "b", [_shape("car", [[0, 0], [9, 9]], "rectangle")])  # not all integers
    manifest, _ = _masks(tmp_path)
    assert manifest["class_names"] == {"0": "background", "1": "10", "2": "2", "3": "car"}
