"""Masks given as run-length encodings in a CSV, as Kaggle competitions give them (Airbus
Ship Detection: ImageId, EncodedPixels, a row per ship; Severstal's ClassId, or 'a.jpg_3' ids in
one ImageId_ClassId column; Carvana's and Sartorius' along rows; SIIM-ACR's relative starts),
decoded into mask PNGs (and object ids: masks.separate) when the manifest is written.

An encoding is "start length ...", starts from 1 down each column, then along (order: columns,
Kaggle's usual), or along each row (order: rows). rle_submission writes such CSVs."""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unet.common.bad_files import listed, raise_all, sentence
from unet.common.fileio import csv_field_limit, first_not_utf8
from unet.common.maskio import write_mask_png
from unet.dataset.json_masks import object_canvas, write_object_ids
from unet.dataset.layout import DataLayoutError, Layout, files_by_stem, nfc, source_file
from unet.dataset.names import listing
from unet.dataset.rle_ids import images_by_path_id
from unet.dataset.unread import ids_elsewhere_hint, stray_files

log = logging.getLogger(__name__)
NO_OBJECT = ("", "-1")  # encodings of an image without objects (SIIM-ACR writes -1)


@dataclass(frozen=True)
class RleMasks:
    """Where the encodings of one image are: its rows' (encoding, class) in the CSV."""

    rows: tuple[tuple[str, int | None], ...]
    order: str  # columns | rows
    csv: Path
    classes: bool  # a class column: class numbers in a palette PNG; else 0/255
    names: tuple[tuple[int, str], ...] | None = None  # (class, name) where the CSV names them
    relative: bool = False  # rle.starts: relative (SIIM-ACR): each from the run before's end
    lines: tuple[int, ...] = ()  # each row's line in the CSV, for the errors that name it


class OverlapError(ValueError):
    """Runs of one encoding that overlap: the CSV encodes otherwise than 'start length'."""


OVERLAP_FIX = ("runs of one 'start length' encoding never overlap, so the CSV encodes "
               "otherwise: set rle.starts: relative if each start counts from the end of the "
               "run before (SIIM-ACR), or rewrite 'start end' pairs as 'start length'")


def _read_rows(path: Path, settings: dict[str, Any], section: str
               ) -> tuple[dict[str, list], tuple[tuple[int, str], ...] | None]:
    """The CSV's rows by the id column's value: (encoding, class number or None, line); and
    the classes' (number, name) pairs where the CSV names them."""
    if not path.is_file():
        raise DataLayoutError(f"{section}.rle.csv: no file {path}; give the CSV of encodings "
                              "(relative to the data folder)")
    wanted = [settings["id_column"], settings["rle_column"], settings.get("class_column")]
    wanted = [w for w in wanted if w]  # the class column only where one is named
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # Excel's "CSV" is the Windows code page
        at, line = first_not_utf8(raw)
        raise DataLayoutError(f"{path} is not UTF-8 (byte {raw[at]:#x} on line {line}); "
                              "save it as UTF-8 (Excel: 'CSV UTF-8')") from None
    delimiter = _delimiter(text, wanted, path, section)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    with csv_field_limit(len(text)):  # no field outgrows the file
        reader.fieldnames = [f.strip() for f in reader.fieldnames or []]  # SIIM: ', Encoded...'
        read = [(*_cells(row, wanted), _first_line(reader.line_num, row)) for row in reader]
    numbers, names = _class_numbers([(c, n) for *_, c, n in read if c is not None], path)
    rows: dict[str, list] = {}
    for key, encoding, cls, line in read:
        rows.setdefault(key, []).append((encoding, None if cls is None else numbers[cls], line))
    return rows, names


def _first_line(last: int, row: dict) -> int:
    """The file line a CSV row begins on, from the line it ends on: the reader passes over
    blank lines, and a quoted cell may hold line breaks, so counting rows names the wrong one."""
    cells = [c for v in row.values() for c in (v if isinstance(v, list) else [v]) if c]
    return last - sum(len(re.findall(r"\r\n|\r|\n", c)) for c in cells)


