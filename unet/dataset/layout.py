"""A data folder's layout (where images and masks live, how names relate) and its listing."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from unicodedata import normalize

from unet.common.schema import defaults
from unet.common.stems import file_stem
from unet.dataset.packed import packed_extensions

_L = defaults("dataset", "local")  # field defaults: config/schema.yaml
IMAGE_EXTENSIONS = tuple(_L["image_extensions"])  # also what predict_folder picks up
GROUP = "{group}"  # in images and masks: the folder level that names a sequence or patient
TABLES = {"rle": "csv", "coco": "json", "labelme": "json", "qupath": "json", "via": "json",
          "yolo": "labels", "xml": "file", "geojson": "file", "wkt": "json"}


class DataLayoutError(ValueError):
    """The data folder does not hold what the config says it should."""


def wildcard(template: str, *fields: str, deep: bool = False) -> str:
    """The glob (or fnmatch) pattern of a path template: each of `fields` ({id}, {group})
    matches any name, the rest only itself ('[' in 'scans [2019]/' is no character class);
    `deep`: an {id} that starts a path part also below subfolders ('labels/**/*.txt')."""
    if deep and template.partition("{id}")[0][-1:] in ("", "/"):  # two fields side by side: **
        template = template.replace("{id}", "{id}{id}/{id}", 1)
    parts = re.split("|".join(re.escape(f) for f in fields), template)
    return "*".join(glob.escape(part) for part in parts)


@dataclass(frozen=True)
class Layout:
    """Where images and masks live inside a data folder, and how their names relate."""

    images: str = _L["images"]
    # A folder, or several whose masks of one image merge (Montgomery's leftMask/, rightMask/)
    masks: str | tuple[str, ...] = _L["masks"]
    mask_suffix: str | tuple[str, ...] = _L["mask_suffix"]  # "_mask": Carvana's <id>_mask.gif
    mask_folders: str = _L["mask_folders"]  # several masks folders: union, or classes
    image_suffix: str = _L["image_suffix"]  # e.g. "_training" for DRIVE's 21_training.tif
    mask_prefix: str = _L["mask_prefix"]  # e.g. "man_seg": the Cell Tracking Challenge
    image_prefix: str = _L["image_prefix"]  # e.g. "t" for its t013.tif beside man_seg013.tif
    mask_stem: tuple[str, str] = ("", "")  # (pattern, replace): KITTI's um_000000 -> um_road_...
    recursive: bool = _L["recursive"]  # also look in subfolders (one folder per patient)
    image_extensions: tuple[str, ...] = IMAGE_EXTENSIONS
    mask_extensions: tuple[str, ...] = tuple(_L["mask_extensions"])
    allow_unpaired: bool = _L["allow_unpaired"]
    missing_mask: str = _L["missing_mask"]  # "empty": an image without a mask is background
    missing_part: str = _L["missing_part"]  # "absent": a united folder or file lacking: no part
    # Further masks' stem: the mask stem + a match of this, '_\\d+': BUSI's "x_mask_1.png"
    mask_parts: str = _L["mask_parts"]
    # Further bands of each image, a file each: paths with {id}, e.g. "train_nir/nir_{id}.TIF"
    band_files: tuple[str, ...] = tuple(_L["band_files"])
    band_nodata: float | None = _L["band_nodata"]  # their fill, where a file declares none
    # Each image's region of interest, a path with {id}, e.g. DRIVE's "mask/{id}_training_mask.gif"
    roi: str = _L["roi"]
    ignore_regions: str = _L["ignore_regions"]  # regions left out, e.g. "vague/{id}.png"
    # Masks as run-length encodings in a CSV: its section as sorted (key, value) pairs, or None
    rle: tuple[tuple[str, Any], ...] | None = None
    coco: tuple[tuple[str, Any], ...] | None = None  # the same for a COCO annotations JSON
    labelme: tuple[tuple[str, Any], ...] | None = None  # and for LabelMe's JSON per image
    qupath: tuple[tuple[str, Any], ...] | None = None  # and QuPath's GeoJSON per image
    via: tuple[tuple[str, Any], ...] | None = None  # and VIA's one JSON for the images
    yolo: tuple[tuple[str, Any], ...] | None = None  # and YOLO's labels, a .txt per image
    xml: tuple[tuple[str, Any], ...] | None = None  # and ImageScope's or ASAP's XML per image
    geojson: tuple[tuple[str, Any], ...] | None = None  # and a map-coordinate GeoJSON per image
    wkt: tuple[tuple[str, Any], ...] | None = None  # and a JSON of WKT polygons per image (xBD)
    section: str = "dataset.local"  # config section named in error messages
    root: str = ""  # url/kaggle: the folder inside the unpacked archives (for error messages)

    @property
    def mask_dirs(self) -> tuple[str, ...]:
        """The masks folder, or folders, as a tuple."""
        return (self.masks,) if isinstance(self.masks, str) else tuple(self.masks)


def mask_suffixes(layout: Layout) -> tuple[str, ...]:
    """One mask suffix per masks folder: the one suffix for all, or the list given."""
    folders = layout.mask_dirs
    if isinstance(layout.mask_suffix, str):
        return (layout.mask_suffix,) * len(folders)
    if len(layout.mask_suffix) != len(folders):
        raise DataLayoutError(
            f"{layout.section}.mask_suffix lists {len(layout.mask_suffix)} suffixes for "
            f"{len(folders)} masks folder(s); give one suffix per folder, in the same order, "
            "or a single suffix for all")
    return tuple(layout.mask_suffix)


def visible_files(folder: Path, recursive: bool, extensions: Iterable[str] | None = None,
                  ) -> list[Path]:
    """The files in `folder` (and its subfolders when `recursive`), sorted, leaving out hidden
    ones and those in hidden folders (macOS's ._a.png, .DS_Store, .ipynb_checkpoints/). A link
    to a file that is gone, with one of `extensions`, is refused, named: it was passed over as
    if absent, its mask then called unpaired, or a new image left unpredicted."""
    found = sorted(_walk(folder) if recursive else folder.iterdir())
    found = [p for p in found if not any(part.startswith(".")
                                         for part in p.relative_to(folder).parts)]
    exts = {e.lower() for e in extensions or ()}
    broken = [p for p in found if p.suffix.lower() in exts and p.is_symlink() and not p.exists()]
    if broken:
        shown = ", ".join(f"{p} -> {os.readlink(p)}" for p in broken[:3])
        many = "s" * (len(broken) > 1)
        raise DataLayoutError(
            f"{len(broken)} file{many} in {folder} link{'s' * (not many)} to what does not "
            f"exist: {shown}{', ...' if len(broken) > 3 else ''}; mount or restore the "
            f"target{many} (git-annex or DataLad data: fetch it, `git annex get` or `datalad "
            f"get`), or remove the link{many}"
        )
    return [p for p in found if p.is_file()]


def _walk(folder: Path) -> Iterator[Path]:
    """The files under `folder`, linked folders entered (rglob skips them), each real one once."""
    seen: set[str] = set()
    for top, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        # links last, by name: listing order chose a twice-reached folder's path, disk by disk
        dirs[:] = sorted((d for d in dirs if not d.startswith(".")),
                         key=lambda d: (os.path.islink(os.path.join(top, d)), d))
        yield from (Path(top) / f for f in files)


def files_with(folder: Path, extensions: Iterable[str], recursive: bool = False,
               strict: bool = True) -> list[Path]:
    """The visible files in `folder` with one of `extensions` (any case); a link among them to
    what is gone refused when `strict` (not when listing a rule's inputs: its job says it)."""
    exts = {e.lower() for e in extensions}
    found = visible_files(folder, recursive, exts if strict else None)
    return [p for p in found if p.suffix.lower() in exts]


def files_by_stem(folder: Path, extensions: Iterable[str], recursive: bool = False,
                  ) -> dict[str, Path]:
    """The visible files in `folder` with one of `extensions`, by stem in composed form (nfc);
    two files with one stem (a.png beside a.jpg), which names a pair's outputs, are refused."""
    found: dict[str, Path] = {}
    twice = []
    for p in files_with(folder, extensions, recursive):
        stem = nfc(file_stem(p))
        if stem in found:
            twice.append((str(p), DataLayoutError(
                f"{found[stem]} and {p} would have the same id {stem!r} (the file stem, which "
                "names the outputs); rename or remove one")))
            continue
        found[stem] = p
    shared_ids(twice)
    return found


def shared_ids(twice: list[tuple[str, DataLayoutError]]) -> None:
    """Refuse every file whose id another file has, all at once (not one a rerun)."""
    if twice:
        from unet.common.bad_files import raise_all  # here: the DAG build imports this module

        raise_all(twice, "files would share an id with another", "file(s)")


def nfc(name: str) -> str:
    """`name` composed (NFC): a Mac writes café decomposed, configs and CSVs type it composed."""
    return normalize("NFC", name)


def on_disk(path: Path) -> Path:
    """`path` with each missing part replaced by the one entry of its folder that differs
    from it only in Unicode form (a Mac names a folder café decomposed, a config has it typed
    composed, or the reverse); a part that exists as given, matches none or matches several,
    or holds a template ({id}, {group}, *), and everything after it, is kept as given."""
    parts = path.parts
    found = Path(parts[0]) if path.anchor else Path()
    for i, part in enumerate(parts[1 if path.anchor else 0:], 1 if path.anchor else 0):
        if any(c in part for c in "{*?["):
            return found.joinpath(*parts[i:])
        if not (found / part).exists():
            same = [c for c in folder_entries(found) if nfc(c) == nfc(part)]
            part = same[0] if len(same) == 1 else part
        found = found / part
    return found


def folder_entries(folder: Path) -> list[str]:
    """The names in `folder`; none when it is missing or unreadable."""
    try:
        return os.listdir(folder)
    except OSError:
        return []


def local_root(path: str) -> Path:
    """dataset.local.path as a folder on disk: `~` expanded, its parts spelt as on disk."""
    return on_disk(Path(path).expanduser())


def layout_on_disk(root: Path, layout: Layout) -> Layout:
    """`layout` with its images and masks folders and the file of its table (TABLES) spelt as
    on disk under `root` (see on_disk): a name typed composed finds a folder named decomposed."""
    def spelt(name: str) -> str:
        if not name:
            return name
        found = on_disk(root / name)
        if found == root / name:
            return name
        return found.relative_to(root).as_posix() if found.is_relative_to(root) else str(found)

    masks = layout.masks if isinstance(layout.masks, str) else tuple(map(spelt, layout.masks))
    tables = {}
    for field, key in TABLES.items():
        table = dict(getattr(layout, field) or ())
        if table.get(key):
            table[key] = spelt(table[key])
            tables[field] = tuple(sorted(table.items()))
    return replace(layout, images=spelt(layout.images),
                   masks=spelt(masks) if isinstance(masks, str) else masks, **tables)


# the Layout fields a source's section sets as they are (its tables are read apart)
_KEYS = tuple(f.name for f in fields(Layout) if f.name not in (*TABLES, "section", "root"))


def _group_needs_images(kw: dict[str, Any], tables: dict[str, Any], source: str) -> None:
    """Refuse {group} where images has none: it would be read as the text '{group}'."""
    images = kw.get("images", _L["images"])
    used = [k for k, v in (*kw.items(), *tables.items()) if GROUP in str(v or "")]
    if GROUP not in images and used:
        raise DataLayoutError(
            f"dataset.{source}.{used[0]} {kw.get(used[0], tables.get(used[0]))!r} has {GROUP}, "
            f"but dataset.{source}.images {images!r} has none: {GROUP} stands for the folder "
            f"level that differs between groups; put it in images too (e.g. '{GROUP}/images'), "
            f"or write the group's own name in place of {GROUP}")


def layout_from(settings: dict[str, Any], source: str) -> Layout:
    """The Layout of a source's config section (dataset.local, url or kaggle)."""
    kw = {k: settings[k] for k in _KEYS if k in settings}
    for k in ("image_extensions", "mask_extensions", "masks", "mask_suffix", "band_files"):
        if isinstance(kw.get(k), list):
            kw[k] = tuple(kw[k])
    if isinstance(stem := kw.get("mask_stem"), dict):  # {pattern, replace}
        kw["mask_stem"] = (stem.get("pattern", ""), stem.get("replace", ""))
    tables = {f: settings.get(f) or {} for f in TABLES}
    named = {f"{f}.{k}": tables[f].get(k) for f, k in TABLES.items()}
    if len(both := [k for k, v in named.items() if v]) > 1:
        raise DataLayoutError(f"dataset.{source}: {' and '.join(both)} both set; keep one")
    _group_needs_images(kw, named, source)
    if packed := packed_extensions(kw, f"dataset.{source}"):
        raise DataLayoutError(packed)
    drawn = {f: tuple(sorted(t.items())) if t.get(TABLES[f]) else None for f, t in tables.items()}
    return Layout(**kw, **drawn, section=f"dataset.{source}", root=settings.get("root", ""))


def data_files(root: Path, layout: Layout) -> list[Path]:
    """Every file the layout could pick up under `root` (images, masks, band files, regions of
    interest and to ignore), sorted: a local folder is used in place, so these make its data set
    stale when added, removed or changed. Missing folders give none (pairing then names them)."""
    layout = layout_on_disk(root, layout)
    from importlib import import_module  # by name: only {group} layouts list it (layout_kinds)
    def matching(f: str, deep: bool = False) -> list[Path]:
        levels = import_module("unet.dataset.group_levels")  # Train/Urban: {group} is */*
        pattern = wildcard(levels.deeper(root, layout.images, f), "{id}", GROUP, deep=deep)
        return sorted(root.glob(pattern)) if "{id}" in f or GROUP in f else [root / f]

    # (folder, recursive): a masks folder per image ({id}) holds that image's masks alone
    folders = [(p, layout.recursive) for p in matching(layout.images)]
    extra: list[Path] = []
    if drawn := next((f for f in TABLES if getattr(layout, f)), None):  # CSV, JSONs, .txt
        table = dict(getattr(layout, drawn))  # YOLO's also names its data.yaml
        deep = layout.recursive and drawn == "yolo"  # its labels mirror the images' subfolders
        extra = matching(table[TABLES[drawn]], deep) + [root / n for n in [table.get("names")] if n]
    else:
        folders += [(p, layout.recursive and "{id}" not in m)
                    for m in layout.mask_dirs for p in matching(m)]
    exts = (*layout.image_extensions, *layout.mask_extensions)
    found = {p for d, sub in folders if d.is_dir() for p in files_with(d, exts, sub, strict=False)}
    templates = (*layout.band_files, layout.roi, layout.ignore_regions)  # '': none
    bands = {p for t in templates if t for p in matching(t) if p.exists()}
    return sorted(found | bands | {p for p in extra if p.is_file()})


def source_file(root: Path, layout: Layout, name: str) -> Path:
    """A file the layout names (the CSV of encodings, the COCO JSON), relative to the data
    folder `root`; for url and kaggle sources also beside the unpacked archives, above the
    layout's `root` folder inside them, where a downloaded CSV or JSON lands."""
    path = on_disk(root / name)
    if not path.is_file() and layout.root:
        top = root.parents[len(Path(layout.root).parts) - 1]
        if on_disk(top / name).is_file():
            return on_disk(top / name)
    return path
