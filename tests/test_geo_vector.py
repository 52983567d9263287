"""Map-coordinate GeoJSON labels (SpaceNet, cadastre, OSM extracts) beside GeoTIFFs: rings
moved from the image's CRS (or lon/lat) onto its pixels by its GeoTIFF transform, drawn with
the QuPath reader's painter (dataset.<source>.geojson), reprojected with pyproj (the geo extra)."""

from __future__ import annotations

import json
import logging
import sys

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout

H, W = 20, 30
X0, Y0, PX = 500000.0, 4000000.0, 0.5  # a UTM 11N tile's top-left corner; 0.5 m pixels


def _keys(epsg: int, geographic: bool = False) -> tuple:
    """A GeoKeyDirectory: model type, pixel-is-area, the CRS code."""
    crs = (2048 if geographic else 3072, 0, 1, epsg)
    return ("H", 16, (1, 1, 0, 3, 1024, 0, 1, 2 if geographic else 1, 1025, 0, 1, 1, *crs))


def _tiff(path, epsg=32611, scale=(PX, PX), origin=(X0, Y0), matrix=None, geographic=False):
    """A tiny GeoTIFF: a pixel scale and tie point, or a model transformation."""
    tags = [(34735, *_keys(epsg, geographic), True)] if epsg else []
    if matrix is not None:
        tags.append((34264, "d", 16, tuple(matrix), True))
    elif scale is not None:
        tags += [(33550, "d", 3, (*scale, 0.0), True), (33922, "d", 6, (0, 0, 0, *origin, 0), True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, np.zeros((H, W, 3), np.uint8), photometric="rgb", extratags=tags)


def _map(col, row, origin=(X0, Y0), px=PX):
    """Pixel corner (col, row) of a north-up grid in map coordinates."""
    return [origin[0] + col * px, origin[1] - row * px]


def _ring(c0, r0, c1, r1, **kw):
    return [_map(c, r, **kw) for c, r in ((c0, r0), (c1, r0), (c1, r1), (c0, r1), (c0, r0))]


def _save(root, stem, features, crs="urn:ogc:def:crs:EPSG::32611"):
    data = {"type": "FeatureCollection", "features": features}
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    (root / "geojson").mkdir(parents=True, exist_ok=True)
    (root / "geojson" / f"{stem}.geojson").write_text(json.dumps(data))


def _feature(*rings, kind="building", multi=False):
    geometry = ({"type": "MultiPolygon", "coordinates": [list(rings)]} if multi
                else {"type": "Polygon", "coordinates": list(rings)})
    return {"type": "Feature", "geometry": geometry, "properties": {"kind": kind}}


def _masks(root, **table):
    table = {"file": "geojson/{id}.geojson", **table}
    layout = Layout(images="imgs", image_extensions=(".tif", ".png"),
                    geojson=tuple(sorted(table.items())))
    manifest = write_manifest(root / "out" / "manifest.json", "local", root, layout)
    return manifest, {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_a_square_in_map_coordinates_lands_on_its_pixels(tmp_path):
    _tiff(tmp_path / "imgs" / "a.tif")
    _save(tmp_path, "a", [_feature(_ring(5, 4, 15, 12)),
                          _feature(_ring(20, 2, 40, 8), kind="road", multi=True)])  # clipped
    manifest, masks = _masks(tmp_path, class_property="kind")
    assert manifest["class_names"] == {"0": "background", "1": "building", "2": "road"}
    want = np.zeros((H, W), bool)
    want[4:12, 5:15] = True
    assert _iou(masks["a"] == 1, want) == 1.0
    assert (masks["a"][2:8, 20:] == 2).all() and (masks["a"] == 2).sum() == 6 * 10


def test_a_hole_is_cut_and_a_rotated_grid_is_followed(tmp_path):
    # a quarter turn: column -> map y, row -> map x (ModelTransformation)
    _tiff(tmp_path / "imgs" / "r.tif", matrix=(0, PX, 0, X0, PX, 0, 0, Y0, 0, 0, 0, 0, 0, 0, 0, 1))
    def at(c, r):
        return [X0 + r * PX, Y0 + c * PX]

    box = [at(2, 2), at(22, 2), at(22, 16), at(2, 16), at(2, 2)]
    hole = [at(8, 6), at(14, 6), at(14, 12), at(8, 12), at(8, 6)]
    _save(tmp_path, "r", [_feature(box, hole)])
    _, masks = _masks(tmp_path, unclassified="building")
    want = np.zeros((H, W), bool)
    want[2:16, 2:22] = True
    want[6:12, 8:14] = False
    assert _iou(masks["r"] == 1, want) == 1.0


def test_lon_lat_by_default_and_an_empty_collection_is_an_empty_mask(tmp_path):
    # SpaceNet: EPSG:4326 GeoTIFFs, RFC 7946 GeoJSONs without a crs, empty tiles' collections
    origin, px = (-115.3, 36.2), 1e-5
    for stem in ("img1", "img2"):
        _tiff(tmp_path / "imgs" / f"{stem}.tif", epsg=4326, geographic=True, scale=(px, px),
              origin=origin)
    _save(tmp_path, "img1", [_feature(_ring(1, 1, 9, 7, origin=origin, px=px))], crs=None)
    _save(tmp_path, "img2", [], crs=None)
    _, masks = _masks(tmp_path, unclassified="building")
    assert (masks["img1"][1:7, 1:9] == 1).all() and (masks["img1"] == 1).sum() == 48
    assert (masks["img2"] == 0).all()


def test_a_feature_without_geometry_is_left_out_not_refused(tmp_path, caplog):
    # RFC 7946 3.2: an unlocated feature has "geometry": null (ogr2ogr writes one for a
    # cadastre parcel of empty geometry); it covers nothing, and refused the whole data set
    _tiff(tmp_path / "imgs" / "a.tif")
    empty = {"type": "Feature", "geometry": None, "properties": {"kind": "building"}}
    _save(tmp_path, "a", [empty, _feature(_ring(5, 4, 15, 12))])
    _, masks = _masks(tmp_path, class_property="kind")
    assert (masks["a"] == 1).sum() == 80 and "a.geojson (1)" in caplog.text


def test_without_pyproj_a_crs_mismatch_is_refused_naming_both_fixes(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyproj", None)  # import pyproj raises ImportError
    _tiff(tmp_path / "imgs" / "a.tif")
    _save(tmp_path, "a", [_feature(_ring(5, 4, 15, 12))], crs="EPSG:3857")
    with pytest.raises(DataLayoutError, match=r"a\.geojson.*EPSG:3857.*a\.tif.*EPSG:32611.*"
                                              r"pip install -e '\.\[geo\]'.*"
                                              r"ogr2ogr -t_srs EPSG:32611"):
        _masks(tmp_path, unclassified="building")


def test_lon_lat_labels_are_reprojected_onto_a_utm_geotiff(tmp_path):
    # SpaceNet 3 on: RFC 7946 GeoJSONs (lon/lat, no crs member) beside UTM GeoTIFFs
    pyproj = pytest.importorskip("pyproj")
    _tiff(tmp_path / "imgs" / "a.tif")  # EPSG:32611, 0.5 m pixels
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32611", always_xy=True)
    to_ll = pyproj.Transformer.from_crs("EPSG:32611", "EPSG:4326", always_xy=True)
    lon0, lat0 = to_ll.transform(X0 + 3 * PX, Y0 - 3 * PX)
    lon1, lat1 = to_ll.transform(X0 + 21 * PX, Y0 - 15 * PX)
    square = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    _save(tmp_path, "a", [_feature(square)], crs=None)
    _, masks = _masks(tmp_path, unclassified="building")
    # the expected pixels: the lon/lat corners taken to UTM by pyproj, then onto the grid
    xs, ys = to_utm.transform([lon0, lon1, lon1, lon0], [lat0, lat0, lat1, lat1])
    cols, rows = (np.array(xs) - X0) / PX, (Y0 - np.array(ys)) / PX
    want = np.zeros((H, W), bool)
    want[round(rows.min()):round(rows.max()), round(cols.min()):round(cols.max())] = True
    assert want.sum() > 150 and _iou(masks["a"] == 1, want) > 0.95


def test_a_crs_pyproj_does_not_know_is_refused_by_file(tmp_path):
    pytest.importorskip("pyproj")
    _tiff(tmp_path / "imgs" / "a.tif")
    _save(tmp_path, "a", [_feature(_ring(5, 4, 15, 12))], crs="EPSG:999999")
    with pytest.raises(DataLayoutError, match=r"a\.geojson is in EPSG:999999, which pyproj "
                                              r"cannot take.*EPSG:32611.*ogr2ogr"):
        _masks(tmp_path, unclassified="building")
    # metres declared as another geographic CRS (NAD83): pyproj gives infinities
    _save(tmp_path, "a", [_feature(_ring(5, 4, 15, 12))], crs="EPSG:4269")
    with pytest.raises(DataLayoutError, match=r"a\.geojson: positions such as \[500002\.5, "
                                              r"3999998\.0\] cannot be taken.*crs member missing"):
        _masks(tmp_path, unclassified="building")


def test_labels_wholly_outside_get_map_advice_not_qupaths(tmp_path, caplog):
    # another tile's GeoJSON (or one in another CRS taken as this one's): QuPath's advice about
    # downsampled exports sent the user the wrong way
    _tiff(tmp_path / "imgs" / "a.tif")
    _save(tmp_path, "a", [_feature(_ring(500, 400, 515, 412))])
    with caplog.at_level(logging.WARNING):
        _masks(tmp_path, unclassified="building")
    said = caplog.text
    assert "a.geojson (1 of its 1 objects" in said and "another tile" in said, said
    assert "CRS" in said and "QuPath" not in said and "downsampled" not in said, said


def test_an_image_without_georeferencing_is_refused_by_name(tmp_path):
    _tiff(tmp_path / "imgs" / "a.tif", epsg=None, scale=None)
    _save(tmp_path, "a", [_feature(_ring(5, 4, 15, 12))])
    with pytest.raises(DataLayoutError, match=r"a\.tif has no GeoTIFF georeferencing.*a\.geojson"):
        _masks(tmp_path, unclassified="building")


def test_spacenet_names_pair_through_image_prefix(tmp_path):
    # SpaceNet 2: RGB-PanSharpen/RGB-PanSharpen_AOI_2_Vegas_img1.tif beside
    # geojson/buildings/buildings_AOI_2_Vegas_img1.geojson: the id is AOI_2_Vegas_img1
    _tiff(tmp_path / "RGB-PanSharpen" / "RGB-PanSharpen_AOI_2_Vegas_img1.tif")
    (tmp_path / "geojson" / "buildings").mkdir(parents=True)
    data = {"type": "FeatureCollection", "features": [_feature(_ring(5, 4, 15, 12))]}
    (tmp_path / "geojson" / "buildings" / "buildings_AOI_2_Vegas_img1.geojson").write_text(
        json.dumps(data | {"crs": {"type": "name", "properties": {"name": "EPSG:32611"}}}))
    table = {"file": "geojson/buildings/buildings_{id}.geojson", "unclassified": "building"}
    layout = Layout(images="RGB-PanSharpen", image_prefix="RGB-PanSharpen_",
                    geojson=tuple(sorted(table.items())))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    [pair] = manifest["pairs"]
    assert pair["id"] == "AOI_2_Vegas_img1"
    assert (np.asarray(Image.open(pair["mask"])) == 1).sum() == 80


@pytest.mark.parametrize(("crs", "said"), [
    (None, "has no crs member, so it reads as EPSG:4326 (RFC 7946's)"),
    ("EPSG:4326", "its crs member declares EPSG:4326"),
    ("urn:ogc:def:crs:OGC:1.3:CRS84", "its crs member declares EPSG:4326"),
])
def test_projected_numbers_declared_as_nothing_are_told_to_be_declared_not_reprojected(
        tmp_path, crs, said):
    # UTM metres in a GeoJSON without a crs member (or one saying lon/lat) read as lon/lat:
    # reprojecting them (-t_srs) would make nonsense of them; they need their CRS assigned
    # (-a_srs). A member saying EPSG:4326 was told the file "declares no other CRS".
    _tiff(tmp_path / "imgs" / "a.tif")
    _save(tmp_path, "a", [_feature(_ring(5, 4, 15, 12))], crs=crs)
    with pytest.raises(DataLayoutError, match=r"not lon/lat.*ogr2ogr -a_srs EPSG:32611") as err:
        _masks(tmp_path, unclassified="building")
    assert said in str(err.value) and "declares no" not in str(err.value)


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_building_across_the_antimeridian_lands_on_its_utm_tile(tmp_path, wrapped):
    # A tile of UTM 60N (Chukotka, Fiji) across 180 degrees: a ring written with continuous
    # longitudes (179.9999 to 180.0001, as web map editors draw it) was refused as metres
    # "not lon/lat"; RFC 7946's split one (-179.9999) lands there too
    pyproj = pytest.importorskip("pyproj")
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32660", always_xy=True)
    x0, y0 = to_utm.transform(179.99985, 65.00005)
    _tiff(tmp_path / "imgs" / "a.tif", epsg=32660, origin=(x0, y0))
    lons, lats = (179.99992, 180.00008), (65.00003, 64.99998)
    ring = [[lons[0], lats[0]], [lons[1], lats[0]], [lons[1], lats[1]], [lons[0], lats[1]]]
    if wrapped:  # east of 180 as -180 + ...: two polygons, RFC 7946's cut
        east = [[180.0, lats[0]], [lons[1], lats[0]], [lons[1], lats[1]], [180.0, lats[1]]]
        west = [[lons[0], lats[0]], [180.0, lats[0]], [180.0, lats[1]], [lons[0], lats[1]]]
        rings = [[[p[0] - 360 * (p[0] > 180), p[1]] for p in east], west]
        features = [_feature(r + r[:1]) for r in rings]
    else:
        features = [_feature(ring + ring[:1])]
    _save(tmp_path, "a", features, crs=None)
    _, masks = _masks(tmp_path, unclassified="building")
    xs, ys = to_utm.transform([lons[0], lons[1]], [lats[0], lats[1]])
    cols, rows = (np.array(xs) - x0) / PX, (y0 - np.array(ys)) / PX
    want = np.zeros((H, W), bool)
    want[round(rows.min()):round(rows.max()), round(cols.min()):round(cols.max())] = True
    assert want.sum() > 100 and _iou(masks["a"] == 1, want) > 0.9
