"""GeoJSON in map coordinates (SpaceNet's buildings and roads, cadastre exports, OpenStreetMap
extracts: qupath.coordinates: map) moved onto an image's pixels by its GeoTIFF transform, so the
QuPath reader's painter draws them. The GeoJSON's CRS (its `crs` member, else RFC 7946's lon/lat,
EPSG:4326) must be the GeoTIFF's: no reprojection is done here, a mismatch is refused."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from unet.common.georef import georef_of
from unet.dataset.layout import DataLayoutError
from unet.dataset.names import listing

log = logging.getLogger(__name__)

LON_LAT = "EPSG:4326"  # RFC 7946's only CRS (OGC CRS84: lon, lat order, as GeoTIFF's x, y)
MISSING = object()  # a GeoJSON without a crs member (or a bare list of Features)
# EPSG:32611, urn:ogc:def:crs:EPSG::32611, urn:ogc:def:crs:EPSG:6.6:32611,
# http://www.opengis.net/def/crs/EPSG/0/32611
_EPSG = re.compile(r"(?:^|[:/])EPSG(?::[0-9.]*:|:|/[0-9.]+/)([0-9]+)$", re.IGNORECASE)


def geojson_crs(member: Any, path: Path) -> str:
    """The CRS a GeoJSON's `crs` member names as EPSG:<code> (none: RFC 7946's EPSG:4326),
    refused by file where it names none this reads."""
    if member is MISSING or member is None:
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


def to_pixels(objects: list, image: Path, path: Path, crs: str, unnamed: list[str]) -> list:
    """The (class, polygons) of GeoJSON `path` with every ring moved from map coordinates in
    `crs` onto `image`'s pixels (pixel (0, 0) spanning 0..1), by its GeoTIFF transform, north-up
    or rotated; refused by name where the image has none or another CRS. An image whose CRS has
    no EPSG code is added to `unnamed` (its CRS taken as the GeoJSON's)."""
    geo = georef_of(image)
    if geo is None:
        raise DataLayoutError(
            f"{image} has no GeoTIFF georeferencing (no ModelPixelScale and ModelTiepoint, or "
            f"ModelTransformation; or an Orientation that turns it), so {path}, in map "
            "coordinates, cannot be placed on it; give the georeferenced GeoTIFF, or set "
            "qupath.coordinates: pixel for a GeoJSON in pixel coordinates")
    (x0, dx, rx, y0, ry, dy), own = geo
    if own is None:
        unnamed.append(image.name)
    elif own != crs:
        raise DataLayoutError(
            f"{path} is in {crs} but its image {image} in {own}: no reprojection is done; write "
            f"the GeoJSON in the image's CRS: ogr2ogr -t_srs {own} out.geojson {path.name}")
    # map = origin + M @ (col, row), M = [[dx, rx], [ry, dy]]: pixels = M^-1 @ (map - origin)
    inverse = np.linalg.inv(np.array([[dx, rx], [ry, dy]]))
    origin = np.array([x0, y0])

    def move(ring: np.ndarray) -> np.ndarray:
        return (ring - origin) @ inverse.T  # (n, 2) x, y -> (n, 2) col, row

    return [(cls, tuple(tuple(move(r) for r in rings) for rings in polygons))
            for cls, polygons in objects]


def warn_unnamed(unnamed: list[str]) -> None:
    """Say once which images' CRS has no EPSG code to check the GeoJSONs' against."""
    if unnamed:
        log.warning("GeoTIFFs whose CRS has no EPSG code (user-defined), taken to be their "
                    "GeoJSON's: %s; a GeoJSON in another CRS lands outside them (warned)",
                    listing(unnamed))
