"""Masks as LabelMe annotations: one JSON per image (wkentaro/labelme's `a.json` beside
`a.jpg`), its `shapes` drawn into a palette PNG of class numbers when the manifest is written.
Polygons, rectangles, circles and bitmaps (`mask`) are filled in the file's order, a later
shape over an earlier one, as LabelMe's own labelme_json_to_dataset paints them; lines and
points cover no area and are left out. Labels in sorted order are classes 1, 2, ...
(`_background_`, LabelMe's own name for it, is class 0); `__ignore__`, which LabelMe's
semantic segmentation example makes -1 (don't-care), is drawn as masks.ignore's value."""

from __future__ import annotations

import base64
import binascii
import io
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from unet.common.bad_files import raise_all
from unet.common.maskio import write_mask_png
from unet.dataset.json_masks import (
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
from unet.dataset.layout import DataLayoutError, Layout, on_disk
from unet.dataset.names import listing

log = logging.getLogger(__name__)

AREAS = ("polygon", "rectangle", "circle", "mask")  # shape types that fill pixels
BACKGROUND = "_background_"  # LabelMe's name for class 0
IGNORE = "__ignore__"  # LabelMe's name for don't-care pixels


@dataclass(frozen=True)
class LabelmeMasks:
    """One image's shapes, (class, shape type, points, bitmap) each in the file's order, and
    the size (width, height) its JSON gives."""

    shapes: tuple[tuple[int, str, tuple, str | None], ...]
    size: tuple[int, int] | None
    json: Path
    names: tuple[tuple[int, str], ...]  # (class, label) of every class
    dont_care: tuple[str, ...] = ()  # the labels drawn as masks.ignore's value (__ignore__)
    ignore: int | None = None  # masks.ignore, which the download gives where they are any
    palette: tuple[int, ...] | None = None  # the written PNG's: the tool's class colours


def _load(path: Path) -> dict:
    """A LabelMe JSON, refused by name where it is not one."""
    data = read_tool_json(path, "save it again from LabelMe")
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise DataLayoutError(f"{path} has no 'shapes' list: not a LabelMe JSON")
    return data


def _check_shape(shape: Any) -> str | None:
    """Why a shape cannot be drawn, or None."""
    if not isinstance(shape, dict) or not isinstance(shape.get("label"), str):
        return "no 'label'"
    points = shape.get("points")
    if not isinstance(points, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float) for v in p)
            for p in points):
        return "'points' is not a list of [x, y]"
    kind = shape.get("shape_type") or "polygon"  # LabelMe before 3.0 wrote none
    if kind in ("rectangle", "circle", "mask") and len(points) != 2 and not (
            kind == "rectangle" and len(points) == 4):
        corners = ", or its 4 corners" if kind == "rectangle" else ""
        return f"a {kind} of {len(points)} points (2 expected{corners})"
    if kind == "mask" and not isinstance(shape.get("mask"), str):
        return "a mask without its 'mask' bitmap"
    return None


def _image(root: Path, layout: Layout, path: Path, image_path: str) -> Path | None:
    """The image a JSON names: its imagePath relative to the JSON's folder ('\\' as written
    on Windows read as '/'), else a file of that name beside the JSON or in the images folder
    (a folder moved since, or an absolute path of another machine)."""
    name = image_path.replace("\\", "/")
    base = name.rsplit("/", 1)[-1]
    for candidate in (path.parent / name, path.parent / base, root / layout.images / base):
        found = on_disk(Path(os.path.normpath(candidate)))  # '../images/a.jpg' spelt plain
        if base and found.is_file():
            return found
    return None


def _shapes(data: dict, path: Path, bad: list, drawn_not: dict) -> list[tuple]:
    """A JSON's area shapes (label, type, points, bitmap) in order; unusable ones added to
    `bad`, lines and points counted in `drawn_not` by file."""
    shapes = []
    for n, shape in enumerate(data["shapes"]):
        if why := _check_shape(shape):
            bad.append((f"{path}:{n:06d}", DataLayoutError(
                f"{path}: shape {n} ({why}); fix or remove it in LabelMe")))
            continue
        kind = shape.get("shape_type") or "polygon"
        if kind in ("rectangle", "rotation") and len(shape["points"]) == 4:
            kind = "polygon"  # X-AnyLabeling's 4 corners of a box, rotated or not
        if kind not in AREAS or (kind == "polygon" and len(shape["points"]) < 3):
            drawn_not[path.name] = drawn_not.get(path.name, 0) + 1
            continue
        points = tuple(tuple(float(v) for v in p) for p in shape["points"])
        shapes.append((shape["label"], kind, points, shape.get("mask")))
    return shapes


