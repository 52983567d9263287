"""masks.labelmap: the classes an annotation tool's export lists, in the file's order: CVAT's
labelmap.txt (`name:r,g,b:parts:actions`) and a `name,r,g,b` class table (CamVid's and
DeepGlobe's class_dict.csv) give colours and names, Roboflow's _classes.csv (`Pixel Value,
Class`), a Medical Segmentation Decathlon or nnU-Net dataset.json (its "labels") and
Mapillary Vistas' config_v2.0.json (labelmap_vistas) grey values (class ids) and names."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from unet.config.experiments import ConfigError
from unet.config.labelmap_vistas import check_vistas, vistas_rows
from unet.dataset.layout import local_root


def labelmap_path(config: dict) -> Path | None:
    """masks.labelmap as a file: `~` expanded, a relative path under the data folder
    (dataset.local.path) for source local, else under the working directory."""
    given = config["masks"].get("labelmap")
    if not given:
        return None
    path = Path(given).expanduser()
    if path.is_absolute():
        return path
    local = (config["dataset"].get("local") or {}).get("path")
    if config["dataset"]["source"] == "local" and local:
        root = local_root(local)
        # no data folder: check_config refuses it by name, the fix to make first
        return root / path if root.is_dir() else None
    return path


def read_labelmap(path: Path) -> tuple[str, list, list[str]]:
    """('colors', [[r, g, b], ...], names) from a CVAT labelmap.txt or a `name,r,g,b` .csv, or
    ('values', [v, ...], names) from a Roboflow _classes.csv or a dataset.json; ConfigError
    names file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from Excel or Windows tools
    except FileNotFoundError:
        raise ConfigError(f"masks.labelmap: no such file {path}; give the export's "
                          "labelmap.txt, _classes.csv or dataset.json, relative to "
                          "dataset.local.path or absolute") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"masks.labelmap {path}: cannot be read as text ({err})") from None
    table = _rgb_columns(text) if path.suffix.lower() == ".csv" else None
    if path.suffix.lower() == ".json":
        kind, rows = "values", _dataset_json(path, text)
    elif path.suffix.lower() != ".csv":
        kind, rows = "colors", _cvat(path, text)
    else:
        kind, rows = ("colors", _class_dict(path, text, table)) if table \
            else ("values", _roboflow(path, text))
    if len(rows) < 2:
        raise ConfigError(f"masks.labelmap {path}: lists {len(rows)} class(es); a mask needs "
                          "at least two (background and one object class)")
    _unique(path, [(n, "class value" if kind == "values" else "colour", k) for n, k, _ in rows])
    _unique(path, [(n, "name", name) for n, _, name in rows])
    return kind, [k for _, k, _ in rows], [name for _, _, name in rows]


def _cvat(path: Path, text: str) -> list[tuple[int, list[int], str]]:
    """(line number, colour, name) per class line of a CVAT labelmap.txt; # lines are comments."""
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.strip().rsplit(":", 3)  # a name may hold ':'; the last three fields not
        colour = fields[1].split(",") if len(fields) == 4 else []
        try:
            rgb = [int(c) for c in colour]
        except ValueError:
            rgb = []
        if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb) or not fields[0].strip():
            raise ConfigError(f"{path}, line {n}: {line.strip()!r} is not a CVAT labelmap line "
                              "`name:r,g,b:parts:actions` (e.g. `road:51,221,255::`, each "
                              "channel 0 to 255); fix the line or masks.labelmap")
        rows.append((n, rgb, fields[0].strip()))
    return rows


def _rgb_columns(text: str) -> dict[str, int] | None:
    """The column of each of name, r, g, b where the .csv's header is such a class table
    (CamVid, DeepGlobe; the Semantic Drone Dataset writes `name, r, g, b`), else None."""
    sep = _separator(text)
    head = next((line for line in text.splitlines() if line.strip()), "")
    cells = [c.strip().lower() for c in next(csv.reader([head], delimiter=sep), [])]
    if not {"name", "r", "g", "b"} <= set(cells):
        return None
    return {key: cells.index(key) for key in ("name", "r", "g", "b")}


