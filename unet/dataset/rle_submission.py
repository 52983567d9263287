"""Predicted masks as a Kaggle-style submission CSV of run-length encodings (`unet predict
--rle`): an image's foreground, each class's pixels or each object as 'start length ...',
starts counted from 1 in the order rle.decode reads them (columns or rows), or as SIIM-ACR
counts them, each from the end of the run before."""

from __future__ import annotations

import csv
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from scipy import ndimage

from unet.common.stems import without_extension


def encode(mask: np.ndarray, order: str = "columns", relative: bool = False) -> str:
    """A (h, w) bool mask as 'start length ...' (starts from 1), `order` as in decode;
    `relative`: each start counted from 0 after the run before, as SIIM-ACR scores them."""
    flat = (mask.T if order == "columns" else mask).reshape(-1).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flat, [0]])))
    return _text(edges[::2], edges[1::2], relative)


def _runs(flat: np.ndarray, relative: bool = False) -> str:
    """'start length ...' of sorted 0-based pixel indices in encoding order (`relative` as in
    encode)."""
    if not len(flat):
        return ""
    breaks = np.flatnonzero(np.diff(flat) != 1)
    starts = np.concatenate([flat[:1], flat[breaks + 1]])
    ends = np.concatenate([flat[breaks], flat[-1:]]) + 1
    return _text(starts, ends, relative)


def _text(starts: np.ndarray, ends: np.ndarray, relative: bool) -> str:
    """Runs from 0-based `starts` to `ends` (past the last pixel) as 'start length ...': starts
    from 1, or with `relative` the gap since the run before ended (the first's from pixel 0)."""
    shown = starts - np.concatenate([[0], ends[:-1]]) if relative else starts + 1
    return " ".join(f"{a} {b - c}" for a, b, c in
                    zip(shown.tolist(), ends.tolist(), starts.tolist(), strict=True))


def _encodings(on: np.ndarray, objects: bool, order: str, relative: bool = False) -> list[str]:
    """A class's pixels as one encoding, or with `objects` one per 8-connected object, each
    from its own pixels (in its bounding box): a whole-image mask per object took an image's
    size times the objects (64 GB for 1000 objects at 8192x8192), and as long per object."""
    if not objects:
        return [encode(on, order, relative)] if on.any() else []
    labels, _ = ndimage.label(on, structure=np.ones((3, 3), bool))
    h, w = on.shape
    out = []
    for k, box in enumerate(ndimage.find_objects(labels), start=1):
        ys, xs = np.nonzero(labels[box] == k)
        ys, xs = ys + box[0].start, xs + box[1].start
        flat = xs.astype(np.int64) * h + ys if order == "columns" else ys.astype(np.int64) * w + xs
        out.append(_runs(np.sort(flat), relative))
    return out


def submission_columns(mapping: Any, columns: tuple[str, ...] | None = None) -> list[str]:
    """The CSV's header: `columns` (--rle-columns: the image, [class,] encoding columns a
    competition names), checked against the model's classes, or Kaggle's usual names."""
    classes = mapping.num_classes - mapping.scored_from > 1
    default = ["ImageId", "ClassId", "EncodedPixels"] if classes else ["ImageId", "EncodedPixels"]
    if columns and len(columns) != len(default) and not (classes and _joined(columns)):
        what = "several scored classes" if classes else "one scored class"
        raise ValueError(
            f"--rle-columns {','.join(columns)}: the model has {what}, so the CSV takes "
            f"{len(default)} names ({','.join(default)}: image, {'class, ' if classes else ''}"
            "encoding)" + (", or two whose first holds 'class' or 'label' for image and class "
                           "in one id (Severstal's first ImageId_ClassId)" if classes else "")
        )
    return list(columns) if columns else default


def _says_class(name: str) -> bool:
    """Whether a column name says it holds the class: `ClassId`, `class_name`, `Label`."""
    return any(w in name.lower() for w in ("class", "label"))


def _joined(header: list[str] | tuple[str, ...]) -> bool:
    """Two names, the first holding image and class in one id: Severstal's first
    `ImageId_ClassId` ('a.jpg_3'), Understanding Clouds' `Image_Label` ('a.jpg_Fish')."""
    return len(header) == 2 and _says_class(header[0])


def _by_name(column: str) -> bool:
    """Whether the class column (of a joined id: its part after the last '_') takes the
    class's name, as `Image_Label` and `class_name` say, not its value (`ImageId_ClassId`:
    Severstal's scorer reads 'a.jpg_3' whatever masks.names calls class 3)."""
    said = column.rsplit("_", 1)[-1] if "_" in column[:-1] else column
    return any(w in said.lower() for w in ("label", "name"))


