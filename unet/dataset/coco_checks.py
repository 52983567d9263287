"""Checks of a COCO JSON that real exports (CVAT, Label Studio, Roboflow, converters) fail:
entries missing the keys COCO gives, all named at once, and polygons reaching outside their
image: a little past an edge is clipped, mostly outside means the coordinates or the JSON's
size are wrong, and is refused."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from unet.common.bad_files import listed
from unet.common.fileio import first_not_utf8
from unet.dataset.layout import DataLayoutError

log = logging.getLogger(__name__)

# What each list's entries must hold ('segmentation' may be missing: a box only)
_KEYS = {"images": ("image", ("id", "file_name")),
         "annotations": ("annotation", ("image_id", "category_id")),
         "categories": ("category", ("id",))}
MOSTLY = 0.5  # an object with under this share of its area inside its image is refused
Extent = tuple[float, float, float, float]  # an object's x0, x1, y0, y1 in pixels


def load_coco(path: Path, section: str) -> dict:
    """The annotations JSON, its lists checked and every entry missing a key named at once."""
    if not path.is_file():
        raise DataLayoutError(f"{section}.coco.json: no file {path}; give the annotations JSON "
                              "(relative to the data folder)")
    try:
        with open(path, encoding="utf-8-sig") as f:  # a byte order mark from Windows tools
            data = json.load(f)
    except json.JSONDecodeError as err:  # cut off, or edited by hand
        raise DataLayoutError(f"{path} is not valid JSON ({err.msg} at line {err.lineno} "
                              f"column {err.colno}); download or export it again") from None
    except UnicodeDecodeError:
        raw = path.read_bytes()
        at, line = first_not_utf8(raw)
        raise DataLayoutError(f"{path} is not valid JSON (byte {raw[at]:#x} on line {line} is "
                              "not UTF-8, which JSON files are written in); save it as UTF-8"
                              ) from None
    for part in _KEYS:
        if isinstance(data, dict) and isinstance(data.get(part), dict):
            data[part] = list(data[part].values())  # LIVECell's: an object keyed by id
        if not isinstance(data, dict) or not isinstance(data.get(part), list):
            raise DataLayoutError(f"{path} has no {part!r} list: not COCO annotations")
    bad = _missing(data)
    if len(bad) == 1:
        raise DataLayoutError(f"{path}: {bad[0].replace(': no ', ' has no ', 1)}, which COCO "
                              "annotations give; fix the JSON or export it again")
    if bad:  # an export's every bad entry at once, not one per rerun
        raise DataLayoutError("\n".join([
            f"{len(bad)} entries of {path.name} lack keys that COCO annotations give "
            f"({path}):", *listed(bad, "entries"), "Fix the JSON or export it again."]))
    return data


def _missing(data: dict) -> list[str]:
    """'annotation 2 (of a.png): no 'category_id'' for every entry missing a key; an image
    with only one of width and height too (without both, its file's size is taken)."""
    files = {str(im.get("id")): im.get("file_name") for im in data["images"]
             if isinstance(im, dict)}
    bad = []
    for part, (one, keys) in _KEYS.items():
        for n, entry in enumerate(data[part]):
            entry = entry if isinstance(entry, dict) else {}
            missing = [k for k in keys if k not in entry]
            if part == "images" and ("width" in entry) != ("height" in entry):
                missing.append("height" if "width" in entry else "width")
            if not missing:
                continue
            named = f"{one} {entry['id']}" if "id" in entry else f"{one} at index {n}"
            if part == "images" and "id" not in entry and "file_name" in entry:
                named = f"{one} {entry['file_name']}"
            if part == "annotations" and files.get(str(entry.get("image_id"))):
                named += f" (of {files[str(entry['image_id'])]})"
            bad.append(f"{named}: no {', '.join(repr(k) for k in missing)}")
    return bad


def _category_names(data: dict, path: Path) -> dict[str, str]:
    """Each category's name by its id as a string; an id listed under two names refused."""
    names: dict[str, str] = {}
    twice = []
    for c in data["categories"]:
        cid, name = str(c["id"]), c.get("name", str(c["id"]))
        if cid in names and _as_given(names[cid]) != _as_given(name):
            twice.append(f"category {cid} is listed as {names[cid]!r} and {name!r}")
        names.setdefault(cid, name)
    if twice:
        raise DataLayoutError(f"{path}: {'; '.join(twice[:20])}; give each category one id "
                              "(or merge them), or export it again")
    return names


def category_colours(data: dict, classes: dict[str, int],
                     path: Path) -> tuple[tuple[int, tuple], ...]:
    """(class, (r, g, b)) of the categories that give a colour: panoptic COCO's `color`
    [r, g, b], COCO Annotator's '#rrggbb' (or '#rgb'); a category listed twice keeps its
    first. Colours not read, and categories of one colour, are warned of, naming them."""
    from unet.dataset.class_folders import read_colour, warn_colours

    found: dict[int, tuple] = {}
    named: dict[str, tuple] = {}
    unread: dict[str, Any] = {}
    for c in data["categories"]:
        k, name = classes.get(str(c["id"])), str(c.get("name", c["id"]))
        if k is None or k in found or c.get("color") is None:
            continue
        if (rgb := read_colour(c["color"])) is None:
            unread.setdefault(name, c["color"])
            continue
        found[k] = named[name if name not in named else f"{name} (id {c['id']})"] = rgb
    warn_colours(named, unread, path.name)
    return tuple(sorted(found.items()))


def _as_given(name: Any) -> str:
    """A name as its JSON gives it, to tell two listings of one id apart: true is not 1 (as
    Python's True == 1), NaN is NaN (NaN != NaN), 1.0 and 1 are one number."""
    return json.dumps(int(name) if isinstance(name, float) and name.is_integer() else name,
                      sort_keys=True)  # an object's keys in any order are one object


def umbrella(categories: list[dict]) -> dict | None:
    """The category a Roboflow export lists for its workspace (id 0, supercategory 'none'),
    which every other category names as its supercategory: an umbrella, not a class; None
    where there is none. Told from the categories alone, so each part of an export (train/,
    valid/, test/, each its own JSON) numbers its classes alike."""
    for c in categories:
        others = [o for o in categories if str(o["id"]) != str(c["id"])]
        if (c.get("name") and str(c.get("supercategory") or "none").lower() == "none" and others
                and all(o.get("supercategory") == c.get("name") for o in others)):
            return c
    return None


def class_numbers(data: dict, path: Path) -> tuple[dict[str, int], tuple[tuple[int, str], ...]]:
    """Each category id (as a string) to its class, ids in ascending order as classes 1, 2,
    ... (numbers by value, then strings), and the (class, name) pairs; an umbrella category
    (see umbrella) is left out and logged, and refused where an object is of it."""
    names = _category_names(data, path)  # one class per id: merged exports list one twice
    top = umbrella(data["categories"])
    skip = str(top["id"]) if top else None
    used = [a.get("id") for a in data["annotations"] if str(a["category_id"]) == skip]
    if used:
        raise DataLayoutError(
            f"{path}: annotation(s) {', '.join(map(str, used[:20]))} are of category {skip} "
            f"({names[skip]!r}), which every other category names as its supercategory (as "
            "Roboflow lists its workspace): an umbrella, not a class; give them one of the "
            "other categories, or drop the other categories' supercategory")
    if top:
        log.info("%s: category %s (%r) is the supercategory of every other one (Roboflow's "
                 "workspace): not a class", path.name, skip, names[skip])
    ids = sorted({str(c["id"]): c["id"] for c in data["categories"]
                  if str(c["id"]) != skip}.values(),
                 key=lambda i: (0, i, "") if isinstance(i, int | float) else (1, 0, str(i)))
    classes = {str(c): k for k, c in enumerate(ids, 1)}
    log.info("COCO categories as classes: %s",
             ", ".join(f"{k} = {names[c]}" for c, k in classes.items()))
    _same_names(classes, names, path)
    return classes, tuple((k, names[c]) for c, k in classes.items())


def _same_names(classes: dict[str, int], names: dict[str, str], path: Path) -> None:
    """Warn of one name under several category ids (exports merged from two projects, their
    labels typed by hand: 'cell' and 'Cell '): they train and score as classes of their own,
    which a user may not mean."""
    by_name: dict[str, list[str]] = {}
    for c in classes:
        if key := _name_key(names[c]):
            by_name.setdefault(key, []).append(c)
    for ids in by_name.values():
        if len(ids) > 1:
            spelt = list({_as_given(names[c]): names[c] for c in ids}.values())  # lists: unhashable
            named = (f"{'both' if len(ids) == 2 else 'all'} named {spelt[0]!r}" if len(spelt) == 1
                     else "named " + " and ".join(map(repr, spelt)))
            log.warning(
                "%s: categories %s are %s: they are classes %s, trained and scored apart; if "
                "they are one class, give their annotations one category id", path.name,
                " and ".join(ids), named, " and ".join(str(classes[c]) for c in ids))


def _name_key(name: Any) -> str:
    """A category's name as compared: its text, spaces collapsed and case folded; a number
    by its value (exports of id-named classes write 1, "1" or, from a table's column, 1.0,
    and 0 is a name too); '' for none (null, missing, or NaN: a table's empty cell)."""
    if isinstance(name, float) and name.is_integer():
        name = int(name)
    if name is None or name != name:  # only NaN is not itself
        return ""
    return " ".join(str(name).split()).casefold()


def _clipped_area(points: np.ndarray, w: float, h: float) -> tuple[float, float]:
    """(area, area inside [0, w] x [0, h]) of a polygon (n, 2) of x, y: clipped to each edge
    in turn (Sutherland-Hodgman), areas by the shoelace formula."""
    def area(p: np.ndarray) -> float:
        return 0.0 if len(p) < 3 else abs(float(np.dot(p[:, 0], np.roll(p[:, 1], -1))
                                                - np.dot(p[:, 1], np.roll(p[:, 0], -1)))) / 2
    inside = points
    for axis, bound, keep_below in ((0, 0.0, False), (0, w, True), (1, 0.0, False), (1, h, True)):
        if not len(inside):
            break
        out = []
        for a, b in zip(inside, np.roll(inside, -1, axis=0), strict=True):
            a_in, b_in = (a[axis] <= bound, b[axis] <= bound) if keep_below else (
                a[axis] >= bound, b[axis] >= bound)
            if a_in:
                out.append(a)
            if a_in != b_in:  # the edge crosses the bound: where
                out.append(a + (b - a) * (bound - a[axis]) / (b[axis] - a[axis]))
        inside = np.array(out).reshape(-1, 2)
    return area(points), area(inside)


def outside(polygons: list, w: int, h: int) -> tuple[Extent, bool] | None:
    """None for an object's polygons that keep within a margin of its (w, h) image (tools
    write vertices on or a pixel past the border: clipped, as is right); else its extent
    (x0, x1, y0, y1) and whether it lies mostly outside (wrong coordinates or size)."""
    points = [np.asarray(p, float).reshape(-1, 2) for p in polygons if len(p) >= 6]
    if not points:
        return None
    every = np.concatenate(points)
    (x0, y0), (x1, y1) = every.min(0), every.max(0)
    margin = _margin(w, h)
    if x0 >= -margin and y0 >= -margin and x1 <= w + margin and y1 <= h + margin:
        return None
    areas = [_clipped_area(p, w, h) for p in points]
    total = sum(a for a, _ in areas)
    share = (sum(i for _, i in areas) / total if total else
             float(((every >= 0) & (every <= (w, h))).all(1).mean()))  # a line: its points
    return (float(x0), float(x1), float(y0), float(y1)), share < MOSTLY


def span(extent: Extent) -> str:
    """An extent (x0, x1, y0, y1) as errors and warnings show it: 'x 40..100, y 20..60'."""
    x0, x1, y0, y1 = (v + 0.0 for v in extent)  # -0.0 (a tool's rounding of -0.04) as 0
    return f"x {x0:g}..{x1:g}, y {y0:g}..{y1:g}"


def _margin(w: int, h: int) -> float:
    """How far past a (w, h) image's edge a vertex may lie and still be the tools' rounding."""
    return max(2.0, 0.01 * max(w, h))


def far_error(json_path: Path, image: Path, far: list[tuple[Any, Extent]], w: int, h: int,
              sized: bool) -> DataLayoutError:
    """The refusal of an image's objects lying mostly outside it, with the likely cause."""
    number, extent = far[0]
    x0, x1, y0, y1 = extent
    margin = _margin(w, h)
    if min(x0, y0) < -margin:  # fits any size swapped or scaled: neither is the lead
        cause = ("; its coordinates are negative: offsets from a box or the image's centre, "
                 "not pixels from the image's top left corner?")
    elif x1 <= h + margin and y1 <= w + margin:
        cause = (f"; it fits {h}x{w} (width and height swapped): drawn on the image turned a "
                 "quarter (as viewers show a photo with an EXIF orientation), or x and y "
                 "swapped?")
    else:
        cause = (f"; drawn on a copy about {max(x1 / w, y1 / h):.3g}x as large, or on "
                 "another image?")
    given = f"as {json_path.name} gives" if sized else "as its file is (no size in the JSON)"
    others = f" (and annotation(s) {', '.join(str(n) for n, _ in far[1:6])})" if far[1:] else ""
    return DataLayoutError(
        f"{json_path}: {image.name}: annotation {number}{others} lies mostly outside the "
        f"image: its points span {span(extent)}, the image is {w}x{h} (width x height) {given}"
        f"{cause}; fix the coordinates or the image's width and height in the JSON, or "
        "export it again")
