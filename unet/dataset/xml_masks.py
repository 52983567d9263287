"""Masks as polygon annotations in XML, one file per image, in full-resolution pixel
coordinates: Aperio ImageScope's (<Annotations><Annotation Name=..><Regions><Region Type=..>
<Vertices><Vertex X= Y=/>: MoNuSeg, every nucleus a region) and ASAP's (<ASAP_Annotations>
<Annotations><Annotation PartOfGroup=.. Type=Polygon><Coordinates><Coordinate Order= X= Y=/>:
CAMELYON16, PAIP), drawn into a palette PNG of class numbers when the manifest is written.
An Aperio region's class is its Annotation's (the layer's Name, its Id where unnamed, or the
value of the Attribute xml.attribute names), its negative regions (NegativeROA="1") cut holes
in that layer's; an ASAP polygon's class is its PartOfGroup. xml.labels renames labels, or
makes them background or don't-care (CAMELYON16's `_2`, an exclusion inside tumour): those
are drawn after every class's, cutting what they cover. Labels in sorted (numeric) order are
classes 1, 2, ... over all files; regions are filled at pixel centres as QuPath's are."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from unet.common.bad_files import raise_all
from unet.common.maskio import write_mask_png
from unet.dataset.json_masks import (
    fill_rings,
    id_of,
    json_template,
    matching_jsons,
    numbered,
    object_canvas,
    unfound,
    value_of,
    write_object_ids,
)
from unet.dataset.layout import DataLayoutError, Layout, files_by_stem, nfc
from unet.dataset.names import listing

log = logging.getLogger(__name__)

CUT = ("background", "ignore")  # xml.labels' values that are no class
BACKGROUND = "\0background"  # the label of regions xml.labels makes background: class 0
AREAS = {"Polygon", "Rectangle", "Spline"}  # ASAP types with an area (Dot, PointSet: none)
APERIO = {"0": "polygon", "1": "polygon", "2": "ellipse"}  # ImageScope's Region Type codes


@dataclass(frozen=True)
class XmlMasks:
    """One image's objects, (class, regions, cuts) each in drawing order, a region an (n, 2)
    x, y ring; cuts (Aperio's negative regions) are holes in that object's regions."""

    objects: tuple[tuple[int, tuple[np.ndarray, ...], tuple[np.ndarray, ...]], ...]
    size: None  # as QupathMasks: the XML gives no image size
    json: Path  # the XML (download's mask_from)
    names: tuple[tuple[int, str], ...]
    dont_care: tuple[str, ...] = ()  # labels xml.labels makes `ignore`
    ignore: int | None = None
    palette: tuple[int, ...] | None = None


def _read(path: Path) -> ElementTree.Element:
    """The XML's root, refused by name where it is not XML."""
    try:
        return ElementTree.parse(path).getroot()
    except ElementTree.ParseError as err:
        raise DataLayoutError(f"{path} is not well-formed XML ({err}); save it again from "
                              "ImageScope or ASAP") from None


def _number(node: ElementTree.Element, key: str, where: str) -> float:
    """A coordinate attribute as a finite number, refused at `where` otherwise."""
    text = node.get(key)
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{where}: {node.tag} {key}={text!r} is not a number")
    return value


def _points(nodes: list[ElementTree.Element], where: str, order: bool = False) -> np.ndarray:
    """The (n, 2) x, y of vertex elements (`order`: sorted by their Order attribute, ASAP's)."""
    if order:
        nodes = sorted(nodes, key=lambda n: _number(n, "Order", where))
    return np.array([[_number(n, "X", where), _number(n, "Y", where)] for n in nodes],
                    np.float64).reshape(-1, 2)


def _ellipse(corners: np.ndarray) -> np.ndarray:
    """The ellipse inscribed in the box of `corners` as a polygon fine enough that no pixel
    centre it holds differs (a vertex per pixel of its perimeter, at least 32)."""
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    rx, ry = (x1 - x0) / 2, (y1 - y0) / 2
    t = np.linspace(0, 2 * np.pi, max(32, math.ceil(2 * np.pi * max(rx, ry))), endpoint=False)
    return np.stack([x0 + rx + rx * np.cos(t), y0 + ry + ry * np.sin(t)], axis=1)


def _region(region: ElementTree.Element, where: str) -> np.ndarray | None:
    """An Aperio region's ring, None for one without area (arrow, ruler: Type 3 and up; a
    polygon of fewer than 3 vertices, an ellipse of fewer than 2: a click ImageScope kept)."""
    shape = APERIO.get(region.get("Type", "0"))
    if shape is None:
        return None
    vertices = region.find("Vertices")
    if vertices is None:
        raise ValueError(f"{where}: no <Vertices>")
    ring = _points(vertices.findall("Vertex"), where)
    if shape == "ellipse":
        return _ellipse(ring) if len(ring) >= 2 else None
    return ring if len(ring) >= 3 else None  # as VIA's and LabelMe's: skipped, counted


def _aperio_label(ann: ElementTree.Element, n: int, attribute: str, where: str) -> str:
    """An Aperio annotation's label: the Attribute `attribute`'s Value, else its Name, else
    its one Attribute's Name (MoNuSAC's), else its Id (ImageScope's layer number; MoNuSeg's
    one unnamed layer)."""
    if attribute:
        found = [a.get("Value") for a in ann.iterfind("Attributes/Attribute")
                 if a.get("Name") == attribute]
        if not found or not (found[0] or "").strip():
            raise ValueError(f"{where}: no <Attribute Name={attribute!r}> with a Value "
                             "(xml.attribute); give it one, or set xml.attribute: '' for "
                             "the layer's Name")
        return found[0].strip()
    return (ann.get("Name") or "").strip() or _typed(ann) or ann.get("Id") or str(n + 1)


def _typed(ann: ElementTree.Element) -> str:
    """An unnamed layer's one Attribute's Name where its Value is empty and the Name is not
    ImageScope's default Description: MoNuSAC's nucleus type (Epithelial, Lymphocyte, ...),
    whose layer Ids are numbered per file and so name no class; else ''."""
    attrs = ann.findall("Attributes/Attribute")
    if len(attrs) != 1 or (attrs[0].get("Value") or "").strip():
        return ""
    name = (attrs[0].get("Name") or "").strip()
    return "" if name == "Description" else name


def _aperio(root: ElementTree.Element, path: Path, attribute: str, bad: list,
            counts: dict) -> list:
    """An ImageScope XML's (label, regions, negative regions), one per Annotation."""
    found = []
    for n, ann in enumerate(root.iterfind("Annotation")):
        name = f"{path}: Annotation Id={ann.get('Id', n + 1)}"
        try:
            label = _aperio_label(ann, n, attribute, name)
        except ValueError as err:
            bad.append((f"{path}:{n:06d}", DataLayoutError(str(err))))
            continue
        regions: tuple[list, list] = ([], [])
        for k, region in enumerate(ann.iterfind("Regions/Region")):
            where = f"{name} Region Id={region.get('Id', k + 1)}"
            try:
                ring = _region(region, where)
            except ValueError as err:
                bad.append((f"{path}:{n:06d}:{k:06d}", DataLayoutError(
                    f"{err}; fix or remove that region in ImageScope")))
                continue
            if ring is None:
                counts[path.name] = counts.get(path.name, 0) + 1
                continue
            regions[region.get("NegativeROA") == "1"].append(ring)
        if regions[0]:
            found.append((label, tuple(regions[0]), tuple(regions[1])))
    return found


def _asap(root: ElementTree.Element, path: Path, bad: list, counts: dict) -> list:
    """An ASAP XML's (group, (polygon,), ()), one per area Annotation in the file's order."""
    found = []
    for n, ann in enumerate(root.iterfind("Annotations/Annotation")):
        where = f"{path}: Annotation Name={ann.get('Name', n)!r}"
        if ann.get("Type") not in AREAS:
            counts[path.name] = counts.get(path.name, 0) + 1
            continue
        try:
            coords = ann.find("Coordinates")
            if coords is None:
                raise ValueError(f"{where}: no <Coordinates>")
            ring = _points(coords.findall("Coordinate"), where, order=True)
        except ValueError as err:
            bad.append((f"{path}:{n:06d}", DataLayoutError(f"{err}; fix or remove it in ASAP")))
            continue
        if len(ring) < 3:  # no area, as a dot: skipped and counted
            counts[path.name] = counts.get(path.name, 0) + 1
            continue
        found.append((ann.get("PartOfGroup") or "None", (ring,), ()))
    return found


def _objects(path: Path, attribute: str, bad: list, counts: dict) -> list:
    """A file's (label, regions, cuts) by its kind, refused by name where it is neither."""
    root = _read(path)
    if root.tag == "Annotations":
        return _aperio(root, path, attribute, bad, counts)
    if root.tag == "ASAP_Annotations":
        return _asap(root, path, bad, counts)
    raise DataLayoutError(f"{path} is <{root.tag}>, neither Aperio ImageScope's <Annotations> "
                          "nor ASAP's <ASAP_Annotations>: export it from either")


def _relabelled(objects: list, labels: dict[str, str]) -> list:
    """`objects` with xml.labels' new names (background: BACKGROUND; ignore: kept, for
    numbered's don't-care), those made background or don't-care moved after the others
    (stably): they cut what they cover."""
    def name(label: str) -> str:
        to = labels.get(label, label)
        return BACKGROUND if to == "background" else label if to == "ignore" else to

    cut = [labels.get(o[0]) in CUT for o in objects]
    return [(name(o[0]), *o[1:]) for o, _ in sorted(zip(objects, cut, strict=True),
                                                     key=lambda oc: oc[1])]


def pair_xml(root: Path, layout: Layout) -> list[tuple[str, Path, XmlMasks]]:
    """(id, image, its objects) for every XML xml.file matches, its image the one in the
    images folder whose stem (or file name) is its {id}; one without it is refused (or
    skipped with allow_unpaired)."""
    template = json_template(layout, "xml")
    settings = dict(layout.xml or ())
    attribute = str(settings.get("attribute") or "")
    labels = {str(k): str(v) for k, v in dict(settings.get("labels") or {}).items()}
    folder = root / layout.images
    by_stem = files_by_stem(folder, layout.image_extensions, layout.recursive) \
        if folder.is_dir() else {}
    images = {**{nfc(p.name): p for p in by_stem.values()}, **by_stem}
    found, missing, bad, counts = [], [], [], {}
    for pid, path in matching_jsons(root, template):
        objects = _objects(path, attribute, bad, counts)
        if (image := images.get(pid)) is None:
            missing.append(path.name)
            continue
        found.append((pid, image, path, _relabelled(objects, labels), None))
    raise_all(bad, "XML annotations cannot be drawn", "region(s)")
    unfound(layout, missing, f"XML annotations ({template}) without an image of their id in "
            f"{root / layout.images}", "put the images there (a whole-slide format needs its "
            "extension in image_extensions)", "XML annotations without their image")
    if counts:
        log.warning("%d arrow, ruler or point annotation(s), or region(s) of fewer than 3 "
                    "points, cover no area and are left out of the masks: %s", sum(counts.values()),
                    listing([f"{k} ({v})" for k, v in sorted(counts.items())]))
    if not found:
        raise DataLayoutError(f"no XML matches {layout.section}.xml.file {template!r} under "
                              f"{root} with its image in {layout.images!r}")
    ignored = {k for k, v in labels.items() if v == "ignore"}
    return numbered(root, layout, found, "XML", BACKGROUND, XmlMasks, ignored.__contains__)


def write_xml_mask(masks: XmlMasks, image: Path, size: tuple[int, int], dest: Path,
                   objects: Path | None = None) -> Path:
    """Fill the objects of `image` (of `size` (w, h), its full resolution) in order into
    `dest`, a palette PNG of class numbers, each object's cuts holes in its own regions; the
    ids of their regions (MoNuSeg's nuclei are regions of one annotation) into `objects`
    where given."""
    from unet.dataset.class_folders import PALETTE

    out = np.zeros(size[::-1], np.uint8)  # (h, w)
    ids, count = object_canvas(size, objects), 0
    for cls, regions, cuts in masks.objects:
        value = value_of(cls, masks.ignore)
        if not cuts:
            for ring in regions:
                count += 1
                fill_rings(out, value, [ring], ids, id_of(cls, count))
            continue
        # drawn apart within the regions' box (a slide is large), the cuts then cleared
        pts = np.concatenate(regions)
        lo = np.clip(np.floor(pts.min(axis=0)), 0, size).astype(np.int64)
        hi = np.clip(np.ceil(pts.max(axis=0)) + 1, 0, size).astype(np.int64)
        if (hi <= lo).any():
            continue
        scratch = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), np.uint32)  # region k's pixels: k
        for k, ring in enumerate(regions, 1):
            fill_rings(scratch, k, [ring - lo])
        for ring in cuts:
            fill_rings(scratch, 0, [ring - lo])
        out[lo[1]:hi[1], lo[0]:hi[0]][scratch > 0] = value
        if ids is not None:  # region k is object count + k (none for background, don't-care)
            drawn = scratch > 0
            ids[lo[1]:hi[1], lo[0]:hi[0]][drawn] = scratch[drawn] + count if id_of(cls, 1) else 0
        count += len(regions)
    write_object_ids(objects, ids)
    write_mask_png(dest, out, palette=masks.palette or PALETTE)
    return dest
