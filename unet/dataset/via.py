"""Masks as VGG Image Annotator (VIA) annotations: one JSON for a folder of images (VIA 2's
export, `regions` a list; VIA 1's, `regions` keyed "0", "1", ...; or a project file holding
them under `_via_img_metadata`), drawn into a palette PNG of class numbers when the manifest is
written. Polygons, rectangles, circles and ellipses are filled in the file's order, a later
region over an earlier one, a pixel where its centre lies inside (QuPath's rule); polylines and
points cover no area and are left out. The class is a region attribute's value (a text or
dropdown's string, or a checkbox's one ticked option); values in sorted order (numeric where
every one is an integer) are classes 1, 2, ...; without via.attribute every region is one
class."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unet.common.bad_files import raise_all
from unet.common.maskio import write_mask_png
from unet.common.stems import file_stem
from unet.dataset.image_find import image_finder
from unet.dataset.json_masks import (
    fill_rings,
    id_of,
    numbered,
    object_canvas,
    read_tool_json,
    write_object_ids,
)
from unet.dataset.layout import (
    GROUP,
    DataLayoutError,
    Layout,
    nfc,
    shared_ids,
    source_file,
)
from unet.dataset.names import listing

log = logging.getLogger(__name__)

ONE_CLASS = "object"  # the class name of every region where via.attribute is unset
NO_AREA = ("polyline", "point")  # VIA shapes that fill no pixel: left out


@dataclass(frozen=True)
class ViaMasks:
    """One image's regions, (class, shape, geometry) each in the file's order: a polygon's or
    rectangle's (n, 2) x, y ring, or an ellipse's (cx, cy, rx, ry, theta)."""

    regions: tuple[tuple[int, str, Any], ...]
    size: None  # VIA's `size` is the file's bytes, not the image's width and height
    json: Path
    names: tuple[tuple[int, str], ...]  # (class, attribute value) of every class
    dont_care: tuple[str, ...] = ()  # VIA has no don't-care label: always none
    ignore: int | None = None
    palette: tuple[int, ...] | None = None


def _entries(path: Path) -> list[dict]:
    """The image entries of a VIA JSON (an export or a project), refused by name otherwise."""
    data = read_tool_json(path, "export it again from VIA (Annotation > Export Annotations "
                                "(as json))")
    if isinstance(data, dict) and {"project", "file", "metadata"} <= data.keys():
        raise DataLayoutError(
            f"{path} is a VIA 3 project (its 'file' and 'metadata'), which is not read; export "
            "the annotations as COCO and set coco.json to it, or annotate in VIA 2")
    if isinstance(data, dict) and isinstance(data.get("_via_img_metadata"), dict):
        data = data["_via_img_metadata"]  # a project file: the export inside it
    if not isinstance(data, dict) or not all(
            isinstance(e, dict) and isinstance(e.get("filename"), str) for e in data.values()):
        raise DataLayoutError(f"{path} is not a VIA JSON: it has no entries with a 'filename' "
                              "and 'regions'; export it with Annotation > Export Annotations "
                              "(as json)")
    return list(data.values())


def _regions(entry: dict) -> list:
    """An entry's regions in order: VIA 2's list, or VIA 1's dict keyed "0", "1", ..."""
    regions = entry.get("regions") or []
    if isinstance(regions, dict):
        return [regions[k] for k in sorted(regions, key=lambda k: (len(k), k))]
    if not isinstance(regions, list):
        raise ValueError("its 'regions' is neither a list nor VIA 1's dict")
    return regions


def _numbers(attrs: dict, *keys: str) -> list[float]:
    """The shape attributes `keys`, each a finite number."""
    values = [attrs.get(k) for k in keys]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
               for v in values):
        raise ValueError(f"a {attrs.get('name')} whose {', '.join(keys)} are not all numbers")
    return [float(v) for v in values]


def _shape(attrs: Any) -> tuple[str, Any] | None:
    """(kind, geometry) of a region's shape_attributes; None where it covers no area."""
    kind = attrs.get("name") if isinstance(attrs, dict) else None
    if kind in ("polygon", "polyline"):
        xs, ys = attrs.get("all_points_x"), attrs.get("all_points_y")
        if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
            raise ValueError(f"a {kind} whose all_points_x and all_points_y differ in length")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in xs + ys):
            raise ValueError(f"a {kind} whose points are not all numbers")
        if kind == "polyline" or len(xs) < 3:
            return None
        return "polygon", np.column_stack([xs, ys]).astype(np.float64)  # (n, 2) x, y
    if kind == "rect":
        x, y, w, h = _numbers(attrs, "x", "y", "width", "height")
        ring = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
        return ("polygon", ring) if w > 0 and h > 0 else None
    if kind in ("circle", "ellipse"):
        if kind == "circle":
            cx, cy, rx = _numbers(attrs, "cx", "cy", "r")
            ry, theta = rx, 0.0
        else:  # VIA 1 wrote no theta
            cx, cy, rx, ry = _numbers(attrs, "cx", "cy", "rx", "ry")
            theta = _numbers({"theta": attrs.get("theta", 0), "name": kind}, "theta")[0]
        return ("ellipse", (cx, cy, rx, ry, theta)) if rx > 0 and ry > 0 else None
    if kind in NO_AREA:
        return None
    raise ValueError(f"a shape {kind!r}, none of polygon, rect, circle, ellipse, polyline, point")


