"""Masks as QuPath annotations: one GeoJSON per image (File > Export objects as GeoJSON: a
FeatureCollection, a list of Features or one Feature), in full-resolution pixel coordinates,
drawn into a palette PNG of class numbers when the manifest is written. Polygons and every
part of MultiPolygons are filled in the file's order (QuPath writes a parent before the
objects inside it), holes cut back to what lay there before; points and lines cover no area
and are left out. Classification names in sorted order are classes 1, 2, ...; unclassified
objects are skipped or given the class qupath.unclassified names. Classes whose name ends
with `*` (QuPath's built-in `Ignore*`), which QuPath's own classifiers and labelled-image
export leave out, are don't-care: drawn as masks.ignore's value. Other tools' GeoJSON in map
coordinates (dataset.<source>.geojson) are read here too, placed by unet.dataset.geo_vector."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unet.common.bad_files import raise_all
from unet.common.maskio import write_mask_png
from unet.dataset.class_folders import read_colour, warn_colours
from unet.dataset.geojson_geometry import geometry_polygons
from unet.dataset.json_masks import (
    FILE_KEYS,
    TOOLS,
    fill_rings,
    id_of,
    json_template,
    matching_jsons,
    numbered,
    object_canvas,
    read_tool_json,
    unfound,
    value_of,
    write_object_ids,
)
from unet.dataset.layout import DataLayoutError, Layout, files_by_stem, nfc
from unet.dataset.names import listing

log = logging.getLogger(__name__)

SKIP = "skip"  # qupath.unclassified's value that leaves unclassified objects out
ADVICE = ("export it again from QuPath (File > Export objects as GeoJSON)",  # a file; an object
          "fix or remove that object in QuPath")


@dataclass(frozen=True)
class QupathMasks:
    """One image's objects, (class, polygons) each in the file's order, a polygon a tuple of
    (n, 2) x, y rings (its outer ring, then its holes)."""

    objects: tuple[tuple[int, tuple[tuple[np.ndarray, ...], ...]], ...]
    size: None  # where LabelMe's JSON gives the image size; a GeoJSON gives none
    json: Path
    names: tuple[tuple[int, str], ...]  # (class, classification name) of every class
    dont_care: tuple[str, ...] = ()  # the names drawn as masks.ignore's value (`Ignore*`)
    ignore: int | None = None  # masks.ignore, which the download gives where they are any
    palette: tuple[int, ...] | None = None  # the written PNG's: the tool's class colours


def _load(path: Path, again: str) -> tuple[list, Any]:
    """A GeoJSON's features and its crs member (None where it has none), refused by name where
    it is not a GeoJSON, `again` saying how to write it anew."""
    data = read_tool_json(path, again)
    crs = data.get("crs") if isinstance(data, dict) else None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        data = data.get("features")
    elif isinstance(data, dict) and data.get("type") == "Feature":  # one object exported
        data = [data]
    if not isinstance(data, list):
        raise DataLayoutError(f"{path} is neither a GeoJSON FeatureCollection nor a list of "
                              f"Features; {again}")
    return data, crs


def _class_name(feature: dict, prop: str = "") -> str | None:
    """A feature's classification name (a derived class's names joined as QuPath shows them,
    'Tumor: Positive'), or its property `prop`'s value where given; None when unclassified."""
    if prop:  # another tool's GeoJSON: a property of its own names the class
        value = (feature.get("properties") or {}).get(prop)
        return None if value is None or value == "" else str(value)
    found = (feature.get("properties") or {}).get("classification")
    if not isinstance(found, dict):
        return None
    if isinstance(found.get("name"), str) and found["name"]:
        return found["name"]
    names = found.get("names")
    return ": ".join(names) if isinstance(names, list) and names else None


def _colour(feature: dict) -> tuple[tuple[int, int, int] | None, Any]:
    """A classification's colour: `color` [r, g, b] (QuPath 0.3 on; '#rrggbb' or '#rgb' from
    scripts) or `colorRGB`, a packed ARGB int (0.2, signed: alpha set makes it negative); None
    where it gives none, with the value given where it is not read (None if none)."""
    found = (feature.get("properties") or {}).get("classification") or {}
    given = found.get("color")
    if given is not None and (rgb := read_colour(given)) is not None:
        return rgb, None
    packed = found.get("colorRGB")
    if isinstance(packed, int) and not isinstance(packed, bool):
        return ((packed >> 16) & 255, (packed >> 8) & 255, packed & 255), None
    return None, given if given is not None else packed


