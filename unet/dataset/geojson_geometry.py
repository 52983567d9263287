"""A GeoJSON geometry's polygons as arrays of ring positions: what QuPath's exports and other
tools' map-coordinate GeoJSON share (points and lines cover no area)."""

from __future__ import annotations

from typing import Any

import numpy as np

LINES = ("Point", "MultiPoint", "LineString", "MultiLineString")  # no area: left out


def _ring(ring: Any) -> np.ndarray:
    """A ring's positions as an (n, 2) float array (a third value, z, dropped)."""
    if not isinstance(ring, list) or len(ring) < 3 or not all(
            isinstance(p, list) and len(p) >= 2 and all(isinstance(v, int | float) for v in p[:2])
            for p in ring):
        raise ValueError("a ring that is not a list of 3 or more [x, y] positions")
    return np.array([p[:2] for p in ring], np.float64)


def geometry_polygons(geometry: Any) -> list[tuple[np.ndarray, ...]] | None:
    """The polygons (outer ring, then holes) of a geometry; None for points, lines and none."""
    if geometry is None:  # RFC 7946's unlocated feature (ogr2ogr's empty geometry): no area
        return None
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coords = geometry.get("coordinates") if kind else None
    if kind in LINES:
        return None
    if kind == "GeometryCollection":  # its areas; lines and points in it cover nothing
        parts = [geometry_polygons(g) for g in geometry.get("geometries") or []]
        found = [p for part in parts if part for p in part]
        return found or None
    if kind == "Polygon" and isinstance(coords, list) and coords:
        return [tuple(_ring(r) for r in coords)]
    if kind == "MultiPolygon" and isinstance(coords, list):
        if not all(isinstance(c, list) and c for c in coords):
            raise ValueError("a MultiPolygon part without rings")
        return [tuple(_ring(r) for r in c) for c in coords]
    raise ValueError(f"a geometry of type {kind!r} without usable coordinates")