DELIMITERS = {",": "commas", "\t": "tabs", ";": "semicolons"}  # tried in this order


def _delimiter(text: str, wanted: list[str], path: Path, section: str) -> str:
    """The delimiter whose header holds the `wanted` columns: commas, or tabs (a .tsv, a CSV
    saved with tabs) or semicolons (Excel where the decimal mark is a comma); else the refusal
    names the columns as read with each delimiter the header holds."""
    header = text.splitlines()[0] if text else ""
    read = {d: [f.strip() for f in next(csv.reader([header], delimiter=d))] if header else []
            for d in DELIMITERS}
    for d, names in read.items():
        if all(c in names for c in wanted):
            return d
    missing = next(c for c in wanted if c not in read[","])
    found = "; ".join(f"with {DELIMITERS[d]} {', '.join(map(repr, names))}"
                      for d, names in read.items() if d == "," or d in header)
    raise DataLayoutError(
        f"{path} has no column {missing!r} (its header read {found}); set {section}.rle."
        "id_column, rle_column and class_column to its column names")


def _cells(row: dict, wanted: list[str]) -> tuple[str | None, str, str | None]:
    """A CSV row's (id, encoding, class as written or None). No object is an empty encoding,
    SIIM-ACR's '-1' or pandas' 'nan'; a class 'nan' (or empty) beside none is no class."""
    key = row[wanted[0]]  # None on a short row; composed (nfc) as the file stems
    cls = row[wanted[2]] if len(wanted) > 2 else None
    if cls is not None and wanted[2] == wanted[0]:  # Severstal's first 'a.jpg_3'
        key, _, cls = cls.rpartition("_")
    cls = None if cls is None else "" if cls.strip().lower() == "nan" else cls.strip()
    encoding = (row[wanted[1]] or "").strip()
    if encoding in NO_OBJECT or encoding.lower() == "nan":
        encoding = ""
    if not encoding and not cls:
        cls = None  # no object, and no class for it (an image listed as empty)
    return (key if key is None else nfc(key.strip())), encoding, cls


def _class_numbers(
    classes: list[tuple[str, int]], path: Path
) -> tuple[dict[str, int], tuple[tuple[int, str], ...] | None]:
    """Each class as written (with its line) to its number: numbers from 1 to 254 as they
    are, or names (Understanding Clouds' Fish, Flower, ...) as 1, 2, ... in sorted order, with
    those (number, name) pairs; a number beside names, or one out of range, is refused."""
    def number(cls: str) -> int | None:
        try:
            return int(float(cls))
        except ValueError:
            return None

    named = sorted({c for c, _ in classes if number(c) is None})
    bad = []  # every such row at once: a class column of 0s wanted one rerun per row
    for cls, line in classes:
        value = number(cls)
        if (value is not None and named) or (value is None and not cls.strip()) or (
                value is not None and not 1 <= value <= 254):
            bad.append((f"{line:09d}", DataLayoutError(
                f"{path} line {line}: class {cls!r} is not a class number" + (
                    f" nor a name as {named[0]!r} is" if named else "") + "; give classes as "
                "numbers from 1 to 254 or as names (0, the background, has no rows)")))
    raise_all(bad, f"rows of {path.name} have no usable class", "row(s)")
    if len(named) > 254:
        raise DataLayoutError(f"{path} names {len(named)} classes; at most 254 are taken")
    if not named:
        return {c: int(float(c)) for c, _ in classes}, None
    return {c: k for k, c in enumerate(named, 1)}, tuple(enumerate(named, 1))


