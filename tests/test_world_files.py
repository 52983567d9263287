"""A PNG or JPEG tile placed by a world file (`.pgw`, `.jgw`, `.wld`) or GDAL's own sidecar
(`<tile>.png.aux.xml`), as QGIS's "Save as image" and photogrammetry tools export an
orthomosaic: its predicted mask carries that place (before, it lay at 0,0 in QGIS)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

UTM11 = 'PROJCS["WGS 84 / UTM zone 11N",GEOGCS["WGS 84",AUTHORITY["EPSG","4326"]],' \
        'UNIT["metre",1],AUTHORITY["EPSG","32611"]]'
# A, D, B, E, C, F: pixel size x, rotations, pixel size y (negative), first pixel's centre
WORLD = "0.05\n0\n0\n-0.05\n640000.025\n4000000.975\n"
GRID = (640000.0, 0.05, 0.0, 4000001.0, 0.0, -0.05)


def _tile(tmp_path, name="tile.png"):
    Image.fromarray(np.full((8, 10, 3), 90, np.uint8)).save(tmp_path / name)
    return tmp_path / name


def test_a_world_file_places_a_png_and_its_prj_names_the_crs(tmp_path):
    from unet.common.georef import georef_of

    tile = _tile(tmp_path)
    assert georef_of(tile) is None
    (tmp_path / "tile.pgw").write_text(WORLD)
    grid, crs = georef_of(tile)
    assert np.allclose(grid, GRID) and crs is None
    (tmp_path / "tile.prj").write_text(UTM11)  # ESRI's WKT beside it: its last AUTHORITY
    assert georef_of(tile)[1] == "EPSG:32611"
    jpg = _tile(tmp_path, "b.jpg")
    (tmp_path / "b.wld").write_text(WORLD)
    assert np.allclose(georef_of(jpg)[0], GRID)


def test_gdals_sidecar_of_a_png_places_it_before_its_world_file(tmp_path):
    from unet.common.georef import georef_of

    tile = _tile(tmp_path)
    (tmp_path / "tile.pgw").write_text("1\n0\n0\n-1\n0.5\n0.5\n")
    (tmp_path / "tile.png.aux.xml").write_text(
        f"<PAMDataset>\n  <SRS>{UTM11}</SRS>\n  <GeoTransform> 6.4e5, 0.05, 0, 4000001, 0, "
        "-0.05</GeoTransform>\n</PAMDataset>\n")
    grid, crs = georef_of(tile)
    assert np.allclose(grid, GRID) and crs == "EPSG:32611"


def test_the_mask_of_a_world_filed_png_tile_lies_on_it(tmp_path):
    from unet.common.georef import write_georef

    tile = _tile(tmp_path)
    (tmp_path / "tile.pgw").write_text(WORLD)
    (tmp_path / "tile.png.aux.xml").write_text(f"<PAMDataset><SRS>{UTM11}</SRS></PAMDataset>")
    (tmp_path / "pred").mkdir()
    Image.fromarray(np.ones((8, 10), np.uint8)).save(tmp_path / "pred" / "tile.png")
    assert write_georef(tile, tmp_path / "pred" / "tile.png")
    side = (tmp_path / "pred" / "tile.png.aux.xml").read_text()
    assert "<SRS>EPSG:32611</SRS>" in side
    assert "<GeoTransform>640000, 0.050000000000000003, 0, 4000001, 0, -0.05" in side


def test_a_damaged_world_file_places_nothing(tmp_path):
    from unet.common.georef import georef_of

    tile = _tile(tmp_path)
    (tmp_path / "tile.pgw").write_text("0.05\n0\nnot a number\n")
    assert georef_of(tile) is None


def test_a_world_file_beside_an_exif_turned_jpeg_places_nothing(tmp_path):
    from unet.common.georef import georef_of

    # A camera JPEG stored landscape with Orientation 6 is read turned to portrait, but its
    # world file places the stored pixels (GDAL ignores EXIF): as a turned GeoTIFF, no place
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.full((8, 10, 3), 90, np.uint8)).save(tmp_path / "c.jpg", exif=exif)
    (tmp_path / "c.jgw").write_text(WORLD)
    assert georef_of(tmp_path / "c.jpg") is None
    exif[0x0112] = 1  # upright: placed
    Image.fromarray(np.full((8, 10, 3), 90, np.uint8)).save(tmp_path / "c.jpg", exif=exif)
    assert np.allclose(georef_of(tmp_path / "c.jpg")[0], GRID)


# ArcGIS's and QGIS's ESRI WKT: no AUTHORITY at all, the CRS told by its parameters alone
ESRI_UTM11 = ('PROJCS["WGS_1984_UTM_Zone_11N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID['
              '"WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",'
              '0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",'
              '{}],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-117.0],'
              'PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],'
              'UNIT["Meter",1.0]]')


def test_an_esri_prj_without_an_authority_names_its_epsg_where_pyproj_is(tmp_path, monkeypatch):
    """Without the code a lon/lat GeoJSON of the tile was not reprojected and fell off it."""
    pytest.importorskip("pyproj")
    from unet.common.georef import georef_of

    tile = _tile(tmp_path)
    (tmp_path / "tile.pgw").write_text(WORLD)
    (tmp_path / "tile.prj").write_text(ESRI_UTM11.format("500000.0"))
    assert georef_of(tile)[1] == "EPSG:32611"
    (tmp_path / "tile.prj").write_text(ESRI_UTM11.format("123456.0"))  # a CRS of its own
    assert georef_of(tile)[1] is None
    (tmp_path / "tile.prj").write_text("PROJCS[damaged")
    assert georef_of(tile)[1] is None
    monkeypatch.setitem(sys.modules, "pyproj", None)  # not installed: as before
    (tmp_path / "tile.prj").write_text(ESRI_UTM11.format("500000.0"))
    assert georef_of(tile)[1] is None