def _label(attrs: Any, attribute: str) -> str | None:
    """A region's class: the attribute's text, or its one ticked checkbox; None where unset."""
    value = attrs.get(attribute) if isinstance(attrs, dict) else None
    if isinstance(value, dict):  # checkboxes: {"cat": true, "dog": false}
        ticked = sorted(k for k, on in value.items() if on)
        if len(ticked) > 1:
            raise ValueError(f"{attribute!r} has {' and '.join(map(repr, ticked))} ticked, "
                             "but a pixel takes one class")
        return ticked[0] if ticked else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if value is None or isinstance(value, str):
        return value if value and value.strip() else None
    raise ValueError(f"{attribute!r} is {value!r}, neither text nor checkboxes")


def _drawn(entry: dict, settings: dict, bad: list, counts: dict, where: str) -> list:
    """An entry's area regions (class name, kind, geometry) in order; unusable ones added to
    `bad`, those without area or class, and attributes seen, noted in `counts`."""
    attribute, unlabelled = settings["attribute"], settings["unlabelled"]
    name, found = entry["filename"], []
    try:
        regions = _regions(entry)
    except ValueError as err:
        bad.append((f"{where}:{name}", DataLayoutError(f"{where}: {name} ({err})")))
        return []
    for n, region in enumerate(regions):
        region = region if isinstance(region, dict) else {}
        attrs = region.get("region_attributes")
        counts["seen"].update(attrs if isinstance(attrs, dict) else ())
        try:
            shape = _shape(region.get("shape_attributes"))
            label = _label(attrs, attribute) if attribute else unlabelled or ONE_CLASS
        except ValueError as err:
            bad.append((f"{where}:{name}:{n:06d}", DataLayoutError(
                f"{where}: {name} region {n} ({err}); fix or remove it in VIA")))
            continue
        tally = "no_area" if shape is None else "unlabelled" if label is None else None
        if tally:
            counts[tally][name] = counts[tally].get(name, 0) + 1
        if shape is not None and (label or unlabelled):
            found.append((label or unlabelled, *shape))
    return found


def pair_via(root: Path, layout: Layout) -> list[tuple[str, Path, ViaMasks]]:
    """(id, image, its regions) for every image the VIA JSON lists, the id its stem; a listed
    image not in the images folder is refused (or skipped with allow_unpaired), images there
    it does not list are named in a warning and left out."""
    settings = {"attribute": "", "unlabelled": "", **dict(layout.via or ())}
    if GROUP in layout.images:
        raise DataLayoutError(f"{layout.section}.via with {GROUP} folders is not supported: "
                              "give images one folder and via.json the one JSON for it")
    path = source_file(root, layout, settings["json"])
    if not path.is_file():
        raise DataLayoutError(f"{layout.section}.via.json: no file {path}; give the VIA "
                              "export's path inside the data folder")
    find, img_dir = image_finder(root / layout.images, layout, path), root / layout.images
    found, missing, bad, ids, twice = [], [], [], {}, []
    counts: dict = {"no_area": {}, "unlabelled": {}, "seen": set()}
    for entry in _entries(path):
        if (image := find(entry["filename"])) is None:
            missing.append(entry["filename"])
            continue
        regions = _drawn(entry, settings, bad, counts, str(path))
        if (pid := nfc(file_stem(image))) in ids:
            twice.append((str(image), DataLayoutError(
                f"{path} lists {ids[pid]} and {image}, one id {pid!r}; remove one entry")))
            continue
        ids[pid] = image
        found.append((pid, image, path, regions, None))
    shared_ids(twice)
    raise_all(bad, "VIA regions cannot be drawn", "region(s)")
    _refuse_unlabelled(path, settings, counts)
    _unfound(path, img_dir, layout, missing)
    _note(found, counts, settings["attribute"])
    return numbered(root, layout, found, "VIA", None, ViaMasks, lambda _: False)


