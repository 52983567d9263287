"""Masks as COCO annotations: one JSON of images, categories and objects (polygons or run-length
encodings), as COCO itself, LIVECell and Roboflow's "COCO Segmentation" export give them. Each
image's objects are drawn into a palette PNG of class numbers when the manifest is written
(category ids in ascending order are classes 1, 2, ..., Roboflow's workspace category none;
larger objects first, so a small one lying on a larger one stays visible); pycocotools draws
the polygons."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unet.common.bad_files import raise_all
from unet.common.decoders import ROTATED
from unet.common.imageio import exif_orientation
from unet.common.maskio import write_mask_png
from unet.common.stems import file_stem
from unet.dataset.coco_checks import (
    category_colours,
    class_numbers,
    far_error,
    load_coco,
    outside,
    span,
)
from unet.dataset.image_find import image_finder
from unet.dataset.json_masks import id_of, object_canvas, write_object_ids
from unet.dataset.layout import DataLayoutError, Layout, files_with, nfc, shared_ids, source_file
from unet.dataset.names import listing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CocoMasks:
    """One image's objects: (class, segmentation, annotation id) each, and its size in the
    JSON."""

    objects: tuple[tuple[int, Any, Any], ...]
    size: tuple[int, int] | None  # (width, height) the annotations were drawn on, if given
    json: Path
    names: tuple[tuple[int, str], ...]  # (class, category name) of every class
    colours: tuple[tuple[int, tuple[int, int, int]], ...] = ()  # (class, its category's colour)


def pair_coco(root: Path, layout: Layout) -> list[tuple[str, Path, CocoMasks]]:
    """(id, image, its objects) for every image the JSON lists; an image listed but not on
    disk is refused (or skipped with allow_unpaired), and images on disk the JSON does not
    list are named in a warning."""
    settings, section = dict(layout.coco or ()), layout.section
    path = source_file(root, layout, settings["json"])
    data = load_coco(path, section)
    # Ids by their string form (exports write them as numbers in one list, strings in the
    # other), in ascending order: numbers by value, then strings
    classes, named = class_numbers(data, path)
    colours = category_colours(data, classes, path)
    objects = _objects(data, path, classes)
    img_dir = root / layout.images
    on_disk = files_with(img_dir, layout.image_extensions, layout.recursive)
    find = image_finder(img_dir, layout, path, "COCO file_name", on_disk)
    pairs, missing, ids, twice = [], [], {}, []
    for im in data["images"]:
        image = find(im["file_name"])
        if image is None:
            missing.append(im["file_name"])
            continue
        stem = nfc(file_stem(image))
        if stem in ids:
            twice.append((str(image), DataLayoutError(f"{ids[stem]} and {image} would have the "
                                                      f"same id {stem!r}; rename or remove one")))
            continue
        ids[stem] = image
        size = (im["width"], im["height"]) if "width" in im and "height" in im else None
        masks = CocoMasks(tuple(objects.get(str(im["id"]), ())), size, path, named, colours)
        pairs.append((stem, image, masks))
    shared_ids(twice)
    if missing and not layout.allow_unpaired:
        raise DataLayoutError(
            f"images {path.name} lists that are not in {img_dir}: {listing(missing)}; set "
            f"{section}.images to their folder, or {section}.allow_unpaired: true to skip them")
    if missing:
        log.warning("skipping images %s lists that are not in %s: %s", path.name, img_dir,
                    listing(missing))
    listed = {p[1].resolve() for p in pairs}
    unlisted = [p.name for p in on_disk if p.resolve() not in listed]
    if unlisted:
        log.warning("%s holds images that %s does not list (not used): %s", img_dir,
                    path.name, listing(unlisted))
    if not pairs:
        raise DataLayoutError(f"no image {path.name} lists is in {img_dir}")
    return sorted(pairs, key=lambda p: p[0])


def note_empty(pairs: list[tuple[str, Path, CocoMasks]]) -> None:
    """Name the images the JSON lists without an object (their masks all background): an
    export of every frame (CVAT's) lists frames nobody annotated, which would teach the model
    that what they show is background."""
    empty = [pid for pid, _, masks in pairs if not masks.objects]
    if empty:
        log.warning("%d of %d images the COCO JSON lists have no object, so their masks are "
                    "all background: %s. If nobody annotated them (CVAT exports every frame "
                    "of a task), leave them out with split.exclude_ids", len(empty),
                    len(pairs), listing(empty))


def _objects(data: dict, path: Path, classes: dict[str, int]) -> dict[str, list]:
    """Each image's objects (class, segmentation, annotation id) by its id as a string:
    exports write ids as numbers in one list and as strings in the other. Objects without a
    shape, and those of an image id that 'images' does not list, are named in a warning."""
    objects: dict[str, list] = {}
    shapeless, unknown = 0, []
    for n, a in enumerate(data["annotations"]):
        if str(a["category_id"]) not in classes:  # all named at once, not one per rerun
            unknown.append((f"{n:09d}", DataLayoutError(
                f"{path}: annotation {a.get('id')} has category {a['category_id']}, which "
                "'categories' does not list; add the category, or fix or remove the annotation")))
            continue
        segmentation = a.get("segmentation")
        if isinstance(segmentation, list) and segmentation and all(
                isinstance(n, int | float) for n in segmentation):
            segmentation = [segmentation]  # one polygon written flat, [x, y, ...]
        if not _has_shape(segmentation):
            shapeless += 1
            continue
        objects.setdefault(str(a["image_id"]), []).append(
            (classes[str(a["category_id"])], segmentation, a.get("id")))
    raise_all(unknown, f"annotations of {path.name} have a category it does not list",
              "annotation(s)")
    if shapeless:
        log.warning("%d objects of %s have no shape (no segmentation, or polygons of under 3 "
                    "points: boxes only) and are left out of the masks", shapeless, path.name)
    stray = sorted(set(objects) - {str(im["id"]) for im in data["images"]})
    if stray:
        log.warning("%d objects of %s belong to image ids that its 'images' does not list "
                    "(left out): %s", sum(len(objects[i]) for i in stray), path.name,
                    listing(stray))
    return objects


def _has_shape(segmentation: Any) -> bool:
    """Whether a segmentation draws anything: an encoding, or a polygon of 3 points or more."""
    if isinstance(segmentation, dict):
        return True
    return isinstance(segmentation, list) and any(
        isinstance(p, list) and len(p) >= 6 for p in segmentation)


def _counts(counts: str) -> list[int]:
    """COCO's compressed counts as whole numbers: each a little-endian run of 5-bit groups
    (character - 48; bit 0x20: another group follows, bit 0x10 of the last: negative), from
    the third on a difference to the count two back."""
    out: list[int] = []
    value = shift = 0
    for char in counts:
        c = ord(char) - 48
        value |= (c & 0x1F) << shift
        shift += 5
        if c & 0x20:
            continue
        if c & 0x10:
            value -= 1 << shift
        out.append(value + (out[-2] if len(out) > 2 else 0))
        value = shift = 0
    return out


def _decode_rle(segmentation: dict, h: int, w: int) -> np.ndarray:
    """A run-length encoding, counts compressed (a string) or not (a list), of an image of
    (h, w) as a bool mask: counts alternate background and object, down each column, then
    along. Decoded here and checked to cover the image exactly: pycocotools left the pixels
    past the last count as its uncleared buffer held them (random objects)."""
    size = [int(n) for n in segmentation["size"]]
    if size != [h, w]:
        raise ValueError(f"it is run-length encoded at {size[0]}x{size[1]} (height x width), "
                         f"but the image is {h}x{w}; fix its 'size' in the JSON")
    counts = segmentation["counts"]
    counts = _counts(counts) if isinstance(counts, str) else [int(n) for n in counts]
    if any(n < 0 for n in counts) or sum(counts) != h * w:
        raise ValueError(f"its counts cover {sum(counts)} pixels, but its size {h}x{w} has "
                         f"{h * w}")
    flat = np.repeat(np.arange(len(counts)) % 2 == 1, counts)
    return flat.reshape(w, h).T


def _shape(segmentation: Any, h: int, w: int) -> np.ndarray:
    """A polygon list or run-length encoding (compressed or not) as a (h, w) bool mask.
    Polygons of under 3 points are left out (pycocotools would read 4 numbers as a box)."""
    if isinstance(segmentation, dict):
        return _decode_rle(segmentation, h, w)
    if any(len(p) % 2 for p in segmentation):
        raise ValueError("a polygon of an odd count of numbers (x, y pairs expected)")
    segmentation = [p for p in segmentation if len(p) >= 6]
    try:
        from pycocotools import mask as coco_mask
    except ImportError as err:
        raise DataLayoutError(
            "COCO annotations need pycocotools: pip install pycocotools (or -e '.[coco]')"
        ) from err
    with warnings.catch_warnings():  # pycocotools' own NumPy 2 deprecation notes
        warnings.simplefilter("ignore", DeprecationWarning)
        rle = coco_mask.merge(coco_mask.frPyObjects(segmentation, h, w))
        return coco_mask.decode(rle).astype(bool)


def _turned(image: Path, size: tuple[int, int], given: tuple[int, int], name: str) -> str:
    """The rest of the error for a JSON size that is not the image's (as shown, `size`): when
    the image's EXIF orientation turns it and the JSON gives its stored size, that is why."""
    orientation = exif_orientation(image)
    if given != size[::-1] or orientation not in ROTATED:
        return f" but {name} gives {given[0]}x{given[1]} for it; fix the file or the JSON"
    return (
        f" as shown, and {name} gives {given[0]}x{given[1]}: its EXIF orientation {orientation}"
        f" turns its stored {given[0]}x{given[1]} pixels a quarter, and the JSON gives the "
        "stored size. If the objects were drawn on the stored pixels, drop the images' "
        "orientation tags (e.g. `exiftool -Orientation=1 -n FILE`); if on the photo as shown, "
        f"swap width and height in {name}"
    )


def write_coco_mask(masks: CocoMasks, image: Path, size: tuple[int, int], dest: Path,
                    objects: Path | None = None) -> Path:
    """Draw the objects of `image` (of `size` (w, h)) into `dest`, a palette PNG of class
    numbers, those covering more pixels first, and their ids into `objects` where given."""
    from unet.dataset.class_folders import coloured_palette

    w, h = masks.size or size  # no size in the JSON: the file's
    if size != (w, h):
        raise DataLayoutError(f"{image} is {size[0]}x{size[1]}" + _turned(image, size, (w, h),
                                                                          masks.json.name))
    drawn, bad = [], []  # (class, its pixels' flat indices): memory as objects' pixels
    far, over = [], []  # (annotation id, extent) mostly outside the image, or partly
    for cls, segmentation, number in masks.objects:
        try:
            if isinstance(segmentation, list) and (reach := outside(segmentation, w, h)):
                (far if reach[1] else over).append((number, reach[0]))
            drawn.append((cls, np.flatnonzero(_shape(segmentation, h, w))))
        except (TypeError, ValueError, KeyError, IndexError) as err:
            bad.append((number, err))  # every one of the image named, not one per rerun
    if bad:
        numbers, err = ", ".join(str(n) for n, _ in bad[:20]), bad[0][1]
        raise DataLayoutError(
            f"{masks.json}: an object of {image.name} (annotation {numbers}) has an unusable "
            f"segmentation ({err}); fix or remove it" if len(bad) == 1 else
            f"{masks.json}: {len(bad)} objects of {image.name} (annotations {numbers}"
            f"{', ...' if len(bad) > 20 else ''}) have unusable segmentations (the first: "
            f"{err}); fix or remove them")
    if far:  # coordinates at another scale, or the wrong size in the JSON: wrong masks
        raise far_error(masks.json, image, far, w, h, masks.size is not None)
    if over:  # mostly inside: drawn clipped, but past the margin tools' rounding explains
        log.warning("%s: %s: annotation(s) %s reach outside the image (the first spans %s; "
                    "it is %dx%d): drawn clipped to it", masks.json.name, image.name,
                    ", ".join(str(n) for n, _ in over[:20]), span(over[0][1]), w, h)
    out = np.zeros(h * w, np.uint8)
    ids = object_canvas((w * h, 1), objects)  # flat, as out
    # Larger objects first, by the pixels drawn: the JSON's 'area' is often missing or 0
    for n, (cls, pixels) in enumerate(sorted(drawn, key=lambda o: -len(o[1])), 1):
        out[pixels] = cls
        if ids is not None:
            ids[0, pixels] = id_of(cls, n)
    out = out.reshape(h, w)
    write_object_ids(objects, None if ids is None else ids.reshape(h, w))
    write_mask_png(dest, out, palette=coloured_palette(dict(masks.colours)))
    return dest
