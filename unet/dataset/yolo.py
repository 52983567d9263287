"""Masks as Ultralytics YOLO segmentation labels: a .txt per image (labels/train/a.txt beside
images/train/a.jpg), a line per object `class x1 y1 ... xn yn` normalised to 0-1 by the
image's width and height, filled in the file's order (a later object over an earlier one, a
pixel counted when its centre lies inside, as QuPath's reader fills) into a palette PNG of
class numbers. YOLO's class i is class i + 1 (0 is background), named by data.yaml's `names`
(a list or a dict; class_0, ... without one). An image without a .txt, or with an empty one,
is all background, as YOLO reads it. A box line (`class cx cy w h`) among polygons is drawn
as its rectangle; labels of boxes alone are a detection data set, refused."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet.common.bad_files import raise_all
from unet.common.maskio import write_mask_png
from unet.dataset.group_levels import group_id
from unet.dataset.json_masks import (
    fill_rings,
    id_of,
    matching_jsons,
    object_canvas,
    write_object_ids,
)
from unet.dataset.layout import GROUP, DataLayoutError, Layout, files_by_stem, source_file
from unet.dataset.layout_kinds import layout_module
from unet.dataset.names import listing

log = logging.getLogger(__name__)

MARGIN = 0.05  # coordinates this far beyond 0-1 are clipped (rounding); further: pixels


@dataclass(frozen=True)
class YoloMasks:
    """One image's objects, (class, (n, 2) x, y normalised) each in the file's order."""

    objects: tuple[tuple[int, np.ndarray], ...]
    json: Path  # its label file (download's mask_from): absent or empty, all background
    names: tuple[tuple[int, str], ...] = ()  # (class, name) of every class


def read_names(root: Path, layout: Layout) -> list[str] | None:
    """The class names of yolo.names' data.yaml (a list, or a dict by index), or None where
    it is unset or missing (warned of: classes are then named class_0, ...)."""
    import yaml

    name = str(dict(layout.yolo or ()).get("names") or "")
    path = source_file(root, layout, name) if name else None
    if path is None or not path.is_file():
        if name:
            log.warning("%s.yolo.names %s is not found: classes are named class_0, class_1, "
                        "... (YOLO's index); give the data.yaml to name them", layout.section,
                        root / name)
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise DataLayoutError(f"{path} is not YAML ({err}); fix it, or set "
                              f"{layout.section}.yolo.names: '' for class_0, ...") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict) and all(str(k).isdigit() for k in names):
        by_index = {int(k): str(v) for k, v in names.items()}
        names = [by_index.get(i, f"class_{i}") for i in range(max(by_index, default=-1) + 1)]
    if not isinstance(names, list):
        raise DataLayoutError(f"{path} has no `names` list or dict {{0: name, ...}}; give one, "
                              f"or set {layout.section}.yolo.names: '' for class_0, ...")
    return [str(n) for n in names]


def labels_folder(root: Path, layout: Layout) -> Path:
    """The folder yolo.labels' files lie under (its path before {id} or {group}), refused
    where it is missing: every image would have been read as all background."""
    template = dict(layout.yolo or ())["labels"]
    fixed = re.split(r"\{(?:id|group)\}", template)[0]
    folder = root / fixed.rsplit("/", 1)[0] if "/" in fixed else root
    if not folder.is_dir():
        raise DataLayoutError(f"{layout.section}.yolo.labels {template!r}: no folder {folder}; "
                              "give the labels' path inside the data folder, e.g. "
                              "'labels/train/{id}.txt' (images 'images/train')")
    return folder


def _numbers(words: list[str], where: str) -> np.ndarray:
    """A line's numbers, refused at `where` (file:line) where one is not a finite number."""
    try:
        values = np.array([float(w) for w in words], np.float64)
    except ValueError:
        values = np.array([math.nan])
    if not np.isfinite(values).all():
        raise DataLayoutError(f"{where}: a value is not a number ({' '.join(words[:8])} ...); "
                              "fix or remove that line")
    return values