def _note_colour(counts: dict, name: str, feature: dict, path: Path) -> None:
    """Keep a class's first colour (with its file); a later other one is a clash to warn of,
    one not read kept to warn of once (`counts` colours, clashes, unread)."""
    colour, unread = _colour(feature)
    if colour is None:
        if unread is not None:
            counts["unread"].setdefault(name, unread)
        return
    first = counts["colours"].setdefault(name, (colour, path.name))
    if first[0] != colour and (name, colour) not in {c[:2] for c in counts["clashes"]}:
        counts["clashes"].append((name, colour, path.name))


def _objects(features: list, path: Path, unclassified: str, bad: list, counts: dict,
             prop: str = "", fix: str = ADVICE[1]) -> list:
    """A GeoJSON's (class name, polygons) in order; unusable features added to `bad`, and
    points and lines, unclassified objects counted in `counts` by kind and file, each class's
    first colour kept there (`colours`, other ones in `clashes`)."""
    found = []
    for n, feature in enumerate(features):
        try:
            if not isinstance(feature, dict):
                raise ValueError("not a GeoJSON Feature")
            polygons = geometry_polygons(feature.get("geometry"))
        except ValueError as err:
            bad.append((f"{path}:{n:06d}", DataLayoutError(
                f"{path}: feature {n} ({err}); {fix}")))
            continue
        name = _class_name(feature, prop)
        if name is not None:
            _note_colour(counts, name, feature, path)
        kind = "lines" if polygons is None else "unclassified" if name is None else None
        if kind:
            counts[kind][path.name] = counts[kind].get(path.name, 0) + 1
        if polygons is not None and (name is not None or unclassified != SKIP):
            found.append((unclassified if name is None else name, tuple(polygons)))
    return found


def _finder(root: Path, layout: Layout) -> dict[str, Path]:
    """The images by the names QuPath's export takes: the stem ('a' for a.tif), the file
    name (scripts that write a.tif.geojson), the stem with .ome (a.ome for a.ome.tif, whose
    id is a), and the stem without image_prefix and image_suffix."""
    folder = root / layout.images
    by_stem = files_by_stem(folder, layout.image_extensions, layout.recursive) \
        if folder.is_dir() else {}
    # file names in composed form, as stems and ids are: a Mac's decomposed café.tif pairs
    names = {**{nfc(p.name): p for p in by_stem.values()}, **by_stem}
    # image_prefix and image_suffix: SpaceNet's RGB-PanSharpen_AOI_2_Vegas_img1.tif has id
    # AOI_2_Vegas_img1, as its buildings_AOI_2_Vegas_img1.geojson names it
    pre, suf = layout.image_prefix, layout.image_suffix
    names |= {s[len(pre):len(s) - len(suf)]: p for s, p in by_stem.items()
              if len(s) > len(pre) + len(suf) and s.startswith(pre) and s.endswith(suf)}
    return {**{nfc(p.stem): p for p in by_stem.values()}, **names}


def pair_qupath(root: Path, layout: Layout) -> list[tuple[str, Path, QupathMasks]]:
    """(id, image, its objects) for every GeoJSON qupath.json matches (pair_features)."""
    return pair_features(root, layout, "qupath")


def pair_features(root: Path, layout: Layout, kind: str, place: Callable | None = None,
                  advice: tuple[str, str] = ADVICE, load: Callable = _load,
                  dont_care: Callable[[str], bool] | None = None,
                  ) -> list[tuple[str, Path, QupathMasks]]:
    """(id, image, its objects) for every file key `kind` (qupath, geojson, wkt) matches, the
    id its {id}, the image the one in images of that name (a file without it refused, or
    skipped with allow_unpaired); `place`(objects, image, path, crs member or None) moves the
    geojson key's map coordinates onto pixels (or renames classes); `advice`: how to write a
    file again, fix an object; `load`(path, advice) its features and crs member; `dont_care`
    picks the class names drawn as masks.ignore (else QuPath's `Ignore*`)."""
    template, tool = json_template(layout, kind), TOOLS[kind]
    settings = dict(getattr(layout, kind) or ())
    unclassified = str(settings.get("unclassified") or SKIP)
    prop = str(settings.get("class_property") or "")
    images = _finder(root, layout)
    found, missing, bad = [], [], []
    counts: dict = {"lines": {}, "unclassified": {}, "colours": {}, "clashes": [], "unread": {}}
    for pid, path in matching_jsons(root, template):
        features, crs = load(path, advice[0])
        if (image := images.get(pid)) is None:
            missing.append(path.name)
            continue
        objects = _objects(features, path, unclassified, bad, counts, prop, advice[1])
        if place is not None:  # SpaceNet's, a cadastre's: map coordinates onto the pixels
            objects = place(objects, image, path, crs)
        found.append((pid, image, path, objects, None))
    raise_all(bad, f"{tool} objects cannot be drawn", "object(s)")
    unfound(layout, missing, f"{tool} files ({template}) without an image of their id in "
            f"{root / layout.images}", "put the images there (a whole-slide format needs its "
            "extension in image_extensions)", f"{tool} files without their image")
    _left_out(counts, unclassified, kind)
    if not found:
        raise DataLayoutError(f"no file matches {layout.section}.{kind}.{FILE_KEYS[kind]} "
                              f"{template!r} under {root} with its image in {layout.images!r}")
    colours = counts["colours"]
    for name, colour, file in counts["clashes"]:
        log.warning("QuPath class %r is %s in %s but %s in %s, seen first: the masks and "
                    "overlays take the first", name, colour, file, *colours[name])
    kept = {name: rgb for name, (rgb, _) in colours.items()}
    warn_colours({n: rgb for n, rgb in kept.items() if not _ignored(n)}, counts["unread"],
                 f"{tool}'s classes")
    return numbered(root, layout, found, tool, None, QupathMasks, dont_care or _ignored, kept)


