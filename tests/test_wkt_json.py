"""WKT polygons in pixel coordinates, a JSON per image (xView2's xBD labels, dataset.<source>.wkt):
the localisation task (buildings on the pre-disaster images) and the damage task (4 levels on
the post-disaster images, un-classified don't-care), drawn as an independent rasteriser does."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.xbd_replica import DAMAGE, OWN_VALUES, buildings, draw_independently, make_xbd
from unet.dataset.download import write_manifest
from unet.dataset.geojson_geometry import geometry_polygons
from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.split import groups_of, make_split


def _masks(root, ignore=None, **table):
    table = {"json": "labels/{id}.json", **table}
    if "labels" in table:
        table["labels"] = tuple(sorted(table["labels"].items()))
    layout = Layout(images="images", image_suffix=table.pop("image_suffix", ""),
                    wkt=tuple(sorted(table.items())))
    manifest = write_manifest(root / "out" / "manifest.json", "local", root / "train", layout,
                              ignore=ignore)
    return manifest, {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}


def test_wkt_polygons_holes_and_multipolygons_are_read():
    [(outer, hole)] = geometry_polygons("POLYGON ((0 0, 4 0, 4 4, 0 0), (1 1, 2 1, 2 2, 1 1))")
    assert outer.shape == (4, 2) and hole.tolist()[1] == [2.0, 1.0]
    parts = geometry_polygons("MultiPolygon Z (((0 0 1, 4 0 1, 4 4 1, 0 0 1)), "
                              "((5 5 1, 6 5 1, 6 6 1, 5 5 1)))")
    assert len(parts) == 2 and parts[1][0].shape == (4, 2)
    assert geometry_polygons("POLYGON EMPTY") is None
    for bad in ("POINT (1 2)", "POLYGON ((0 0, 4 0, 4 4, 0 0)", "POLYGON ((0 0, 4 x, 4 4, 0 0))"):
        with pytest.raises(ValueError, match="WKT"):
            geometry_polygons(bad)


def test_the_localisation_task_draws_buildings_as_pil_does(tmp_path):
    stems = make_xbd(tmp_path)
    # the pre-disaster images alone: their JSONs, ids without the suffix
    manifest, masks = _masks(tmp_path, json="labels/{id}_pre_disaster.json",
                             image_suffix="_pre_disaster", class_property="feature_type")
    assert manifest["class_names"] == {"0": "background", "1": "building"}
    assert len(masks) == len(stems) // 2
    for k, pid in enumerate(sorted(masks, key=lambda p: int(p.split("_")[1]))):
        want = draw_independently(64, [(1, b) for b in buildings(64, k)])
        assert np.array_equal(masks[pid], want), pid


def test_the_damage_task_is_xbds_own_values_and_unclassified_is_ignored(tmp_path):
    make_xbd(tmp_path)
    manifest, masks = _masks(tmp_path, ignore=255, json="labels/{id}_post_disaster.json",
                             image_suffix="_post_disaster", class_property="subtype",
                             labels=OWN_VALUES)
    # xBD's own values, its names kept for the reports
    assert manifest["class_names"] == {"0": "background", "1": "no-damage", "2": "minor-damage",
                                       "3": "major-damage", "4": "destroyed"}
    seen = set()
    for k, pid in enumerate(sorted(masks, key=lambda p: int(p.split("_")[1]))):
        values = [(255 if (d := DAMAGE[(b + k) % 5]) == "un-classified" else int(OWN_VALUES[d]),
                   polygons) for b, polygons in enumerate(buildings(64, k))]
        assert np.array_equal(masks[pid], draw_independently(64, values)), pid
        seen |= set(np.unique(masks[pid]).tolist())
    assert seen == {0, 1, 2, 3, 4, 255}


def test_unclassified_without_masks_ignore_is_refused_by_key(tmp_path):
    make_xbd(tmp_path)
    with pytest.raises(DataLayoutError, match="masks.ignore"):
        _masks(tmp_path, json="labels/{id}_post_disaster.json", image_suffix="_post_disaster",
               class_property="subtype", labels=OWN_VALUES)


def test_pre_and_post_images_of_one_place_share_a_split_part(tmp_path):
    make_xbd(tmp_path, per_disaster=4)
    manifest, _ = _masks(tmp_path, class_property="feature_type")
    assert len(manifest["pairs"]) == 24
    groups = groups_of(manifest["pairs"], r"^(.+)_(?:pre|post)_disaster$")
    split = make_split(sorted(groups), 0, 0.25, 0.25, groups=groups, group_by="group_by")
    where = {i: part for part in ("train", "val", "test") for i in split[part]}
    assert {where[pid] for pid in groups} == {"train", "val", "test"}
    for pid in groups:
        assert where[pid.replace("_post_", "_pre_")] == where[pid.replace("_pre_", "_post_")]


def _with_fourth_wkt(tmp_path, wkt: str) -> None:
    """An xBD replica whose socal-fire 2 pre label has `wkt` as its feature 3."""
    make_xbd(tmp_path, per_disaster=1)
    path = tmp_path / "train" / "labels" / "socal-fire_00000002_pre_disaster.json"
    data = json.loads(path.read_text())
    data["features"]["xy"][3]["wkt"] = wkt
    path.write_text(json.dumps(data))


def test_a_bad_wkt_is_named_by_file_and_feature(tmp_path):
    _with_fourth_wkt(tmp_path, "POLYGON ((1 2, 3 4")
    with pytest.raises(DataLayoutError, match=r"socal-fire_00000002_pre_disaster.json: feature "
                       r"3 \(WKT 'POLYGON \(\(1 2, 3 4' is not well formed"):
        _masks(tmp_path, class_property="feature_type")


def test_a_json_without_features_is_refused_with_the_layout_to_write(tmp_path):
    make_xbd(tmp_path, per_disaster=1)
    path = tmp_path / "train" / "labels" / "socal-fire_00000002_pre_disaster.json"
    path.write_text(json.dumps({"metadata": {}}))
    with pytest.raises(DataLayoutError, match="holds no list of features.*features.*xy"):
        _masks(tmp_path, class_property="feature_type")


def test_an_unset_wkt_section_is_no_download_param():
    # the schema fills wkt: {json: "", ...} into every local source: as a param it would rerun
    # every data set made before the key existed, and all that follows
    from unet.common.schema import defaults
    from unet.dataset.json_masks import unset_tables_dropped

    settings = {**defaults("dataset", "local"), "path": "/data"}
    assert "wkt" in settings and "wkt" not in unset_tables_dropped(settings)
    used = {**settings, "wkt": {**settings["wkt"], "json": "labels/{id}.json"}}
    assert unset_tables_dropped(used)["wkt"] == used["wkt"]


def test_a_nan_or_infinite_coordinate_is_refused_by_file_and_feature(tmp_path):
    # json.loads took WKT's NaN and Infinity (and 1e999) as numbers: the painter then failed
    # with "cannot convert float NaN to integer", naming neither file nor feature
    for bad in ("POLYGON ((1 NaN, 3 4, 5 6, 1 2))", "POLYGON ((1 2, 1e999 4, 5 6, 1 2))",
                {"type": "Polygon", "coordinates": [[[1, float("inf")], [3, 4], [5, 6]]]}):
        with pytest.raises(ValueError, match="not finite|'NaN' is no WKT number"):
            geometry_polygons(bad)
    with pytest.raises(ValueError, match=r"\[x, y\] positions"):  # true, false: no numbers
        geometry_polygons({"type": "Polygon", "coordinates": [[[True, False], [3, 4], [5, 6]]]})
    _with_fourth_wkt(tmp_path, "POLYGON ((1 NaN, 30 4, 30 30, 1 2))")
    with pytest.raises(DataLayoutError, match=r"socal-fire_00000002_pre_disaster.json: feature "
                       r"3 .*'NaN' is no WKT number"):
        _masks(tmp_path, class_property="feature_type")


def test_wkt_numbers_with_a_sign_or_a_bare_point_are_read():
    # OGC's WKT grammar allows +1, .5 and 1. (GDAL, PostGIS read them); they were refused
    [(ring,)] = geometry_polygons("POLYGON ((+1 .5, 3. 4, 5 -6E-1, +1 .5))")
    assert ring.tolist() == [[1.0, 0.5], [3.0, 4.0], [5.0, -0.6], [1.0, 0.5]]
    for bad in ("POLYGON ((1 nan, 3 4, 5 6, 1 2))", "POLYGON ((1_0 2, 3 4, 5 6, 1 2))",
                "POLYGON ((true false, 3 4, 5 6, 1 2))", "POLYGON ((1 2., 3 4, 5 6, --1 2))"):
        with pytest.raises(ValueError, match="WKT"):
            geometry_polygons(bad)


def test_empty_members_of_a_multipolygon_are_skipped():
    # OGC's grammar lets a MULTIPOLYGON member be EMPTY (PostGIS and GDAL write them); it was
    # refused as not well formed
    square = "((0 0, 4 0, 4 4, 0 0))"
    [(ring,)] = geometry_polygons(f"MULTIPOLYGON (EMPTY, {square})")
    assert ring.shape == (4, 2)
    parts = geometry_polygons(f"multipolygon z ({square.replace(',', ' 1,')}, empty , {square})")
    assert len(parts) == 2
    assert geometry_polygons("MULTIPOLYGON (EMPTY, EMPTY)") is None  # no area, as EMPTY
    for bad in ("MULTIPOLYGON (EMPTY EMPTY)", f"MULTIPOLYGON (EMPTY, {square}",
                f"MULTIPOLYGON ({square} EMPTY)", "MULTIPOLYGON (EMPTIES, ((0 0, 1 0, 1 1)))",
                "MULTIPOLYGON ((EMPTY))"):  # a ring EMPTY: refused as before
        with pytest.raises(ValueError, match="WKT"):
            geometry_polygons(bad)
    with pytest.raises(ValueError, match="part without rings"):  # '()' is no EMPTY
        geometry_polygons(f"MULTIPOLYGON ((), {square})")
