"""Masks as QuPath annotations (a GeoJSON per image, full-resolution pixel coordinates), drawn
into palette PNGs of class numbers when the manifest is written."""

from __future__ import annotations

import json
import logging
import unicodedata

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout, data_files, layout_from
from unet.dataset.layout_kinds import layout_modules

H, W = 20, 30


def _box(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]  # closed, as QuPath writes


def _obj(geometry, cls=None, kind="annotation", derived=None):
    props = {"objectType": kind}
    if cls or derived:
        props["classification"] = ({"names": derived} if derived else {"name": cls}) | {
            "color": [200, 0, 0]}
    return {"type": "Feature", "id": "0b1e", "geometry": geometry, "properties": props}


def _poly(*rings):
    return {"type": "Polygon", "coordinates": list(rings)}


def _save(root, stem, features, collection=True, img=True, size=(W, H), ext="png"):
    """An image `stem`.png in imgs/ and its GeoJSON in ann/."""
    (root / "imgs").mkdir(parents=True, exist_ok=True)
    (root / "ann").mkdir(parents=True, exist_ok=True)
    if img:
        Image.fromarray(np.zeros((size[1], size[0], 3), np.uint8)).save(root / "imgs" /
                                                                        f"{stem}.{ext}")
    data = {"type": "FeatureCollection", "features": features} if collection else features
    (root / "ann" / f"{stem}.geojson").write_text(json.dumps(data))


def _layout(**kw):
    table = {"json": "ann/{id}.geojson", **kw.pop("qupath", {})}
    return Layout(images="imgs", qupath=tuple(sorted(table.items())), **kw)


def _masks(tmp_path, layout=None):
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path,
                              layout or _layout())
    return manifest, {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}


def test_polygons_holes_and_multipolygons_filled_at_pixel_centres(tmp_path, caplog):
    _save(tmp_path, "a", [
        _obj(_poly(_box(0, 0, 30, 10)), "Stroma"),  # rows 0-9: class 2
        # a ring over the stroma and the background: its hole keeps what lay there before
        _obj(_poly(_box(10, 5, 20, 15), _box(12, 7, 18, 13)), "Tumor"),
        _obj({"type": "MultiPolygon", "coordinates": [[_box(0, 16, 3, 19)],
                                                      [_box(25, 16, 28, 19)]]},
             derived=["Tumor", "Positive"], kind="detection"),
    ])
    _save(tmp_path, "b", [_obj(_poly(_box(0, 0, 30, 20)), "Stroma")], collection=False)
    (tmp_path / "imgs" / "c.png").write_bytes((tmp_path / "imgs" / "a.png").read_bytes())
    caplog.set_level(logging.INFO)
    manifest, masks = _masks(tmp_path)
    assert sorted(masks) == ["a", "b"] and "c.png" in caplog.text  # c: no GeoJSON, named
    assert manifest["class_names"] == {"0": "background", "1": "Stroma", "2": "Tumor",
                                       "3": "Tumor: Positive"}
    a = masks["a"]
    assert (a[:5] == 1).all() and (a[5:10, :10] == 1).all()  # QuPath's 0..10: pixels 0-9
    assert (a[5:7, 10:20] == 2).all() and (a[13:15, 10:20] == 2).all()
    assert (a[7:10, 12:18] == 1).all() and (a[10:13, 12:18] == 0).all()  # the hole
    assert (a[16:19, 0:3] == 3).all() and (a[16:19, 25:28] == 3).all()
    assert (a == 3).sum() == 18 and (a == 2).sum() == 100 - 36
    assert (masks["b"] == 1).all()
    assert tmp_path / "ann" / "a.geojson" in data_files(tmp_path, _layout())


def test_unclassified_skipped_or_a_class_and_lines_left_out_with_warnings(tmp_path, caplog):
    _save(tmp_path, "a", [
        _obj(_poly(_box(0, 0, 5, 5)), "Tumor"),
        _obj(_poly(_box(10, 10, 15, 15))),  # unclassified
        _obj({"type": "Point", "coordinates": [3, 3]}, "Tumor"),
        _obj({"type": "LineString", "coordinates": [[0, 19], [29, 19]]}, "Tumor"),
    ])
    caplog.set_level(logging.WARNING)
    manifest, masks = _masks(tmp_path)
    assert "2 point/line (or geometry-less) object(s)" in caplog.text
    assert "a.geojson (2)" in caplog.text
    assert "1 unclassified object(s) left out" in caplog.text
    assert masks["a"].sum() == 25 and not masks["a"][10:15, 10:15].any()
    caplog.clear()
    manifest, masks = _masks(tmp_path, _layout(qupath={"unclassified": "Tissue"}))
    assert "drawn as class 'Tissue'" in caplog.text
    assert manifest["class_names"] == {"0": "background", "1": "Tissue", "2": "Tumor"}
    assert (masks["a"][10:15, 10:15] == 1).all() and (masks["a"][:5, :5] == 2).all()


def test_coordinates_beyond_the_image_clipped_and_objects_outside_named(tmp_path, caplog):
    _save(tmp_path, "a", [
        _obj(_poly(_box(-50.5, -7, 4, 1e6)), "Tumor"),  # over the left edge, to far below
        _obj(_poly(_box(100, 100, 140, 130)), "Tumor"),  # a downsampled image's object
    ])
    caplog.set_level(logging.WARNING)
    a = _masks(tmp_path)[1]["a"]
    assert (a[:, :4] == 1).all() and a.sum() == 4 * H
    assert "a.geojson (1 of its 2 objects; a.png is 30x20)" in caplog.text