def _refuse_unlabelled(path: Path, settings: dict, counts: dict) -> None:
    """Refuse the regions without via.attribute's class, by file, unless via.unlabelled
    names their class (a region of no class would be drawn as background, or not at all)."""
    lone, attribute = counts["unlabelled"], settings["attribute"]
    if not lone or settings["unlabelled"]:
        return
    seen = ", ".join(map(repr, sorted(counts["seen"]))) or "none"
    raise DataLayoutError(
        f"{path}: {sum(lone.values())} region(s) without a value of attribute {attribute!r}: "
        f"{listing([f'{k} ({v})' for k, v in sorted(lone.items())])} (region attributes "
        f"found: {seen}); give them a class in VIA, set via.attribute to the attribute "
        "holding the class, or via.unlabelled to the class to draw them as")


def _unfound(path: Path, img_dir: Path, layout: Layout, missing: list[str]) -> None:
    """Refuse (or, with allow_unpaired, name) the listed images not in the images folder."""
    if missing and not layout.allow_unpaired:
        raise DataLayoutError(
            f"images {path.name} lists that are not in {img_dir}: {listing(missing)}; set "
            f"{layout.section}.images to their folder, or {layout.section}.allow_unpaired: "
            "true to skip them")
    if missing:
        log.warning("skipping images %s lists that are not in %s: %s", path.name, img_dir,
                    listing(missing))


def _note(found: list, counts: dict, attribute: str) -> None:
    """Refuse a JSON listing no image found; warn of regions of no area, of images without
    regions (all background), and of attributes left unread where via.attribute is unset."""
    if not found:
        raise DataLayoutError("the VIA JSON lists no image that is in the images folder")
    if no_area := counts["no_area"]:
        log.warning("%d polyline/point region(s) cover no area and are left out of the masks "
                    "(draw a polygon to fill one): %s", sum(no_area.values()),
                    listing([f"{k} ({v})" for k, v in sorted(no_area.items())]))
    if empty := [pid for pid, _, _, regions, _ in found if not regions]:
        log.warning("%d of %d images the VIA JSON lists have no region, so their masks are "
                    "all background: %s. If nobody annotated them, leave them out with "
                    "split.exclude_ids", len(empty), len(found), listing(sorted(empty)))
    if not attribute and counts["seen"]:  # a class per value was likely meant
        log.warning("VIA regions carry attribute(s) %s, which via.attribute does not name, "
                    "so every region is one class; set via.attribute to the one holding the "
                    "class for a class per value", ", ".join(map(repr, sorted(counts["seen"]))))


def _fill_ellipse(out: np.ndarray, cls: int, cx: float, cy: float, rx: float, ry: float,
                  theta: float) -> None:
    """Set to `cls` the pixels of `out` (h, w) whose centres lie inside the ellipse, turned
    by `theta` radians (clockwise on screen, as VIA's canvas draws it)."""
    h, w = out.shape
    reach = max(rx, ry)
    y0, y1 = max(0, math.floor(cy - reach)), min(h, math.ceil(cy + reach))
    x0, x1 = max(0, math.floor(cx - reach)), min(w, math.ceil(cx + reach))
    if y0 >= y1 or x0 >= x1:
        return
    dy, dx = np.ogrid[y0:y1, x0:x1]
    dx, dy = dx + 0.5 - cx, dy + 0.5 - cy  # from the centre to each pixel centre
    u = dx * math.cos(theta) + dy * math.sin(theta)  # along rx
    v = dy * math.cos(theta) - dx * math.sin(theta)  # along ry
    out[y0:y1, x0:x1][(u / rx) ** 2 + (v / ry) ** 2 <= 1] = cls


def write_via_mask(masks: ViaMasks, image: Path, size: tuple[int, int], dest: Path,
                   objects: Path | None = None) -> Path:
    """Fill the regions of `image` (of `size` (w, h)) in order into `dest`, a palette PNG of
    class numbers, what lies beyond the image clipped; their ids into `objects` where given."""
    from unet.dataset.class_folders import PALETTE

    out = np.zeros(size[::-1], np.uint8)  # (h, w)
    ids = object_canvas(size, objects)
    for n, (cls, kind, geometry) in enumerate(masks.regions, 1):
        if kind == "ellipse":
            _fill_ellipse(out, cls, *geometry)
            if ids is not None:  # the same pixels: the ellipse drawn again in its id
                _fill_ellipse(ids, id_of(cls, n), *geometry)
        else:
            fill_rings(out, cls, [geometry], ids, id_of(cls, n))
    write_object_ids(objects, ids)
    write_mask_png(dest, out, palette=masks.palette or PALETTE)
    return dest