def pair_rle(root: Path, layout: Layout) -> list[tuple[str, Path, RleMasks]]:
    """(id, image, its encodings) for every image the CSV names, by file name or stem. With
    rle.absent 'empty', an image the CSV does not name has an empty mask (Severstal lists only
    defective images); else it is refused, or skipped with allow_unpaired. CSV ids without an
    image are refused (or skipped) alike."""
    settings, section = dict(layout.rle or ()), layout.section
    table = source_file(root, layout, settings["csv"])
    rows, names = _read_rows(table, settings, section)
    img_dir = root / layout.images
    if not img_dir.is_dir():
        raise DataLayoutError(f"data folder {img_dir} does not exist; set {section}.images")
    pattern = settings.get("id_path")  # ids made from the path (UW-Madison GI Tract)
    images = (images_by_path_id(img_dir, layout, pattern) if pattern else
              files_by_stem(img_dir, layout.image_extensions, layout.recursive))
    pairs, absent, named = [], [], set()
    for stem, image in images.items():  # ids in composed form (nfc), as the CSV's
        name = nfc(image.name)
        key = name if name in rows else stem if stem in rows else None
        if key is None:
            absent.append((stem, image))
            if settings["absent"] != "empty":
                continue
        named.add(key)
        found = tuple(rows.get(key, ())) if key is not None else ()
        masks = RleMasks(tuple(r[:2] for r in found), settings["order"], table,
                         bool(settings.get("class_column")), names,
                         settings.get("starts", "absolute") == "relative",
                         tuple(r[2] for r in found))
        pairs.append((stem, image, masks))
    stray = stray_files(root, [a[1] for a in absent], {p[1].parent for p in pairs if p[2].rows},
                        section)
    if settings["absent"] == "empty":
        absent = []
        if stray:
            log.warning("%s; they get empty masks under rle.absent: empty", stray)
            stray = ""
    problems = [stray] if stray else []
    if absent and not stray:
        # by path and id: UW-Madison's slice_0001_266_266_1.50_1.50.png is in every case and day
        problems.append("images the CSV does not name: " + listing(
            [f"{p.relative_to(img_dir).as_posix()}" + (f" (id {i})" if pattern else "")
             for i, p in absent]))
    extra = sorted(set(rows) - named - {None})
    if extra:
        problems.append(f"CSV ids with no image in {img_dir}: {listing(extra)}" + (
            ids_elsewhere_hint(img_dir, extra, layout.recursive, layout.image_extensions, section)))
    if problems and not layout.allow_unpaired:
        advice = (f"set {section}.images to a folder of images only, or {section}.allow_unpaired"
                  ": true to skip them" if stray else f"fix the names, set {section}.rle.absent: "
                  "empty if an image missing from the CSV has no objects, or "
                  f"{section}.allow_unpaired: true to skip these")
        raise DataLayoutError("; ".join(problems) + f". {sentence(advice)}")
    for p in problems:
        log.warning("skipping %s", p)
    if not pairs:
        raise DataLayoutError(f"no image in {img_dir} has encodings in {settings['csv']}")
    return sorted(pairs, key=lambda p: p[0])


def decode(encoding: str, size: tuple[int, int], order: str, relative: bool = False
           ) -> np.ndarray:
    """One encoding as a (h, w) bool mask of an image of `size` (w, h). `relative`: each
    start counts (from 0) from the end of the run before, as SIIM-ACR's encodings do."""
    w, h = size
    flat = np.zeros(w * h, bool)
    numbers = encoding.split()
    if len(numbers) % 2 or not all(n.isdigit() for n in numbers):
        raise ValueError("not pairs of whole numbers 'start length ...'")
    runs = np.asarray(numbers, np.int64).reshape(-1, 2)
    if relative:  # to absolute starts from 1: the offsets and lengths before, summed
        runs[:, 0] = np.cumsum(runs[:, 0]) + np.cumsum(runs[:, 1]) - runs[:, 1] + 1
    if len(runs) and (runs[:, 0].min() < 1 or (runs.sum(1) - 1).max() > w * h):
        raise ValueError(f"a run lies outside the {w}x{h} image's {w * h} pixels (starts count "
                         "from 1)")
    back = np.flatnonzero(runs[1:, 0] <= runs[:-1, 0])  # absolute starts only increase
    if len(back):
        k = int(back[0]) + 1
        raise ValueError(
            f"run {k + 1} has start {runs[k, 0]} after a run ending at "
            f"{runs[k - 1].sum() - 1}: starts must increase, each counted from the image's "
            "first pixel (SIIM-ACR's count from the end of the run before: rle.starts: relative)")
    inside = np.flatnonzero(runs[1:, 0] < runs[:-1].sum(1))  # begins before the last ends
    if len(inside):
        k = int(inside[0]) + 1
        raise OverlapError(f"run {k + 1} (start {runs[k, 0]}) begins inside run {k} (pixels "
                           f"{runs[k - 1, 0]}..{runs[k - 1].sum() - 1})")
    for start, length in runs:
        flat[start - 1 : start - 1 + length] = True
    return flat.reshape(w, h).T if order == "columns" else flat.reshape(h, w)