def _class_dict(path: Path, text: str, cols: dict[str, int]) -> list[tuple[int, list[int], str]]:
    """(line number, colour, name) per row of a `name,r,g,b` class table, its header skipped."""
    rows, lines = [], text.splitlines()
    first, sep = next(n for n, line in enumerate(lines, 1) if line.strip()), _separator(text)
    for n, row in enumerate(csv.reader(lines, delimiter=sep), 1):
        cells = [c.strip() for c in row]
        if n <= first or not any(cells):
            continue
        try:
            rgb = [int(cells[cols[k]]) for k in "rgb"]
            name = cells[cols["name"]]
        except (ValueError, IndexError):
            rgb, name = [], ""
        if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb) or not name:
            raise ConfigError(f"{path}, line {n}: {sep.join(row)!r} is not a class row of the "
                              "header's name,r,g,b (e.g. `Road,128,64,128`, each channel 0 to "
                              "255); fix the line or masks.labelmap")
        rows.append((n, rgb, name))
    return rows


def _roboflow(path: Path, text: str) -> list[tuple[int, int, str]]:
    """(line number, grey value, name) per row of a Roboflow _classes.csv, its header skipped."""
    rows, lines, sep = [], text.splitlines(), _separator(text)
    for n, row in enumerate(csv.reader(lines, delimiter=sep), 1):
        cells = [c.strip() for c in row]
        while len(cells) > 2 and not cells[-1]:
            cells.pop()
        if not any(cells) or (n == 1 and cells[0].lower().startswith("pixel")):
            continue
        try:
            value = int(cells[0]) if len(cells) == 2 and cells[1] else -1
        except ValueError:
            value = -1
        if not 0 <= value <= 65535:
            raise ConfigError(f"{path}, line {n}: {sep.join(row)!r} is not a Roboflow class row "
                              "`pixel value, class` (e.g. `1, crack`, the value 0 to 65535); "
                              "fix the line or masks.labelmap")
        rows.append((n, value, cells[1]))
    return rows


def _dataset_json(path: Path, text: str) -> list[tuple[int, int, str]]:
    """(1, value, name) per class of a dataset.json's "labels" in value order: the Decathlon's
    {"0": "background", "1": "PZ"}, or nnU-Net v2's {"background": 0, "PZ": 1}."""
    try:
        labels = json.loads(text).get("labels")
    except (ValueError, AttributeError):
        labels = None
    if isinstance(labels, list) and labels:  # Mapillary Vistas: the list's index is the id
        return vistas_rows(path, labels)
    if not isinstance(labels, dict) or not labels:
        raise ConfigError(f"masks.labelmap {path}: no \"labels\" object of class values and "
                          "names, as the Decathlon's dataset.json holds, nor a list of them, as "
                          "Mapillary Vistas' config_v2.0.json holds; give that file")
    rows = []
    for key, item in labels.items():
        value, name = (key, item) if isinstance(item, str) else (item, key)
        if isinstance(value, list):  # nnU-Net's region-based training: overlapping regions
            raise ConfigError(f"masks.labelmap {path}: {name!r} is the region {value}, and a "
                              "pixel has one class here: list the classes in masks.values "
                              "and masks.names, and score regions with evaluate.regions")
        try:
            value = int(value)
        except (TypeError, ValueError):
            value = -1
        if not 0 <= value <= 65535:
            raise ConfigError(f"masks.labelmap {path}: label {key!r}: {item!r} is not a class "
                              "value (0 to 65535) and a name, as in \"1\": \"PZ\"")
        rows.append((1, value, name))
    return sorted(rows, key=lambda row: row[1])


def _separator(text: str) -> str:
    """A .csv's cell separator: ';' where its first line has no ',' (Excel saves so where ','
    is the decimal point, and pads rows with empty cells), else ','."""
    head = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if ";" in head and "," not in head else ","