def pair_labelme(root: Path, layout: Layout) -> list[tuple[str, Path, LabelmeMasks]]:
    """(id, image, its shapes) for every JSON labelme.json matches, the id its {id}; a JSON
    whose image is not found is refused (or skipped with allow_unpaired) unless it holds the
    image in imageData (its image then the JSON itself, labelme_images writes it out), and
    images in the images folder no JSON names are named in a warning."""
    template = json_template(layout, "labelme")
    found, missing, bad, drawn_not = [], [], [], {}
    for pid, path in matching_jsons(root, template):
        data = _load(path)
        image = _image(root, layout, path, str(data.get("imagePath") or ""))
        if image is None and data.get("imageData"):  # the file wins where both are there
            image = path  # held in the JSON: labelme_images writes it out with the manifest
        if image is None:
            missing.append(f"{path.name} ({data.get('imagePath')!r})")
            continue
        size = (data.get("imageWidth"), data.get("imageHeight"))
        found.append((pid, image, path, _shapes(data, path, bad, drawn_not),
                      size if all(isinstance(v, int) for v in size) else None))
    raise_all(bad, "LabelMe shapes cannot be drawn", "shape(s)")
    unfound(layout, missing, f"LabelMe JSONs ({template}) without imageData whose image is not "
            f"found beside them, at their imagePath or in {root / layout.images}",
            "put the images there", "LabelMe JSONs whose image is not found")
    if drawn_not:
        log.warning("%d line/point shape(s) cover no area and are left out of the masks: %s",
                    sum(drawn_not.values()),
                    listing([f"{k} ({v})" for k, v in sorted(drawn_not.items())]))
    if not found:
        raise DataLayoutError(f"no LabelMe JSON matches {layout.section}.labelme.json "
                              f"{template!r} under {root} with its image")
    return numbered(root, layout, found, "LabelMe", BACKGROUND, LabelmeMasks,
                    IGNORE.__eq__)


def _bitmap(encoded: str) -> np.ndarray:
    """A mask shape's base64 PNG as a (h, w) bool array."""
    try:
        with Image.open(io.BytesIO(base64.b64decode(encoded))) as img:
            return np.asarray(img.convert("L")) > 0
    except (binascii.Error, OSError) as err:
        raise ValueError(f"its bitmap is not a base64 PNG ({err})") from None


def _paint(out: np.ndarray, cls: int, kind: str, points: tuple, bitmap: str | None) -> None:
    """Paint one shape of class `cls` into `out` (h, w), over what is there."""
    if kind == "mask":  # a bitmap whose top left pixel is the box's first corner
        x0, y0 = (int(v) for v in points[0])
        m = _bitmap(bitmap or "")
        h, w = out.shape
        m = m[max(0, -y0):max(0, h - y0), max(0, -x0):max(0, w - x0)]
        region = out[max(0, y0):max(0, y0) + m.shape[0], max(0, x0):max(0, x0) + m.shape[1]]
        region[m[:region.shape[0], :region.shape[1]]] = cls
        return
    if kind == "rectangle":  # corners in any order: Pillow takes top left first
        (xa, ya), (xb, yb) = points
        box = [min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)]
    elif kind == "circle":  # its centre, then a point on its rim
        (cx, cy), (px, py) = points
        r = math.hypot(cx - px, cy - py)
        box = [cx - r, cy - r, cx + r, cy + r]
    else:
        box = [min(p[0] for p in points), min(p[1] for p in points),
               max(p[0] for p in points), max(p[1] for p in points)]
    # a canvas of the shape's rows (2 more for the outline), not of the whole image: a full
    # one per shape cost 75 ms on a 12 MP photo. Only y moves, by a whole number (exact for
    # y >= y0 >= 0): Pillow's edge crossings of a row then come out as on the whole image.
    h, w = out.shape
    y0, y1 = max(0, math.floor(box[1]) - 2), min(h, math.ceil(box[3]) + 3)
    if y0 >= y1:
        return  # wholly above or below the image
    canvas = Image.new("1", (w, y1 - y0))
    draw = ImageDraw.Draw(canvas)
    if kind in ("rectangle", "circle"):
        shifted = [box[0], box[1] - y0, box[2], box[3] - y0]
        (draw.rectangle if kind == "rectangle" else draw.ellipse)(shifted, fill=1, outline=1)
    else:
        draw.polygon([(x, y - y0) for x, y in points], fill=1, outline=1)
    out[y0:y1][np.asarray(canvas)] = cls


def write_labelme_mask(masks: LabelmeMasks, image: Path, size: tuple[int, int],
                       dest: Path, objects: Path | None = None) -> Path:
    """Paint the shapes of `image` (of `size` (w, h)) in order into `dest`, a palette PNG of
    class numbers, and their ids into `objects` where given; a JSON giving another size than
    the image's is refused."""
    from unet.dataset.class_folders import PALETTE

    if masks.size is not None and tuple(masks.size) != tuple(size):
        raise DataLayoutError(
            f"{masks.json} gives imageWidth x imageHeight {masks.size[0]}x{masks.size[1]}, but "
            f"{image} is {size[0]}x{size[1]}: annotated on another image or a resized copy; "
            "open the image in LabelMe and save its JSON again")
    out = np.zeros(size[::-1], np.uint8)  # (h, w)
    ids = object_canvas(size, objects)
    for n, (cls, kind, points, bitmap) in enumerate(masks.shapes):
        try:
            _paint(out, value_of(cls, masks.ignore), kind, points, bitmap)
            if ids is not None:  # the same pixels: painted again, in the shape's id
                _paint(ids, id_of(cls, n + 1), kind, points, bitmap)
        except ValueError as err:
            raise DataLayoutError(f"{masks.json}: a {kind} shape ({n + 1} of its drawn ones) "
                                  f"cannot be drawn: {err}; fix or remove it") from None
    write_object_ids(objects, ids)
    write_mask_png(dest, out, palette=masks.palette or PALETTE)
    return dest
