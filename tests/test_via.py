"""Masks as VGG Image Annotator (VIA) annotations (one JSON for a folder of images), drawn
into palette PNGs of class numbers when the manifest is written."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout, data_files, layout_from

H, W = 20, 30


def _poly(xs, ys, **attrs):
    return {"shape_attributes": {"name": "polygon", "all_points_x": xs, "all_points_y": ys},
            "region_attributes": attrs}


def _region(name, attrs=None, **shape):
    return {"shape_attributes": {"name": name, **shape}, "region_attributes": attrs or {}}


def _entry(name, regions, size=123):
    return {f"{name}{size}": {"filename": name, "size": size, "regions": regions,
                              "file_attributes": {}}}


def _save(root, entries, images=("a.png",), name="via.json"):
    """Images of W x H in imgs/ and the VIA JSON `entries` (merged) at the folder's top."""
    (root / "imgs").mkdir(parents=True, exist_ok=True)
    for image in images:
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(root / "imgs" / image)
    (root / name).write_text(json.dumps(entries))


def _layout(**via):
    table = {"json": "via.json", **via}
    return Layout(images="imgs", via=tuple(sorted(table.items())))


def _masks(tmp_path, layout=None):
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path,
                              layout or _layout(attribute="class"))
    return manifest, {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}


def test_via2_shapes_are_filled_at_pixel_centres_classes_by_attribute(tmp_path):
    _save(tmp_path, _entry("a.png", [
        _region("rect", {"class": "cat"}, x=2, y=3, width=4, height=2),
        _poly([10, 14, 14, 10], [2, 2, 6, 6], **{"class": "balloon"}),
        _region("circle", {"class": "balloon"}, cx=20, cy=10, r=3),
        # a 4 x 1 ellipse turned a quarter: upright, 2 wide and 8 tall
        _region("ellipse", {"class": "cat"}, cx=10, cy=15, rx=4, ry=1, theta=math.pi / 2),
    ]))
    manifest, masks = _masks(tmp_path)
    m = masks["a"]
    assert manifest["class_names"] == {"0": "background", "1": "balloon", "2": "cat"}
    assert manifest["pairs"][0]["mask_from"] == str(tmp_path / "via.json")
    rect = np.zeros((H, W), bool)
    rect[3:5, 2:6] = True  # centres 2.5..5.5 and 3.5, 4.5 inside x 2..6, y 3..5
    assert (m[:8, :8] == 2 * rect[:8, :8]).all(), m[:8, :8]
    assert (m[2:6, 10:14] == 1).all() and m[6, 10] == 0 and m[2, 14] == 0
    assert m[10, 19] == 1 and m[10, 22] == 1 and m[10, 23] == 0  # centre 22.5 is 2.5 away
    assert m[12, 9] == 2 and m[17, 10] == 2 and m[19, 10] == 0  # along the turned long axis
    assert m[15, 12] == 0  # 2.5 to the side: inside were it not turned


def test_via1_regions_dict_project_file_and_checkboxes(tmp_path):
    project = {"_via_settings": {}, "_via_attributes": {"region": {"kind": {"type": "checkbox"}}},
               "_via_img_metadata": {**_entry("a.png", {
                   "1": _region("rect", {"kind": {"dog": True}}, x=0, y=0, width=10, height=10),
                   "0": _region("rect", {"kind": {"cat": True, "dog": False}}, x=0, y=0,
                                width=20, height=20)})}}
    _save(tmp_path, project)
    manifest, masks = _masks(tmp_path, _layout(attribute="kind"))
    assert manifest["class_names"] == {"0": "background", "1": "cat", "2": "dog"}
    # region "1" after "0", as VIA 1 numbers them: the dog over the cat
    assert masks["a"][5, 5] == 2 and masks["a"][15, 15] == 1 and masks["a"][19, 25] == 0


def test_two_ticked_checkboxes_and_broken_regions_are_refused_by_file_and_index(tmp_path):
    _save(tmp_path, _entry("a.png", [
        _region("rect", {"class": {"cat": True, "dog": True}}, x=0, y=0, width=2, height=2),
        _poly([1, 2, 3], [1, 2], **{"class": "cat"}),
        _region("spline", {"class": "cat"}),
    ]))
    with pytest.raises(DataLayoutError) as err:
        _masks(tmp_path)
    text = str(err.value)
    assert "a.png region 0" in text and "'cat' and 'dog' ticked" in text, text
    assert "a.png region 1" in text and "a.png region 2" in text and "'spline'" in text, text