def _ignored(name: str) -> bool:
    """Whether QuPath leaves a class out of training: a name ending with '*' (its `Ignore*`;
    of a derived class, 'Tumor: Ignore*', the last part's)."""
    return name.endswith("*")


def _left_out(counts: dict, unclassified: str, kind: str) -> None:
    """Say what was not drawn as classified: points and lines, and unclassified objects."""
    def said(by_file: dict) -> str:
        return listing([f"{k} ({v})" for k, v in sorted(by_file.items())])

    if lines := counts["lines"]:
        log.warning("%d point/line (or geometry-less) object(s) cover no area and are left "
                    "out of the masks: %s",
                    sum(lines.values()), said(lines))
    if lone := counts["unclassified"]:
        done = (f"left out ({kind}.unclassified: skip; name a class there to draw them)"
                if unclassified == SKIP else f"drawn as class {unclassified!r} "
                f"({kind}.unclassified)")
        log.warning("%d unclassified object(s) %s: %s", sum(lone.values()), done, said(lone))


def _wholly_outside(polygons: tuple, w: int, h: int) -> bool:
    """Whether no polygon's extent holds a pixel centre of a `w` x `h` image (fill_rings's
    test, per polygon as it draws them: nothing of the object can be drawn there)."""
    # per polygon: a MultiPolygon's parts either side of the image span it jointly
    for rings in polygons:
        pts = np.concatenate(list(rings))  # (n, 2) x, y
        lo, hi = np.ceil(pts.min(axis=0) - 0.5), np.ceil(pts.max(axis=0) - 0.5)
        if not (np.minimum(hi, (w, h)) <= np.maximum(lo, 0)).any():
            return False
    return True


OUTSIDE = ("QuPath writes full-resolution coordinates: pair each GeoJSON with its "
           "full-resolution image, not a downsampled export")  # why, and the fix


def note_outside(jobs: list[tuple[QupathMasks, Path, tuple[int, int]]], tool: str = "QuPath",
                 why: str = OUTSIDE) -> None:
    """Name, in one warning, the GeoJSONs with objects wholly outside their image (masks,
    image, its (w, h) each), `why` saying what that may be for `tool`'s files. Said here,
    before the masks are drawn, not by each worker process for its image."""
    found = []
    for masks, image, (w, h) in jobs:
        if n := sum(_wholly_outside(polygons, w, h) for _, polygons in masks.objects):
            found.append(f"{masks.json.name} ({n} of its {len(masks.objects)} objects; "
                         f"{image.name} is {w}x{h})")
    if found:
        log.warning("%s objects lie wholly outside their image, left out of its mask: %s. %s",
                    tool, listing(found), why)


def write_qupath_mask(masks: QupathMasks, image: Path, size: tuple[int, int],
                      dest: Path, objects: Path | None = None) -> Path:
    """Fill the objects of `image` (of `size` (w, h), its full resolution) in order into
    `dest`, a palette PNG of class numbers (what lies outside the image clipped; note_outside
    names objects wholly outside it), and their ids into `objects` where given."""
    from unet.dataset.class_folders import PALETTE

    out = np.zeros(size[::-1], np.uint8)  # (h, w)
    ids = object_canvas(size, objects)
    for n, (cls, polygons) in enumerate(masks.objects, 1):
        value = value_of(cls, masks.ignore)
        for rings in polygons:  # a MultiPolygon's parts are one object
            fill_rings(out, value, list(rings), ids, id_of(cls, n))
    write_object_ids(objects, ids)
    write_mask_png(dest, out, palette=masks.palette or PALETTE)
    return dest