def write_rle_mask(masks: RleMasks, image: Path, size: tuple[int, int], dest: Path,
                   objects: Path | None = None) -> tuple[Path, Any]:
    """Decode the encodings of `image` (of `size` (w, h)) into `dest`: 0/255 for a binary set,
    or a palette PNG of class numbers (later rows win where they overlap) with a class column;
    with `objects` (masks.separate), each row's id (its place among the image's rows, from 1;
    the later wins alike) into that TIFF. Returns `dest` and its classes' overlap (None: not
    two classes), counted here as the rows are decoded (rle_overlap.image_overlap)."""
    from unet.dataset.class_folders import PALETTE
    from unet.dataset.rle_overlap import image_overlap

    out = np.zeros(size[::-1], np.uint8)
    ids = object_canvas(size, objects)
    covered: dict = {}  # class: its rows' pixels, whatever is drawn over them (overlaps)
    bad = []  # (line, error, encoding) of every unusable row, all named at once
    for k, (encoding, cls) in enumerate(masks.rows):
        if not encoding:  # no object (and maybe no class)
            continue
        try:
            on = decode(encoding, size, masks.order, masks.relative)
        except ValueError as err:
            bad.append((masks.lines[k] if masks.lines else None, err, encoding))
            continue
        out[on] = cls if masks.classes else 255
        if masks.classes:
            covered[cls] = covered[cls] | on if cls in covered else on
        if ids is not None:
            ids[on] = k + 1
    if bad:
        raise _unusable(masks.csv, image, bad)
    write_object_ids(objects, ids)
    write_mask_png(dest, out, palette=PALETTE if masks.classes else None)
    return dest, image_overlap(covered, out) if len(covered) > 1 else None


def _unusable(csv_path: Path, image: Path, bad: list[tuple[int | None, ValueError, str]]
              ) -> DataLayoutError:
    """The refusal of an image's unusable rows, each by its line, with the fix once."""
    overlap = sum(isinstance(err, OverlapError) for _, err, _ in bad)
    fix = "fix or remove the row" + ("s" if len(bad) > 1 else "")
    if overlap:
        fix = OVERLAP_FIX + ("" if overlap == len(bad) else "; fix or remove the other rows")
    if len(bad) == 1:
        line, err, encoding = bad[0]
        at = f" line {line}" if line else ""
        return DataLayoutError(f"{csv_path}{at}: the encoding of {image.name} is unusable "
                               f"({err}): {encoding[:60]!r}; {fix}")
    rows = [f"{f'line {line}: ' if line else ''}{err}: {encoding[:60]!r}"
            for line, err, encoding in bad]
    # indented below the image: its lines stay apart from other images' in one error
    return DataLayoutError("\n".join([
        f"{csv_path}: {len(bad)} encodings of {image.name} are unusable:",
        *(f"    {r.strip()}" for r in listed(rows, "row(s)")), f"    {sentence(fix)}."]))