def test_regions_without_the_attribute_are_refused_or_take_unlabelled(tmp_path):
    _save(tmp_path, _entry("a.png", [
        _region("rect", {"class": "cat"}, x=0, y=0, width=2, height=2),
        _region("rect", {"name": "x"}, x=5, y=5, width=2, height=2),
        _region("rect", {"class": ""}, x=8, y=8, width=2, height=2)]))
    with pytest.raises(DataLayoutError, match=r"2 region\(s\) without a value of attribute "
                                              r"'class': a\.png \(2\)") as err:
        _masks(tmp_path)
    assert "'class', 'name'" in str(err.value) and "via.unlabelled" in str(err.value)
    manifest, masks = _masks(tmp_path, _layout(attribute="class", unlabelled="thing"))
    assert manifest["class_names"] == {"0": "background", "1": "cat", "2": "thing"}
    assert masks["a"][0, 0] == 1 and masks["a"][5, 5] == 2 and masks["a"][8, 8] == 2


def test_without_attribute_every_region_is_one_class_and_attributes_are_named(tmp_path,
                                                                              caplog):
    _save(tmp_path, {**_entry("a.png", [_poly([1, 5, 5], [1, 1, 5])]),
                     **_entry("b.png", [_region("rect", {"type": "big"}, x=0, y=0, width=3,
                                                height=3)])}, images=("a.png", "b.png"))
    with caplog.at_level(logging.WARNING):
        manifest, masks = _masks(tmp_path, _layout())
    assert manifest["class_names"] == {"0": "background", "1": "object"}
    assert masks["a"].max() == 1 and masks["b"][:3, :3].all()
    assert "attribute(s) 'type', which via.attribute does not name" in caplog.text


def test_listed_images_missing_unlisted_and_empty_ones(tmp_path, caplog):
    _save(tmp_path, {**_entry("a.png", [_region("rect", {"class": "c"}, x=0, y=0, width=2,
                                                height=2)]),
                     **_entry("b.png", []), **_entry("gone.png", [])},
          images=("a.png", "b.png", "c.png"))
    with pytest.raises(DataLayoutError, match=r"images via\.json lists that are not in .*imgs: "
                                              r"gone\.png.*allow_unpaired"):
        _masks(tmp_path)
    layout = Layout(images="imgs", via=(("attribute", "class"), ("json", "via.json")),
                    allow_unpaired=True)
    with caplog.at_level(logging.WARNING):
        manifest, masks = _masks(tmp_path, layout)
    assert sorted(masks) == ["a", "b"] and not masks["b"].any()
    assert "1 of 2 images the VIA JSON lists have no region" in caplog.text
    assert "c.png" in caplog.text and "(not used)" in caplog.text  # not listed: COCO's rule
    assert "skipping images via.json lists" in caplog.text


def test_filenames_as_urls_or_windows_paths_find_the_image_by_name(tmp_path):
    _save(tmp_path, {**_entry("https://host/x/a.png", []),
                     **_entry("C:\\data\\b.png", [])}, images=("a.png", "b.png"))
    manifest, _ = _masks(tmp_path)
    assert [p["image"] for p in manifest["pairs"]] == [str(tmp_path / "imgs" / n)
                                                       for n in ("a.png", "b.png")]


def test_a_url_filename_is_read_by_its_decoded_path_a_plain_percent_name_literally(tmp_path):
    # a VIA project loaded from a web server stores the URL, query and percent-escapes included
    _save(tmp_path, {**_entry("http://host/imgs/caf%C3%A9%201.jpg?raw=true#top", []),
                     **_entry("file:///home/u/cafe%CC%81%202.jpg", []),
                     **_entry("100%.jpg", [])}, images=("café 1.jpg", "café 2.jpg", "100%.jpg"))
    manifest, _ = _masks(tmp_path)
    assert sorted(p["id"] for p in manifest["pairs"]) == ["100%", "café 1", "café 2"]
    _save(tmp_path, _entry("100%25.jpg", []), images=())  # not decoded: 100%.jpg is there
    with pytest.raises(DataLayoutError, match="100%25.jpg"):
        _masks(tmp_path)


def test_a_url_with_a_broken_ipv6_host_is_refused_naming_the_json_and_filename(tmp_path):
    # urllib refused 'http://[::1/x.jpg' with a bare "Invalid IPv6 URL", naming neither
    _save(tmp_path, _entry("http://[::1/a.png", []))
    with pytest.raises(DataLayoutError, match=r"via\.json.*'http://\[::1/a\.png'.*IPv6"):
        _masks(tmp_path)