def _shaped(rows: list[list], header: list[str], labels: dict,
            by_name: bool | None = None) -> list[list]:
    """(image, class value, encoding) rows as `header` orders them, or with a joined id
    (_joined) as ('image_class', encoding), the class by its name in `labels` where given and
    `by_name` (--rle-class) says so, or, where it is None, the class column says name or
    label (_by_name)."""
    if _joined(header):  # an image listed without classes (--rle-objects) keeps its own id
        named = labels if (_by_name(header[0]) if by_name is None else by_name) else {}
        return [[f"{i}_{named.get(c, c)}" if c != "" else i, e] for i, c, e in rows]
    at = _places(header)
    named = labels if (_by_name(header[at[1]]) if by_name is None else by_name) else {}
    rows = [[i, named.get(c, c), e] for i, c, e in rows]
    return [[row[at.index(k)] for k in range(3)] for row in rows]


def _places(header: list[str]) -> list[int]:
    """Where each of (image, class, encoding) goes among three `header` names: a name that
    says class (Severstal's `ImageId,EncodedPixels,ClassId`, a `Label`) is the class column
    wherever it stands, the others image then encoding; else by place, image, class,
    encoding."""
    said = [k for k, n in enumerate(header) if _says_class(n)]
    if len(said) != 1:
        return [0, 1, 2]
    rest = [k for k in range(3) if k != said[0]]
    return [rest[0], said[0], rest[1]]


def check_submission_target(path: Path) -> None:
    """Refuse, before any mask is predicted, a --rle path that is no .csv file to write."""
    from unet.common.fileio import check_writable

    if path.suffix.lower() != ".csv":
        raise ValueError(f"--rle {path}: give a .csv file to write the encodings to")
    if path.is_dir():
        raise FileExistsError(f"--rle {path} is a folder; name the .csv file to write, e.g. "
                              f"{path / 'submission.csv'}")
    check_writable(path, "--rle")


def write_submission(
    masks: list[tuple[str, Path]],
    mapping: Any,
    path: Path,
    order: str = "columns",
    objects: bool = False,
    columns: tuple[str, ...] | None = None,
    stem: bool = False,
    starts: str = "absolute",
    empty: str | None = None,
    names: list | None = None,
    by_name: bool | None = None,
) -> int:
    """A Kaggle-style CSV of predicted masks (image file name, mask PNG): ImageId and
    EncodedPixels of the foreground (every class but 0; empty for none), or for more than one
    scored class (every class from `mapping.scored_from`: class 0 too without a background) a
    ClassId column with the class's mask value (a colour as #rrggbb) and a row per class
    present, or with `empty` given a row per image and class (Severstal's form). With
    `objects`, a row per 8-connected object instead (Airbus scores each ship), an image
    without one listed once with an empty encoding (and class). `columns` names the columns
    (submission_columns); `stem` writes each image's file stem, not its name (TGS, HuBMAP);
    `starts` 'relative' and `empty` '-1' write SIIM-ACR's form (encode's `relative`; the
    encoding of an image or class without objects, '' for None); `names`, each class's name
    (model.pt's class_names), labels the classes of a joined id or class column, as `by_name`
    (--rle-class) says, or the column's name (_shaped). Written atomically; returns the rows
    written."""
    from unet.common.fileio import atomic_path

    header = submission_columns(mapping, columns)
    first = mapping.scored_from
    classes = mapping.num_classes - first > 1
    relative, rows = starts == "relative", []
    for name, png in masks:
        # s1/a: a path; x for x.ome.tif, as the data set's ids (file_stem)
        name = without_extension(PurePosixPath(name)).as_posix() if stem else name
        index = mapping.read_index(png, "predicted mask")
        if not classes:
            found = _encodings((index > 0) & (index < mapping.num_classes), objects, order,
                               relative)
            rows += [[name, e] for e in found] or [[name, empty or ""]]
            continue
        found = []
        for k in range(first, mapping.num_classes):
            value = f"#{mapping.values[k]:06x}" if mapping.rgb else mapping.values[k]
            runs = _encodings(index == k, objects, order, relative)
            # --rle-empty without --rle-objects: every image and class listed, as Severstal's
            # and Understanding Clouds' scorers read them; absent classes left out otherwise
            runs = runs or ([empty] if empty is not None and not objects else [])
            found += [[name, value, e] for e in runs]
        rows += found or ([[name, "", empty or ""]] if objects else [])  # objects: every image
    if classes:  # rows are (image, class, encoding): each value under its column's name
        labels = {f"#{v:06x}" if mapping.rgb else v: n
                  for v, n in zip(mapping.values, names or (), strict=False) if n}
        rows = _shaped(rows, header, labels, by_name)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)
