"""Masks as WKT polygons in pixel coordinates, one JSON per image (xView2's xBD labels:
features.xy, a list of {properties, wkt}; lng_lat beside it is ignored), read and drawn by the
QuPath reader (its pairing, painter and warnings). wkt.class_property names the property
holding the class; wkt.labels renames classes (to numbers: the data's own values) or makes them
don't-care (`ignore`: xBD's un-classified buildings)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from unet.dataset.json_masks import read_tool_json
from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.qupath import QupathMasks, pair_features, write_qupath_mask

IGNORE = "ignore"  # wkt.labels' value that makes a class don't-care (masks.ignore)
ADVICE = ('write it as xBD\'s labels are: {"features": {"xy": [{"properties": {...}, "wkt": '
          '"POLYGON ((x y, ...))"}]}}, or a list of such features',  # a file; an object
          "fix or remove that feature's wkt")
write_wkt_mask = write_qupath_mask  # download_dataset's write_<kind>_mask: one painter


def _load(path: Path, again: str) -> tuple[list, None]:
    """The features of a WKT JSON as GeoJSON-like ones (the WKT string as geometry, which
    geometry_polygons reads), refused by name where it holds no list of features."""
    data = read_tool_json(path, again)
    features = data.get("features") if isinstance(data, dict) else data
    if isinstance(features, dict):  # xBD: {"lng_lat": [...], "xy": [...]}: pixels are xy
        features = features.get("xy")
    if not isinstance(features, list):
        raise DataLayoutError(f"{path} holds no list of features (features.xy in xBD's labels); "
                              f"{again}")
    return [_as_feature(f) for f in features], None


def _as_feature(item: Any) -> Any:
    """An xBD feature {properties, wkt} as a GeoJSON Feature whose geometry is the WKT; what is
    not such an object is passed on, to be refused by its number."""
    if not isinstance(item, dict):
        return item
    wkt = item.get("wkt")
    return {"properties": item.get("properties"),
            "geometry": {"type": "no wkt string"} if not isinstance(wkt, str) else wkt}


def pair_wkt(root: Path, layout: Layout) -> list[tuple[str, Path, QupathMasks]]:
    """(id, image, its objects) for every JSON wkt.json matches, classes renamed by wkt.labels
    and the ones it makes `ignore` drawn as masks.ignore's value."""
    settings = dict(layout.wkt or ())
    labels = {str(k): str(v) for k, v in dict(settings.get("labels") or {}).items()}
    ignored = {k for k, v in labels.items() if v == IGNORE}

    def rename(objects: list, _image: Path, _path: Path, _crs: Any) -> list:
        return [(name if name in ignored else labels.get(name, name), polygons)
                for name, polygons in objects]

    found = pair_features(root, layout, "wkt", rename, ADVICE, _load, ignored.__contains__)
    # a class renamed to a number keeps the names it was given for the reports ('no-damage'
    # as class 1), not '1'
    def named(to: str) -> str:
        return " + ".join(sorted(k for k, v in labels.items() if v == to)) or to

    return [(pid, image, replace(m, names=tuple((k, named(n)) for k, n in m.names)))
            for pid, image, m in found]


def note_outside(jobs: list[tuple[QupathMasks, Path, tuple[int, int]]]) -> None:
    """The QuPath reader's warning of objects wholly outside their image, for WKT JSONs."""
    from unet.dataset.qupath import note_outside as outside_warning

    outside_warning(jobs, "WKT", "their JSON is another image's (compare the ids), or its "
                    "positions are not pixels (xBD's lng_lat, not xy)")
