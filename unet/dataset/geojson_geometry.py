"""A GeoJSON geometry's polygons as arrays of ring positions: what QuPath's exports and other
tools' map-coordinate GeoJSON share (points and lines cover no area); a WKT POLYGON or
MULTIPOLYGON string (xView2's xBD labels) is read as the GeoJSON geometry it spells."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

LINES = ("Point", "MultiPoint", "LineString", "MultiLineString")  # no area: left out
# WKT's polygon kinds, a Z, M or ZM dimension allowed (its third, fourth value dropped)
_WKT = re.compile(r"\s*(MULTIPOLYGON|POLYGON)\s*(?:ZM|Z|M)?\s*(\(.*|EMPTY)\s*",
                  re.IGNORECASE | re.DOTALL)
# an EMPTY member of a list ('MULTIPOLYGON (EMPTY, ((...)))', as PostGIS writes): no area
_EMPTY_MEMBER = re.compile(r"(?<=[(,])\s*EMPTY\s*(?=[,)])", re.IGNORECASE)
_POSITION = re.compile(r"[^\s(),]+(?:[ \t\r\n]+[^\s(),]+)+")  # "x y" (z m) between delimiters
# WKT's number (OGC 06-103r4: +1, .5 and 1. too); NaN, Infinity and 1_0 are none (json.loads,
# float() take them)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _ring(ring: Any) -> np.ndarray:
    """A ring's positions as an (n, 2) float array (a third value, z, dropped)."""
    if not isinstance(ring, list) or len(ring) < 3 or not all(
            isinstance(p, list) and len(p) >= 2 and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in p[:2])
            for p in ring):
        raise ValueError("a ring that is not a list of 3 or more [x, y] positions")
    positions = np.array([p[:2] for p in ring], np.float64)
    if not np.isfinite(positions).all():  # the painter cannot round NaN or inf to a pixel
        raise ValueError("a position that is not finite (NaN or Infinity): give numbers")
    return positions


def _position(text: str) -> str:
    """A WKT position 'x y' (z m) as the JSON list '[x, y]'; ValueError naming a value that
    is no WKT number."""
    values = text.split()
    for value in values:
        if not _NUMBER.fullmatch(value):
            raise ValueError(f"{value!r} is no WKT number")
        if not math.isfinite(float(value)):  # 1e999
            raise ValueError(f"{value!r} is not finite")
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def _member(text: str, empty: re.Match) -> str:
    """An EMPTY member of a MULTIPOLYGON's list as JSON's null, skipped once read (a member
    '()' is still refused); an EMPTY deeper in (a ring) is kept, refused as not well formed."""
    depth = text.count("(", 0, empty.start()) - text.count(")", 0, empty.start())
    return "null" if depth == 1 else empty.group(0)


def wkt_geometry(text: str) -> dict:
    """A WKT POLYGON or MULTIPOLYGON ('POLYGON ((x y, x y, ...), (hole ...))') as its GeoJSON
    geometry; ValueError naming it where it is neither or is not well formed."""
    shown = text if len(text) <= 60 else f"{text[:57]}..."
    if not (match := _WKT.fullmatch(text)):
        raise ValueError(f"WKT {shown!r} is not a POLYGON or MULTIPOLYGON")
    kind = "Polygon" if match.group(1).upper() == "POLYGON" else "MultiPolygon"
    if match.group(2).upper() == "EMPTY":
        return {"type": kind, "coordinates": []}
    # "x y, x y" -> "[x, y], [x, y]", parentheses -> brackets: the GeoJSON coordinates' JSON
    try:
        spelt = _POSITION.sub(lambda m: _position(m.group(0)), match.group(2))
        if kind == "MultiPolygon":
            spelt = _EMPTY_MEMBER.sub(lambda m: _member(spelt, m), spelt)
        coords = json.loads(spelt.replace("(", "[").replace(")", "]"))
    except ValueError as err:  # JSONDecodeError is one
        why = "" if isinstance(err, json.JSONDecodeError) else f"{err}; "
        raise ValueError(f"WKT {shown!r} is not well formed ({why}numbers 'x y' between "
                         "parentheses, positions apart by commas)") from None
    if kind == "MultiPolygon" and isinstance(coords, list):  # its EMPTY members skipped
        coords = [c for c in coords if c is not None]
    return {"type": kind, "coordinates": coords}


def geometry_polygons(geometry: Any) -> list[tuple[np.ndarray, ...]] | None:
    """The polygons (outer ring, then holes) of a geometry (or a WKT string); None for points,
    lines and none."""
    if geometry is None:  # RFC 7946's unlocated feature (ogr2ogr's empty geometry): no area
        return None
    if isinstance(geometry, str):  # xBD's "wkt": pixel positions, read as their GeoJSON
        geometry = wkt_geometry(geometry)
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coords = geometry.get("coordinates") if kind else None
    if kind in LINES:
        return None
    if kind == "GeometryCollection":  # its areas; lines and points in it cover nothing
        parts = [geometry_polygons(g) for g in geometry.get("geometries") or []]
        found = [p for part in parts if part for p in part]
        return found or None
    if kind in ("Polygon", "MultiPolygon") and coords == []:  # EMPTY: no area
        return None
    if kind == "Polygon" and isinstance(coords, list) and coords:
        return [tuple(_ring(r) for r in coords)]
    if kind == "MultiPolygon" and isinstance(coords, list):
        if not all(isinstance(c, list) and c for c in coords):
            raise ValueError("a MultiPolygon part without rings")
        return [tuple(_ring(r) for r in c) for c in coords]
    raise ValueError(f"a geometry of type {kind!r} without usable coordinates")
