"""What the annotation formats of one JSON per image (LabelMe, QuPath's GeoJSON) share: the
template with {id} that finds the JSONs, classes numbered by sorted label over all of them
(in numeric order where every label is an integer), the images no JSON names, polygons filled
at pixel centres, and the tools' don't-care labels (QuPath's `Ignore*`, LabelMe's
`__ignore__`) drawn as masks.ignore's value."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from unet.dataset.layout import (
    GROUP,
    TABLES,
    DataLayoutError,
    Layout,
    files_with,
    nfc,
    shared_ids,
    wildcard,
)
from unet.dataset.names import listing

log = logging.getLogger(__name__)

IGNORED = -1  # a don't-care label's class until the download gives it masks.ignore's value
IGNORED_RGB = [180, 180, 180]  # its palette entry: QuPath's Ignore* grey, not a class's colour
# the layouts whose labels can be don't-care, and the key naming their files
TOOLS = {"labelme": "LabelMe", "qupath": "QuPath", "xml": "XML", "geojson": "GeoJSON",
         "wkt": "WKT"}
FILE_KEYS = {"labelme": "json", "qupath": "json", "xml": "file", "geojson": "file", "wkt": "json"}


def unset_tables_dropped(settings: dict) -> dict:
    """A source's `settings` without the table sections added after results existed (wkt)
    where their file is unset, and without the keys added later while at their no-op value
    (_UNUSED): the download's params, and so every data set's outputs, stay as they were until
    one is used."""
    return {k: v for k, v in settings.items()
            if (k not in ("wkt",) or (isinstance(v, dict) and v.get(FILE_KEYS[k])))
            and not (k in _UNUSED and _UNUSED[k](v))}


# later keys of a source and when each does nothing (left out of the download's params then)
_UNUSED = {
    "ignore_regions": lambda v: not v,  # '': nothing ignored
    "missing_part": lambda v: v == "refuse",
    "mask_stem": lambda v: not (isinstance(v, dict) and v.get("pattern")),  # pattern '': unset
}


def drawn_ignore(settings: dict, masks: dict) -> int | list | None:
    """masks.ignore where a source's `settings` draw masks from LabelMe or QuPath JSONs (their
    don't-care labels are written as it), else None: the download's params change with it
    only where its masks do."""
    if any((settings.get(k) or {}).get(FILE_KEYS[k]) for k in TOOLS):
        return masks.get("ignore")
    return None


def drawn_objects(settings: dict, masks: dict) -> bool:
    """Whether download draws each object's id beside the masks drawn from a source's
    `settings` (COCO, LabelMe, QuPath, VIA, YOLO, XML or GeoJSON objects; each row of a CSV of
    encodings, as Sartorius' or Airbus' one row per object): only with masks.separate, so
    others' download params and files stay as they were."""
    drawn = any((settings.get(k) or {}).get(f) for k, f in TABLES.items())
    return bool(masks.get("separate")) and drawn


def with_ignore(found: list, ignore: Any, kind: str) -> list:
    """The pairs (id, image, masks) with masks.ignore's value for their don't-care labels,
    refused by key where it is unset or not a value the drawn masks (class numbers 0..n in a
    palette PNG) can hold apart from the classes."""
    masks = found[0][2] if found else None
    if masks is None or not masks.dont_care:
        return found
    labels, top = " and ".join(map(repr, masks.dont_care)), len(masks.names)
    if ignore is None:
        raise DataLayoutError(
            f"{TOOLS[kind]} labels {labels} mark don't-care regions, which a class would train "
            f"and score: set masks.ignore to a value from {top + 1} to 255, e.g. masks.ignore: "
            "255, for the loss and the metrics to skip them")
    if isinstance(ignore, bool) or not isinstance(ignore, int) or not top < ignore <= 255:
        raise DataLayoutError(
            f"masks.ignore {ignore!r} cannot mark {TOOLS[kind]}'s don't-care {labels} in masks "
            f"drawn as class numbers 0-{top} (one byte a pixel): give a number from {top + 1} "
            "to 255, e.g. masks.ignore: 255")
    palette = list(masks.palette)  # one for every file, as numbered gave it
    palette[3 * ignore:3 * ignore + 3] = IGNORED_RGB  # shown as no class's colour
    return [(pid, image, replace(m, ignore=ignore, palette=tuple(palette)))
            for pid, image, m in found]


def value_of(cls: int, ignore: int | None) -> int:
    """The value a shape of class `cls` is drawn in: masks.ignore's for a don't-care label."""
    if cls != IGNORED:
        return cls
    if ignore is None:  # with_ignore gives it, or refuses
        raise DataLayoutError("a don't-care label without masks.ignore; set masks.ignore: 255")
    return ignore