def _object(words: list[str], where: str) -> tuple[int, np.ndarray, bool]:
    """(YOLO class index, (n, 2) normalised ring, whether it was a box) of one line."""
    values = _numbers(words, where)
    if values[0] < 0 or values[0] != int(values[0]):
        raise DataLayoutError(f"{where}: class index {words[0]!r} is not a whole number >= 0")
    coords = values[1:]
    box = len(coords) == 4  # cx cy w h: its rectangle's corners
    if box:
        (cx, cy, w, h) = coords
        coords = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy - h / 2,
                           cx + w / 2, cy + h / 2, cx - w / 2, cy + h / 2])
    if len(coords) < 6 or len(coords) % 2:
        raise DataLayoutError(f"{where}: {len(coords)} coordinates; a polygon needs x y pairs, "
                              "3 or more (a box: class cx cy w h)")
    if coords.min() < -MARGIN or coords.max() > 1 + MARGIN:
        worst = coords[np.argmax(np.abs(coords - 0.5))]  # the one furthest out, either side
        raise DataLayoutError(f"{where}: coordinate {worst:g} is not normalised 0-1 by "
                              "the image's width and height (pixels?); export the labels as "
                              "YOLO's normalised coordinates")
    return int(values[0]), np.clip(coords, 0, 1).reshape(-1, 2), box


def read_labels(path: Path) -> tuple[list[tuple[int, np.ndarray, bool]], list[int], list]:
    """A label file's objects (YOLO index, ring, whether a box), their line numbers, and its
    bad lines' errors (file:line); Windows line ends and trailing spaces read, blank lines
    skipped."""
    found, lines, bad = [], [], []
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if words := line.split():
            try:
                index, ring, box = _object(words, f"{path}: line {n}")
            except DataLayoutError as err:
                bad.append((f"{path}:{n:06d}", err))
                continue
            found.append((index, ring, box))
            lines.append(n)
    return found, lines, bad


def _pairs(root: Path, layout: Layout, prefix: str) -> list[tuple[str, Path, Path]]:
    """(id, image, label file) of every image in one images folder, ids after `prefix`; a
    label file without its image refused (skipped with allow_unpaired)."""
    template = dict(layout.yolo or ())["labels"]
    folder = root / layout.images
    images = files_by_stem(folder, layout.image_extensions, layout.recursive) \
        if folder.is_dir() else {}
    # with recursive, images/train/s1/a.jpg's labels are labels/train/s1/a.txt (Ultralytics)
    labels = dict(matching_jsons(root, template, layout.recursive))
    if lone := sorted(p.name for pid, p in labels.items() if pid not in images):
        if not layout.allow_unpaired:
            raise DataLayoutError(
                f"YOLO labels ({template}) without an image of their name in {folder}: "
                f"{listing(lone)}; put the images there, or set {layout.section}."
                "allow_unpaired: true to skip them")
        log.warning("skipping YOLO labels without their image: %s", listing(lone))
    if images and not set(labels) & set(images):
        log.warning("no YOLO label file in %s matches an image of %s: all %d images are "
                    "background", template, folder, len(images))
    return [(prefix + pid, image, labels.get(pid, root / template.replace("{id}", pid)))
            for pid, image in images.items()]


def _groups(root: Path, layout: Layout) -> list[tuple[str, Path, Path]]:
    """The pairs of every images folder: one, or each {group}'s, ids after group + '_' (a
    nested group's folders joined by '_', Train/Urban: Train_Urban_, as other layouts)."""
    if GROUP not in layout.images:
        return _pairs(root, layout, "")
    groups = layout_module("groups")  # listed as a code input where images has {group}
    return [p for g in groups.find_groups(root, layout)[0]
            for p in _pairs(root, groups.filled(layout, g), f"{group_id(g)}_")]


