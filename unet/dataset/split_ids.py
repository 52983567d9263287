"""split.test_ids, val_ids and exclude_ids given as a text file of ids: read into a list."""

from __future__ import annotations

import re
from pathlib import Path, PurePath


class SplitError(ValueError):
    """The split settings leave a split empty or name unknown ids."""


ID_KEYS = ("test_ids", "val_ids", "exclude_ids")  # split keys of ids, patterns or a text file


def read_id_list(names: list[str | int] | str | None, key: str) -> list[str | int]:
    """split.test_ids, val_ids or exclude_ids as a list: as given, or read from the text file a
    string names (one id or pattern a line; blank lines, # comments and a byte-order mark, as
    Excel's "CSV UTF-8" writes, skipped), as VOC's ImageSets/Segmentation/val.txt lists its ids."""
    if not isinstance(names, str):
        return list(names or [])
    path = Path(names)
    if not path.is_file():
        raise SplitError(
            f"{key}: no file {path.resolve()}; give a text file of ids, one id a line (a path "
            "relative to the working directory, or absolute), or a list of ids"
        )
    lines = (line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines())
    ids = [line for line in lines if line and not line.startswith("#")]
    if not ids:
        raise SplitError(f"{key}: {path} lists no id; put one id a line, or give a list")
    return ids


def ids_of_file_names(lists: dict[str, list[str | int]], pairs: list[dict]) -> dict[str, list]:
    """`lists` (split key -> entries) with each entry that is no id but names a pair's image or
    mask file (`a_S1Hand.tif`), or is a CSV row whose fields do (Sen1Floods11's split lists:
    `a_S1Hand.tif,a_LabelHand.tif`, no header), made that pair's id; others as given (patterns,
    group names), so that a data set's own list of file names is used as it is."""
    ids = {pair["id"] for pair in pairs}
    files: dict[str, str | None] = {}
    paths: list[tuple[tuple[str, ...], str]] = []  # for a name pairs share: their folders
    for pair in pairs:  # each image's and mask's file name
        for path in (pair.get("image"), pair.get("mask")):
            if isinstance(path, str):
                name = PurePath(path).name  # one two pairs share (01/t1, 02/t1) names none
                files[name] = pair["id"] if files.get(name, pair["id"]) == pair["id"] else None
                paths.append((PurePath(path).parts, pair["id"]))
    return {key: [_entry_id(e, ids, files, paths) for e in entries]
            for key, entries in lists.items()}


def _entry_id(entry: str | int, ids: set[str], files: dict[str, str | None],
              paths: list[tuple[tuple[str, ...], str]]) -> str | int:
    """The id a file name, path or CSV row names; the entry itself where it is an id or none."""
    if not isinstance(entry, str) or entry in ids:
        return entry
    for field in re.split(r"[,\t;]", entry):  # a row's fields; a lone name is one field
        given = PurePath(field.strip().strip('"').replace("\\", "/"))
        if files.get(given.name):
            return files[given.name]
        if given.name in files and len(given.parts) > 1:  # 01/t1.tif: its folders tell
            found = {i for parts, i in paths if parts[-len(given.parts):] == given.parts}
            if len(found) == 1:
                return found.pop()
    return entry