def read_tool_json(path: Path, again: str) -> Any:
    """An annotation tool's JSON (a byte order mark from Windows tools allowed), refused by
    name where it is not UTF-8 JSON, `again` saying how to write it anew."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataLayoutError(f"{path} is not valid UTF-8 JSON ({err}); {again}") from None


def json_template(layout: Layout, field: str) -> str:
    """The {field}.json (xml.file) of the layout, refused without {id} (it names one file per
    image) or with {group} folders (each group would number its labels alone: a class one
    part lacks shifts the others)."""
    key = FILE_KEYS.get(field, "json")
    template = dict(getattr(layout, field) or ())[key]
    if GROUP in layout.images:
        raise DataLayoutError(
            f"{layout.section}.{field} with {GROUP} folders is not supported: labels are "
            f"numbered over all files at once; give images one folder and {field}.{key} the "
            "files' path with {id}")
    if "{id}" not in template:
        raise DataLayoutError(
            f"{layout.section}.{field}.{key} {template!r} has no {{id}}: it names each "
            f"image's file, e.g. 'images/{{id}}.{key if key == 'json' else field}' (beside "
            f"the images) or 'ann/{{id}}.{key if key == 'json' else field}'")
    return template


def matching_jsons(root: Path, template: str, deep: bool = False
                   ) -> Iterator[tuple[str, Path]]:
    """(id, path) of every file under `root` that `template` matches, its {id} in composed
    form (`deep`: in subfolders too, the id its last part, as images' ids are their stems);
    two files spelling one id are refused together once all are seen."""
    pattern = re.compile(re.escape(template).replace(re.escape("{id}"), "(.+)"))
    ids: dict[str, Path] = {}
    twice = []
    for path in sorted(root.glob(wildcard(template, "{id}", deep=deep))):
        match = pattern.fullmatch(path.relative_to(root).as_posix())
        if not match or not path.is_file():
            continue
        *below, pid = nfc(match.group(1)).split("/") if deep else [nfc(match.group(1))]
        if any(part.startswith(".") for part in (*below, pid)):
            # a hidden folder's (.ipynb_checkpoints/) or file's (a Mac's ._a.xml resource
            # fork), as visible_files leaves out: no image of that id is ever listed
            continue
        if pid in ids:
            twice.append((str(path), DataLayoutError(f"{ids[pid]} and {path} name one id")))
            continue
        ids[pid] = path
        yield pid, path
    shared_ids(twice)


def unfound(layout: Layout, missing: list[str], which: str, fix: str, skipped: str) -> None:
    """Refuse the JSONs whose image is not found (`which` names them and where it was looked
    for, `fix` how to give it), or with allow_unpaired skip them named in a warning."""
    if missing and not layout.allow_unpaired:
        raise DataLayoutError(f"{which}: {listing(missing)}; {fix}, or set "
                              f"{layout.section}.allow_unpaired: true to skip them")
    if missing:
        log.warning("skipping %s: %s", skipped, listing(missing))


def numbered(root: Path, layout: Layout, found: list, what: str, background: str | None,
             build: Callable[..., Any], dont_care: Callable[[str], bool],
             colours: dict[str, tuple[int, int, int]] | None = None,
             ) -> list[tuple[str, Path, Any]]:
    """The pairs (id, image, build(shapes, extra, json, names, dont_care=labels, palette=...))
    with each shape's label (its first item) made a class number: labels in label_order over
    every JSON are 1, 2, ..., `background` is 0 and labels `dont_care` picks are IGNORED; `found`
    holds (id, image, json, shapes, extra); `colours` by label, the file's, fill the palette.
    The images in the images folder no JSON names are named in a warning."""
    every = {s[0] for *_, shapes, _ in found for s in shapes} - {background}
    ignored = tuple(sorted(n for n in every if dont_care(n)))
    labels = label_order(every - set(ignored))
    if len(labels) > 254:
        raise DataLayoutError(f"{what} labels name {len(labels)} classes; a mask holds 254")
    classes = {background: 0, **{name: k for k, name in enumerate(labels, 1)}}
    names = tuple((k, name) for name, k in classes.items() if k)
    log.info("%s labels as classes: %s", what, ", ".join(f"{k} = {n}" for k, n in names) or "none")
    if ignored:  # the tool's own don't-care: as masks.ignore, neither trained nor scored
        log.info("%s labels %s are don't-care, drawn as masks.ignore's value", what,
                 " and ".join(map(repr, ignored)))
    classes.update(dict.fromkeys(ignored, IGNORED))
    _alike(classes, what)
    img_dir = root / layout.images
    named = {image.resolve() for _, image, *_ in found}
    unnamed = [p.name for p in (files_with(img_dir, layout.image_extensions, layout.recursive)
                                if img_dir.is_dir() else []) if p.resolve() not in named]
    if unnamed:
        log.warning("%s holds images without a %s JSON (not used): %s", img_dir, what,
                    listing(unnamed))
    from unet.dataset.class_folders import coloured_palette

    # one palette for every file (palette masks must agree), classes in the tool's colours
    palette = coloured_palette({k: colours[n] for k, n in names if n in (colours or {})})
    pairs = [(pid, image, build(tuple((classes[s[0]], *s[1:]) for s in shapes), extra, path,
                                names, dont_care=ignored, palette=palette))
             for pid, image, path, shapes, extra in found]
    return sorted(pairs, key=lambda p: p[0])


def label_order(labels: set[str]) -> list[str]:
    """`labels` in numeric order where every one is an integer ("1", "2", "10", as COCO's
    category ids are numbered), else in text order."""
    if labels and all(re.fullmatch(r"[+-]?[0-9]+", n) for n in labels):
        return sorted(labels, key=lambda n: (int(n), n))  # "01" and "1" apart, in one order
    return sorted(labels)


def _alike(classes: dict, what: str) -> None:
    """Warn of labels that differ only in case or spaces ('car', 'Car '): a typo in one
    annotator's labels, which would otherwise be classes trained and scored apart."""
    by_key: dict[str, list[str]] = {}
    for name, k in classes.items():
        if name is not None and k != IGNORED:
            by_key.setdefault(" ".join(name.split()).casefold(), []).append(name)
    for spelt in (sorted(v, key=classes.get) for v in by_key.values() if len(v) > 1):
        log.warning("%s labels %s differ only in case or spaces: they are classes %s, trained "
                    "and scored apart; if they are one class, relabel them alike", what,
                    " and ".join(map(repr, spelt)), " and ".join(str(classes[n]) for n in spelt))


def object_canvas(size: tuple[int, int], objects: Path | None) -> np.ndarray | None:
    """(h, w) zeros for the object ids of an image of `size` (w, h) where `objects` names their
    file (masks.separate parts drawn objects by them), else None: nothing drawn twice."""
    return np.zeros(size[::-1], np.uint32) if objects else None


def id_of(cls: int, n: int) -> int:
    """The id the `n`th drawn shape (from 1) of class `cls` takes in the object ids: 0 for a
    background or don't-care shape, which is no object and cuts what it covers."""
    return 0 if cls in (0, IGNORED) else n


def write_object_ids(path: Path | None, ids: np.ndarray | None) -> None:
    """Write the object ids (h, w) as a TIFF, atomically: 16-bit where every id fits, else
    32-bit (a slide of more than 65,535 objects); nothing where `path` is None."""
    if path is None or ids is None:
        return
    from PIL import Image

    from unet.common.fileio import atomic_path

    top = int(ids.max()) if ids.size else 0
    im = Image.fromarray(ids.astype(np.uint16 if top <= 0xFFFF else np.int32))
    with atomic_path(path) as tmp:
        im.save(tmp, format="TIFF", compression="tiff_adobe_deflate")


def fill_rings(out: np.ndarray, cls: int, rings: list[np.ndarray],
               ids: np.ndarray | None = None, oid: int = 0) -> None:
    """Set to `cls` the pixels of `out` (h, w) whose centres lie inside `rings` ((n, 2) x, y
    arrays with pixel (0, 0) spanning 0..1: one polygon's outer ring and its holes, even-odd),
    what lies beyond the image clipped, pixels in a hole left as they were; the same pixels of
    `ids` (h, w), where given, to the object's id `oid`."""
    h, w = out.shape
    pts = np.concatenate(rings)
    # row r (centre r + 0.5) is crossed when lo <= r + 0.5 < hi: r from ceil(lo - 0.5)
    y0, y1 = max(0, math.ceil(pts[:, 1].min() - 0.5)), min(h, math.ceil(pts[:, 1].max() - 0.5))
    x0, x1 = max(0, math.ceil(pts[:, 0].min() - 0.5)), min(w, math.ceil(pts[:, 0].max() - 0.5))
    if y0 >= y1 or x0 >= x1:
        return  # wholly outside (qupath.note_outside names it)
    p = pts  # every edge p -> q of every ring, (E, 2)
    q = np.concatenate([np.roll(r, -1, axis=0) for r in rings])
    lo, hi = np.minimum(p[:, 1], q[:, 1]), np.maximum(p[:, 1], q[:, 1])
    first = np.clip(np.ceil(lo - 0.5), y0, y1).astype(np.int64)
    count = np.clip(np.ceil(hi - 0.5), y0, y1).astype(np.int64) - first  # 0 for flat edges
    edge = np.repeat(np.arange(len(p)), count)
    rows = first[edge] + np.arange(len(edge)) - np.repeat(np.cumsum(count) - count, count)
    t = (rows + 0.5 - p[edge, 1]) / (q[edge, 1] - p[edge, 1])
    xs = p[edge, 0] + t * (q[edge, 0] - p[edge, 0])
    order = np.lexsort((xs, rows))  # a closed ring crosses each row an even number of times
    spans = np.clip(np.ceil(xs[order] - 0.5), x0, x1).astype(np.int64).reshape(-1, 2) - x0
    at = rows[order][::2] - y0
    steps = np.zeros((y1 - y0, x1 - x0 + 1), np.int8)  # +1 where a span starts, -1 after it
    np.add.at(steps, (at, spans[:, 0]), 1)
    np.add.at(steps, (at, spans[:, 1]), -1)
    inside = np.cumsum(steps, axis=1, dtype=np.int8)[:, :-1] > 0
    out[y0:y1, x0:x1][inside] = cls
    if ids is not None:
        ids[y0:y1, x0:x1][inside] = oid
