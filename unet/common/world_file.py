"""The place of an image held beside it rather than in it: GDAL's own sidecar
(`<image>.aux.xml`, its GeoTransform and SRS) or an ESRI world file (`.pgw`, `.jgw`, `.tfw`,
`.wld`) with its `.prj`, as QGIS's "Save as image" and photogrammetry tools write PNG and JPEG
tiles of an orthomosaic: without it their masks lay at 0,0 in QGIS."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

GeoTransform = tuple[float, float, float, float, float, float]
# WKT1's AUTHORITY["EPSG","32611"] or WKT2's ID["EPSG",32611]: the last is the CRS's own
_AUTHORITY = re.compile(r'(?:AUTHORITY|ID)\[\s*"EPSG"\s*,\s*"?([0-9]+)"?\s*\]', re.IGNORECASE)


def sidecar_georef(path: str | os.PathLike) -> tuple[GeoTransform, str | None] | None:
    """The geotransform (first pixel's outer corner, as georef_of) and EPSG CRS of `path` from
    its `.aux.xml`, else its world file (GDAL's order), the CRS from the `.aux.xml` or a `.prj`;
    None where neither places it or what there is cannot be read, or the image has an EXIF
    Orientation (read turned, while the sidecar places its pixels as stored)."""
    path = Path(path)
    grid, srs = _pam(path)
    grid = grid or _world(path)
    if grid is None or _turned(path):
        return None
    if srs is None and (prj := path.with_suffix(".prj")).is_file():
        srs = _text(prj)
    return grid, epsg_of(srs)


def epsg_of(srs: str | None) -> str | None:
    """`EPSG:<code>` of a CRS given as EPSG:<code> or WKT; None where it names no EPSG code."""
    srs = (srs or "").strip()
    if re.fullmatch(r"EPSG:[0-9]+", srs, re.IGNORECASE):
        return srs.upper()
    codes = _AUTHORITY.findall(srs)
    return f"EPSG:{int(codes[-1])}" if codes else _identified(srs)


def _identified(wkt: str) -> str | None:
    """`EPSG:<code>` pyproj (the geo extra) matches a WKT naming none to, as ArcGIS's and QGIS's
    ESRI WKT (`.prj`) names none; None without pyproj, or for a CRS no EPSG code is sure of."""
    if not wkt:
        return None
    try:
        from pyproj import CRS
    except ImportError:  # as before pyproj was asked: no code, the place without a CRS
        return None
    try:  # 70: the name may differ (WGS_1984_UTM_Zone_11N), the parameters must match
        code = CRS.from_wkt(wkt).to_epsg(min_confidence=70)
    except RuntimeError:  # pyproj's CRSError: not WKT it can read
        return None
    return f"EPSG:{code}" if code else None


def _turned(path: Path) -> bool:
    """Whether the image has an EXIF Orientation other than 1: GDAL, which wrote or reads the
    sidecar, ignores it, while the pipeline reads the pixels turned, so its mask would lie
    rotated on the map (a camera or drone JPEG with a .jgw)."""
    from unet.common.imageio import exif_orientation  # imageio is heavy: only where placed

    try:
        return exif_orientation(path) != 1
    except (OSError, ValueError):  # unreadable here: the reader names the file later
        return False


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _pam(path: Path) -> tuple[GeoTransform | None, str | None]:
    """GDAL's `<image>.aux.xml`: its GeoTransform (None without one) and SRS text."""
    text = _text(Path(f"{path}.aux.xml"))
    if not text:
        return None, None
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None, None
    srs = root.findtext("SRS")
    try:
        terms = [float(v) for v in (root.findtext("GeoTransform") or "").split(",")]
    except ValueError:
        return None, srs
    return (tuple(terms) if len(terms) == 6 else None), srs


def _world(path: Path) -> GeoTransform | None:
    """An ESRI world file's six lines (A, D, B, E, C, F: C, F the first pixel's centre) as a
    geotransform from the outer corner; the names GDAL tries: .pgw, .pngw, .wld."""
    ext = path.suffix[1:]
    if not ext:
        return None
    for suffix in (f".{ext[0]}{ext[-1]}w", f".{ext}w", ".wld"):
        for name in (suffix.lower(), suffix.upper()):
            text = _text(path.with_suffix(name)) if path.with_suffix(name).is_file() else None
            if text is None:
                continue
            try:
                a, d, b, e, c, f = (float(v) for v in text.split()[:6])
            except ValueError:  # fewer than six numbers, or words: places nothing
                return None
            return (c - (a + b) / 2, a, b, f - (d + e) / 2, d, e)
    return None
