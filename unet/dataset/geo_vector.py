"""GeoJSON in map coordinates (SpaceNet's buildings and roads, cadastre exports, OpenStreetMap
extracts: dataset.<source>.geojson) moved onto an image's pixels by its GeoTIFF transform, so the
QuPath reader's painter draws them. The GeoJSON's CRS is its `crs` member's, else RFC 7946's
lon/lat (EPSG:4326); one other than the GeoTIFF's is reprojected with pyproj (the geo extra),
or refused without it."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from unet.common.georef import georef_of
from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.names import listing
from unet.dataset.qupath import QupathMasks, pair_features, write_qupath_mask
from unet.dataset.qupath import note_outside as outside_warning

log = logging.getLogger(__name__)

LON_LAT = "EPSG:4326"  # RFC 7946's only CRS (OGC CRS84: lon, lat order, as GeoTIFF's x, y)
# how to write a file again, and fix a feature; why objects lie wholly outside their image
ADVICE = ("write it again as GeoJSON (ogr2ogr -f GeoJSON out.geojson in.shp)",
          "fix or remove that feature (in QGIS, or ogr2ogr -makevalid)")
OUTSIDE = ("They are another tile's labels (compare the GeoJSONs' ids with the images'), or in "
           "another CRS than the one they are read in: a crs member that is wrong or missing "
           "(a GeoJSON without one is lon/lat, EPSG:4326)")
write_geojson_mask = write_qupath_mask  # download_dataset's write_<kind>_mask: one painter
# EPSG:32611, urn:ogc:def:crs:EPSG::32611, urn:ogc:def:crs:EPSG:6.6:32611,
# http://www.opengis.net/def/crs/EPSG/0/32611
_EPSG = re.compile(r"(?:^|[:/])EPSG(?::[0-9.]*:|:|/[0-9.]+/)([0-9]+)$", re.IGNORECASE)


def geojson_crs(member: Any, path: Path) -> str:
    """The CRS a GeoJSON's `crs` member names as EPSG:<code> (none: RFC 7946's EPSG:4326),
    refused by file where it names none this reads."""
    if member is None:
        return LON_LAT
    props = member.get("properties") if isinstance(member, dict) else None
    props = props if isinstance(props, dict) else {}
    if isinstance(props.get("code"), int) and not isinstance(props["code"], bool):
        return f"EPSG:{props['code']}"  # the 2008 spec's {"type": "EPSG", ...}
    name = str(props.get("name") or "").strip()
    if name.upper().endswith("CRS84"):  # urn:ogc:def:crs:OGC:1.3:CRS84: lon, lat
        return LON_LAT
    if match := _EPSG.search(name):
        return f"EPSG:{int(match.group(1))}"
    raise DataLayoutError(
        f"{path}: its crs member {member!r} names no EPSG code; write it again with one "
        "(ogr2ogr -t_srs EPSG:<the image's code> out.geojson in.geojson) or drop the member "
        "for lon/lat (EPSG:4326)")


def to_pixels(objects: list, image: Path, path: Path, crs: str, unnamed: list[str],
              declared: bool = False) -> list:
    """The (class, polygons) of GeoJSON `path` with every ring moved from map coordinates in
    `crs` (`declared` by its crs member, else RFC 7946's default) onto `image`'s pixels (pixel
    (0, 0) spanning 0..1), by its GeoTIFF transform, north-up or rotated; refused by name where
    the image has none or another CRS. An image whose CRS has no EPSG code is added to
    `unnamed` (its CRS taken as the GeoJSON's)."""
    geo = georef_of(image)
    if geo is None:
        raise DataLayoutError(
            f"{image} has no GeoTIFF georeferencing (no ModelPixelScale and ModelTiepoint, or "
            f"ModelTransformation, nor a world file or .aux.xml beside it; or an Orientation "
            f"that turns it), so {path}, in map coordinates, cannot be placed on it; give the "
            "georeferenced GeoTIFF, or read a GeoJSON in pixel coordinates (QuPath's) with "
            "qupath.json instead")
    (x0, dx, rx, y0, ry, dy), own = geo
    if own is None:
        unnamed.append(image.name)
    elif own != crs and crs == LON_LAT and not _lon_lat(objects):
        # metres read as degrees: the file is in its image's CRS without saying so (no crs
        # member, or a wrong one); ogr2ogr -t_srs would "reproject" those numbers as lon/lat
        # into nonsense
        said = (f"its crs member declares {crs} (lon/lat)" if declared else
                f"it has no crs member, so it reads as {crs} (RFC 7946's)")
        raise DataLayoutError(
            f"{path} has coordinates that are not lon/lat (beyond +-360, +-90) but {said}; if "
            f"it is in its image's {own}, say so: ogr2ogr -a_srs {own} out.geojson {path.name}")
    elif own != crs:  # SpaceNet 3 on: lon/lat GeoJSONs beside UTM GeoTIFFs
        objects = _reprojected(objects, path, crs, own, image)
    # map = origin + M @ (col, row), M = [[dx, rx], [ry, dy]]: pixels = M^-1 @ (map - origin)
    inverse = np.linalg.inv(np.array([[dx, rx], [ry, dy]]))
    origin = np.array([x0, y0])

    def move(ring: np.ndarray) -> np.ndarray:
        return (ring - origin) @ inverse.T  # (n, 2) x, y -> (n, 2) col, row

    return [(cls, tuple(tuple(move(r) for r in rings) for rings in polygons))
            for cls, polygons in objects]


def _lon_lat(objects: list) -> bool:
    """Whether every ring's points lie within lon/lat's range (|x| <= 360, |y| <= 90): a ring
    across the antimeridian written with continuous longitudes (179.9 to 180.1, as web map
    editors draw it) is lon/lat too, and pyproj takes 180.1 as -179.9."""
    return all(np.all(np.abs(r) <= (360.0, 90.0)) for _, polygons in objects
               for rings in polygons for r in rings)


def warn_unnamed(unnamed: list[str]) -> None:
    """Say once which images' CRS has no EPSG code to check the GeoJSONs' against."""
    if unnamed:
        log.warning("GeoTIFFs whose CRS has no EPSG code (user-defined), taken to be their "
                    "GeoJSON's: %s; a GeoJSON in another CRS lands outside them (warned)",
                    listing(unnamed))


def pair_geojson(root: Path, layout: Layout) -> list[tuple[str, Path, QupathMasks]]:
    """(id, image, its objects on the image's pixels) for every GeoJSON geojson.file matches,
    read by the QuPath reader (pair_features), the class geojson.class_property's value."""
    unnamed: list[str] = []

    def place(objects: list, image: Path, path: Path, member: Any) -> list:
        return to_pixels(objects, image, path, geojson_crs(member, path), unnamed,
                         member is not None)

    found = pair_features(root, layout, "geojson", place, ADVICE)
    warn_unnamed(unnamed)
    return found


def note_outside(jobs: list[tuple[QupathMasks, Path, tuple[int, int]]]) -> None:
    """The QuPath reader's warning of objects wholly outside their image, with the causes a
    map-coordinate GeoJSON has (another tile's, another CRS), not QuPath's."""
    outside_warning(jobs, "GeoJSON", OUTSIDE)


@lru_cache(maxsize=16)
def _transformer(transformer: Any, source: str, target: str) -> Any:
    """pyproj's `transformer` from `source` to `target`, x, y as lon, lat or east, north
    (always_xy: GeoJSON's order whatever the EPSG axis order), made once per pair of CRSs."""
    return transformer.from_crs(source, target, always_xy=True)


def _reprojected(objects: list, path: Path, crs: str, own: str, image: Path) -> list:
    """`objects` (class, polygons) of GeoJSON `path` taken from `crs` to `own`, its image's CRS
    (pyproj, the geo extra); refused naming both fixes where pyproj is not installed, and the
    file where its CRS, or a position, cannot be taken there."""
    fix = f"write the GeoJSON in the image's CRS: ogr2ogr -t_srs {own} out.geojson {path.name}"
    try:
        from pyproj import Transformer
    except ImportError:
        raise DataLayoutError(
            f"{path} is in {crs} but its image {image} in {own}, and reprojecting needs pyproj: "
            f"pip install -e '.[geo]' (or pip install pyproj), or {fix}") from None
    try:
        move = _transformer(Transformer, crs, own).transform
    except RuntimeError as err:  # pyproj's CRSError: a code its EPSG database lacks
        raise DataLayoutError(f"{path} is in {crs}, which pyproj cannot take to its image's "
                              f"{own} ({err}); fix its crs member, or {fix}") from None

    def ring(r: np.ndarray) -> np.ndarray:
        out = np.column_stack(move(r[:, 0], r[:, 1]))  # (n, 2) x, y in the image's CRS
        if not np.isfinite(out).all():
            raise DataLayoutError(
                f"{path}: positions such as {r[0].tolist()} cannot be taken from {crs} to {own} "
                "(a crs member missing, so that they are read as lon/lat, or wrong? lat, lon "
                "written for lon, lat?); fix the file's CRS")
        return out

    return [(cls, tuple(tuple(ring(r) for r in rings) for rings in polygons))
            for cls, polygons in objects]