def _unique(path: Path, items: list[tuple[int, str, object]]) -> None:
    """Refuse a colour, value or name listed twice: two classes would read as one."""
    seen: dict[str, int] = {}
    for n, what, key in items:
        if str(key) in seen:
            raise ConfigError(f"{path}, line {n}: {what} {key} is listed on line {seen[str(key)]} "
                              "too; give each class its own, or merge them in the tool")
        seen[str(key)] = n


def fill_labelmap(config: dict) -> None:
    """Fill masks.colors (CVAT) or masks.values (Roboflow) and masks.names from masks.labelmap,
    in place; ConfigError where the config's own lists disagree with the file."""
    path = labelmap_path(config)
    if path is None:
        return
    kind, classes, names = read_labelmap(path)
    masks = config["masks"]
    if path.suffix.lower() == ".json" and "ignore" in names:  # nnU-Net v2's reserved label
        value = classes[names.index("ignore")]
        if masks.get("ignore") != value:
            raise ConfigError(f"masks.labelmap {path} names {value} \"ignore\", nnU-Net's label "
                              "of pixels left unannotated, not a class to learn: set "
                              f"masks.ignore: {value}")
    if path.suffix.lower() == ".json":
        check_vistas(path, masks)
    classes, names = _without_ignore(path, kind, classes, names, masks.get("ignore"))
    at = next((k for k, name in enumerate(names) if name.lower() == "background"), 0)
    if at and masks.get("background", True):  # a file sorted by name, or edited by hand
        raise ConfigError(f"masks.labelmap {path} lists {names[at]!r} as class {at}, after "
                          f"{names[0]!r}: class 0 is background (masks.background), so "
                          f"{names[0]!r} would go unscored; list background first in the file, "
                          "or set masks.background: false where every class is an object")
    if not at and masks.get("background", True) and not _background_like(names[0], classes[0]):
        # CamVid's and DeepGlobe's tables list object classes by name, with no background
        raise ConfigError(f"masks.labelmap {path} lists {names[0]!r} ({classes[0]}) first, and "
                          "class 0 is background (masks.background): it would go unscored and "
                          "unpainted. Set masks.background: false where every class is an "
                          "object (CamVid, DeepGlobe; their void as masks.ignore), or list the "
                          "background class first in the file")
    other = "values" if kind == "colors" else "colors"
    if masks.get(other):
        raise ConfigError(f"masks.{other} is set, but masks.labelmap {path} lists class "
                          f"{kind}: drop masks.{other} (the file gives the classes)")
    for key, listed in ((kind, classes), ("names", names)):
        if masks.get(key) is not None and masks[key] != listed:
            raise ConfigError(f"masks.{key} {masks[key]} disagrees with masks.labelmap {path}, "
                              f"which lists {listed}: drop masks.{key} (the file's order is the "
                              "classes' order) or fix the file")
        masks[key] = listed


_BACKGROUND_NAMES = {"background", "bg", "unlabeled", "unlabelled", "void", "other", "others",
                     "none", "clutter", "unknown", "ignore", "nothing"}


def _background_like(name: str, key: int | list[int]) -> bool:
    """Whether a first class reads as background: black or value 0, or a name such as
    background, unlabeled (the Drone Dataset's) or VOC's _background_."""
    return key in (0, [0, 0, 0]) or name.strip("_ ").lower() in _BACKGROUND_NAMES


def _without_ignore(path: Path, kind: str, classes: list, names: list[str],
                    ignore: int | list[int] | None) -> tuple[list, list[str]]:
    """The classes and names less the one masks.ignore names (the export's 'void' class): the
    config calls its pixels don't-care, and a class of the ignore value is refused."""
    if ignore is None:
        return classes, names
    rgb = [ignore] * 3 if isinstance(ignore, int) else list(ignore)  # grey g: (g, g, g)
    key = rgb if kind == "colors" else rgb[0] if len(set(rgb)) == 1 else None
    kept = [(k, name) for k, name in zip(classes, names, strict=True) if k != key]
    if len(kept) < 2:
        raise ConfigError(f"masks.labelmap {path}: lists {len(kept)} class(es) beside "
                          f"masks.ignore {ignore}; a mask needs at least two")
    return [k for k, _ in kept], [name for _, name in kept]