def test_polylines_and_points_are_left_out_with_a_warning(tmp_path, caplog):
    _save(tmp_path, _entry("a.png", [
        {"shape_attributes": {"name": "polyline", "all_points_x": [0, 9, 9],
                              "all_points_y": [0, 0, 9]}, "region_attributes": {"class": "c"}},
        _region("point", {"class": "c"}, cx=3, cy=3),
        _region("rect", {"class": "c"}, x=10, y=10, width=2, height=2)]))
    with caplog.at_level(logging.WARNING):
        _, masks = _masks(tmp_path)
    assert masks["a"].sum() == 4
    assert "2 polyline/point region(s) cover no area" in caplog.text and "a.png (2)" in caplog.text


def test_not_via_and_via3_projects_are_refused_by_name(tmp_path):
    _save(tmp_path, {"project": {}, "config": {}, "attribute": {}, "file": {}, "metadata": {},
                     "view": {}})
    with pytest.raises(DataLayoutError, match=r"via\.json is a VIA 3 project"):
        _masks(tmp_path)
    _save(tmp_path, {"images": [], "annotations": []})
    with pytest.raises(DataLayoutError, match=r"via\.json is not a VIA JSON"):
        _masks(tmp_path)


def test_the_via_json_is_tracked_and_set_beside_another_table_refused(tmp_path):
    _save(tmp_path, _entry("a.png", []))
    layout = layout_from({"via": {"json": "via.json"}, "images": "imgs"}, "local")
    assert tmp_path / "via.json" in data_files(tmp_path, layout)
    with pytest.raises(DataLayoutError, match="coco.json and via.json both set"):
        layout_from({"via": {"json": "via.json"}, "coco": {"json": "c.json"}}, "local")


@pytest.mark.parametrize(("local", "match"), [
    ({"images": ".", "via": {"json": "ann/{id}.json"}}, r"via\.json 'ann/\{id\}\.json' has \{id\}"),
    ({"images": "{group}", "via": {"json": "via.json"}}, r"via with \{group\} folders"),
])
def test_a_via_json_per_image_or_with_groups_is_refused_before_any_job(tmp_path, monkeypatch,
                                                                      local, match):
    from tests.test_config_checks import _default_config
    from unet.config.experiments import ConfigError, check_config

    monkeypatch.chdir(tmp_path)
    config = _default_config()
    config["dataset"].update(source="local", name="balloon")
    config["dataset"]["local"].update(path=str(tmp_path), **local)
    with pytest.raises(ConfigError, match=match):
        check_config(config)
    config["dataset"]["local"].update(images=".", via={"json": "via.json"})
    check_config(config)


def test_integer_values_are_classes_in_numeric_order(tmp_path):
    # "1", "2", "10" (balloon-style "class": "10") were numbered as text: 10 became class 2
    _save(tmp_path, _entry("a.png", [
        _region("rect", {"class": "10"}, x=0, y=0, width=10, height=10),
        _region("rect", {"class": "2"}, x=10, y=0, width=10, height=10),
        _region("rect", {"class": 1}, x=20, y=0, width=10, height=10),  # a number, as VIA 1
    ]))
    manifest, masks = _masks(tmp_path)
    assert manifest["class_names"] == {"0": "background", "1": "1", "2": "2", "3": "10"}
    assert masks["a"][5, 5] == 3 and masks["a"][5, 15] == 2 and masks["a"][5, 25] == 1


def test_recursive_name_in_two_subfolders_is_refused_or_told_apart_by_its_path(tmp_path):
    # with recursive, a filename of two images below (s1/a.png, s2/a.png) took the last
    # listed, silently drawing one image's regions onto the other
    for sub, grey in (("s1", 10), ("s2", 200)):
        (tmp_path / "imgs" / sub).mkdir(parents=True)
        Image.fromarray(np.full((H, W, 3), grey, np.uint8)).save(tmp_path / "imgs" / sub / "a.png")
    box = _region("rect", {"class": "x"}, x=0, y=0, width=5, height=5)
    (tmp_path / "via.json").write_text(json.dumps(_entry("a.png", [box])))
    layout = Layout(images="imgs", via=(("attribute", "class"), ("json", "via.json")),
                    recursive=True)
    with pytest.raises(DataLayoutError, match=r"a\.png.*imgs/s1/a\.png.*imgs/s2/a\.png"):
        _masks(tmp_path, layout)
    # another machine's path that ends in the subfolder tells them apart
    (tmp_path / "via.json").write_text(json.dumps(_entry(r"D:\scans\imgs\s1\a.png", [box])))
    manifest, masks = _masks(tmp_path, layout)
    assert [p["image"] for p in manifest["pairs"]] == [str(tmp_path / "imgs/s1/a.png")]