def _named(names: list[str] | None, top: int, layout: Layout) -> tuple[tuple[int, str], ...]:
    """(class, name) of every class: data.yaml's names, else class_0 ... to the top index."""
    if names is None:
        names = [f"class_{i}" for i in range(top + 1)]
        log.info("YOLO classes unnamed: class_0 ... class_%d (set %s.yolo.names)", top,
                 layout.section)
    if len(names) > 254:
        raise DataLayoutError(f"YOLO names {len(names)} classes; a mask holds 254")
    return tuple((k, name) for k, name in enumerate(names, 1))


def _beyond(read: list, names: list[str] | None) -> list[tuple[str, DataLayoutError]]:
    """The lines whose class index data.yaml's names do not reach, by file and line."""
    if names is None:
        return []
    bad = []
    for path, objects, lines in read:
        for (index, *_), n in zip(objects, lines, strict=True):
            if index >= len(names):
                bad.append((f"{path}:{n:06d}", DataLayoutError(
                    f"{path}: line {n}: class index {index}, but names lists {len(names)} "
                    f"(0-{len(names) - 1}); add its name to data.yaml's names or fix the line")))
    return bad


def pair_yolo(root: Path, layout: Layout) -> list[tuple[str, Path, YoloMasks]]:
    """(id, image, its objects) for every image in images (each {group}'s, ids after the
    group's name), its objects those of the label file yolo.labels names for it (none: all
    background); bad lines refused together, by file and line."""
    names = read_names(root, layout)
    found, read, bad, boxes = _groups(root, layout), [], [], {}
    if not found:
        raise DataLayoutError(f"no image in {root / layout.images} ({layout.section}.images, "
                              f"extensions {list(layout.image_extensions)}); give the folder "
                              "of the images the YOLO labels go with")
    labels_folder(root, layout)  # images, but no labels: a wrong path, not all background
    for _, _, path in found:
        objects, lines, errors = read_labels(path) if path.is_file() else ([], [], [])
        bad += errors
        read.append((path, objects, lines))
        if n := sum(box for *_, box in objects):
            boxes[path] = n
    raise_all(bad + _beyond(read, names), "YOLO labels cannot be read", "line(s)")
    _boxes(boxes, sum(len(objects) for _, objects, _ in read))
    top = max((i for _, objects, _ in read for i, *_ in objects), default=0)
    named = _named(names, top, layout)
    pairs = [(pid, image, YoloMasks(tuple((i + 1, ring) for i, ring, _ in objects), path,
                                    named))
             for (pid, image, _), (path, objects, _) in zip(found, read, strict=True)]
    log.info("YOLO classes: %s", ", ".join(f"{k} = {n}" for k, n in named))
    return sorted(pairs, key=lambda p: p[0])


def _boxes(boxes: dict[Path, int], total: int) -> None:
    """Refuse labels of boxes alone (a detection data set: no outline to learn), and name
    the files whose boxes are drawn as rectangles among polygons."""
    if not boxes:
        return
    files = listing([f"{p.name} ({n})" for p, n in sorted(boxes.items())])
    if sum(boxes.values()) == total:
        raise DataLayoutError(
            f"every YOLO label is a box (class cx cy w h), none a polygon: a detection data "
            f"set, with no outline to learn ({files}); export it as YOLO segmentation "
            "(polygons), or annotate outlines")
    log.warning("%d YOLO box line(s) among polygons are drawn as their rectangles: %s",
                sum(boxes.values()), files)


def write_yolo_mask(masks: YoloMasks, image: Path, size: tuple[int, int], dest: Path,
                    objects: Path | None = None) -> Path:
    """Fill the objects of `image` (of `size` (w, h)) in order into `dest`, a palette PNG of
    class numbers, the normalised coordinates scaled by its width and height; their ids into
    `objects` where given."""
    from unet.dataset.class_folders import PALETTE

    out = np.zeros(size[::-1], np.uint8)  # (h, w)
    ids = object_canvas(size, objects)
    for n, (cls, ring) in enumerate(masks.objects, 1):
        # x * w, y * h: pixel (0, 0) spans 0..1
        fill_rings(out, cls, [ring * size], ids, id_of(cls, n))
    write_object_ids(objects, ids)
    write_mask_png(dest, out, palette=PALETTE)
    return dest