def test_objects_outside_their_images_are_named_in_one_line(tmp_path, caplog):
    """A folder of downsampled exports logged a warning per image, from the worker processes
    (one line each, or none at all where a worker's log went unseen): one line now, naming
    the first GeoJSONs and how many there are."""
    for n in range(7):
        _save(tmp_path, f"s{n}", [_obj(_poly(_box(100, 100, 140, 130)), "Tumor")])
    caplog.set_level(logging.WARNING)
    _masks(tmp_path)
    said = [r.getMessage() for r in caplog.records if "wholly outside" in r.getMessage()]
    assert len(said) == 1 and "s0.geojson (1 of its 1 objects; s0.png is 30x20)" in said[0]
    assert "s4.geojson" in said[0] and "s5.geojson" not in said[0] and "(7 in all)" in said[0]


def test_a_whole_slide_pyramid_pairs_at_its_full_resolution(tmp_path):
    _save(tmp_path, "slide", [_obj(_poly(_box(48, 32, 64, 48)), "Tumor")], img=False)
    data = np.zeros((48, 64, 3), np.uint8)
    # QuPath's OME-TIFF export: the reduced levels in SubIFDs of the full-resolution page
    with tifffile.TiffWriter(tmp_path / "imgs" / "slide.ome.tif", bigtiff=True) as tif:
        tif.write(data, subifds=1, tile=(16, 16), photometric="rgb")
        tif.write(data[::2, ::2], subfiletype=1, tile=(16, 16), photometric="rgb")
    manifest, masks = _masks(tmp_path)
    assert manifest["pairs"][0]["size"] == [64, 48]
    m = masks["slide"]
    assert m.shape == (48, 64) and (m[32:, 48:] == 1).all() and m.sum() == 256


def test_bad_features_refused_by_file_and_index_and_missing_images(tmp_path):
    _save(tmp_path, "a", [_obj(_poly(_box(0, 0, 5, 5)), "T"),
                          _obj({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}, "T")])
    with pytest.raises(DataLayoutError, match=r"a\.geojson: feature 1 \(a ring"):
        _masks(tmp_path)
    _save(tmp_path, "a", [_obj(_poly(_box(0, 0, 5, 5)), "T")])
    _save(tmp_path, "gone", [_obj(_poly(_box(0, 0, 5, 5)), "T")], img=False)
    with pytest.raises(DataLayoutError, match=r"gone\.geojson.*allow_unpaired"):
        _masks(tmp_path)
    assert sorted(_masks(tmp_path, _layout(allow_unpaired=True))[1]) == ["a"]
    (tmp_path / "ann" / "a.geojson").write_text('{"type": "Topology"}')
    with pytest.raises(DataLayoutError, match=r"a\.geojson is neither"):
        _masks(tmp_path)


def test_config_section_and_code_inputs(tmp_path):
    layout = layout_from({"images": "imgs", "qupath": {"json": "ann/{id}.geojson",
                                                       "unclassified": "skip"}}, "local")
    assert dict(layout.qupath) == {"json": "ann/{id}.geojson", "unclassified": "skip"}
    assert {"dataset.qupath", "dataset.json_masks"} <= set(layout_modules(layout))
    assert layout_from({"qupath": {"json": "", "unclassified": "skip"}}, "local").qupath is None
    with pytest.raises(DataLayoutError, match="labelme.json and qupath.json"):
        layout_from({"labelme": {"json": "{id}.json"}, "qupath": {"json": "{id}.geojson"}},
                    "local")
    with pytest.raises(DataLayoutError, match="qupath with {group} folders"):
        _masks(tmp_path, Layout(images="{group}", qupath=(("json", "{group}/{id}.json"),)))


def test_classes_differing_in_case_are_named(tmp_path, caplog):
    _save(tmp_path, "a", [_obj(_poly(_box(0, 0, 5, 5)), "Tumor"),
                          _obj(_poly(_box(9, 0, 15, 5)), "tumor")])
    assert _masks(tmp_path)[0]["class_names"] == {"0": "background", "1": "Tumor", "2": "tumor"}
    assert "'Tumor' and 'tumor' differ only in case" in caplog.text


def test_a_multipolygon_outside_on_both_sides_is_named(tmp_path, caplog):
    # A merged region of a full-resolution GeoJSON, its parts left and right of a downsampled
    # image: their joint extent spans the image, yet no part holds a pixel of it
    multi = {"type": "MultiPolygon", "coordinates": [[_box(-40, 2, -20, 8)], [_box(50, 2, 70, 8)]]}
    _save(tmp_path, "a", [_obj(multi, "Tumor")])
    caplog.set_level(logging.WARNING)
    assert _masks(tmp_path)[1]["a"].sum() == 0
    assert "a.geojson (1 of its 1 objects; a.png is 30x20)" in caplog.text


def test_a_geojson_named_after_its_image_file_pairs_in_either_unicode_form(tmp_path):
    """A Mac writes café decomposed; scripts name the GeoJSON after the image's file name
    (café.png.geojson): it pairs by that name in the composed form ids take, as stems do."""
    decomposed = unicodedata.normalize("NFD", "café")
    _save(tmp_path, f"{decomposed}.png", [_obj(_poly(_box(0, 0, 30, 10)), "Stroma")], img=False)
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(tmp_path / "imgs" / f"{decomposed}.png")
    _, masks = _masks(tmp_path)
    assert list(masks) == ["café.png"] and (masks["café.png"] == 1).sum() == 10 * W
