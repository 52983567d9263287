"""Each id's stratum (split.stratify_by): what a regular expression matches at the start of the
id, or a column of a metadata table (split.metadata: a CSV with a row per image, as Kaggle's
train.csv with its organ or patient_id column)."""

from __future__ import annotations

import csv
import re
from pathlib import Path, PurePath

from unet.dataset.split_ids import SplitError

COLUMN = "column:"  # stratify_by 'column:organ': the metadata table's organ column


class StrataError(SplitError):
    """split.stratify_by or split.metadata cannot give every id its stratum."""


def strata_of(ids: list[str], stratify_by: str | None, metadata: dict | None = None,
              csv_path: str | Path | None = None) -> dict[str, str] | None:
    """Each id's stratum under `stratify_by` ('column:NAME' reads NAME from the CSV at
    `csv_path`, keyed by metadata's id_column; else a regular expression whose match at the
    start of the id, its first parenthesised group if any, is the stratum). None: unset."""
    if not stratify_by:
        return None
    if stratify_by.startswith(COLUMN):
        column = stratify_by[len(COLUMN):]
        if not csv_path:
            raise StrataError(f"split.stratify_by {stratify_by!r} names a column of "
                              "split.metadata's table, and none is set: set split.metadata: "
                              "{csv: train.csv, id_column: id}")
        return _column(ids, Path(csv_path), (metadata or {}).get("id_column", "id"), column)
    return _matched(ids, stratify_by)


def _matched(ids: list[str], pattern_text: str) -> dict[str, str]:
    """The regular expression's match at the start of each id (its first group, if any)."""
    try:
        pattern = re.compile(pattern_text)
    except re.error as err:
        raise StrataError(f"split.stratify_by {pattern_text!r} is not a regular expression: "
                          f"{err}") from None
    strata = {}
    for i in ids:
        found = pattern.match(i)
        key = found and found.group(1 if pattern.groups else 0)
        if not key:
            raise StrataError(f"split.stratify_by {pattern_text!r} does not match the id {i!r}: "
                              "every id must start with its stratum (e.g. '^(kidney|liver)_'); "
                              "fix the expression, or use 'column:NAME' with split.metadata")
        strata[i] = key
    return strata


def _column(ids: list[str], path: Path, id_column: str, column: str) -> dict[str, str]:
    """Column `column` of the CSV at `path` for each id (its row by `id_column`: the id, or a
    file name whose stem is the id); an id without a row is refused, naming the table."""
    rows = _rows(path, id_column, column)
    strata, missing = {}, []
    for i in ids:
        if i in rows:
            strata[i] = rows[i]
        else:
            missing.append(i)
    if missing:
        raise StrataError(
            f"split.metadata {path}: no row for the id {missing[0]!r} ({len(missing)} of "
            f"{len(ids)} ids lack one, e.g. {missing[:3]}; its {id_column} column holds e.g. "
            f"{sorted(rows)[:3]}): add a row per image with its {column}, fix "
            "split.metadata.id_column, or leave the image out with split.exclude_ids")
    return strata


def _rows(path: Path, id_column: str, column: str) -> dict[str, str]:
    """{id: value of `column`} of the table; ids also by their file stem ('a.png' names a)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # Excel's "CSV UTF-8" BOM
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for name in (id_column, column):
                if name not in header:
                    key = "metadata.id_column" if name == id_column else "stratify_by"
                    raise StrataError(f"split.metadata {path} has no column {name!r} (split."
                                      f"{key}); its columns are {header}: name one of them "
                                      f"in split.{key}")
            table = [(r[id_column].strip(), (r[column] or "").strip()) for r in reader]
    except OSError as err:
        raise StrataError(f"split.metadata: cannot read {path}: {err.strerror}; give the "
                          "CSV's path relative to dataset.local.path, or absolute") from None
    rows: dict[str, str] = {}
    for key, value in table:
        if rows.setdefault(key, value) != value:
            raise StrataError(f"split.metadata {path}: the id {key!r} has rows with {column} "
                              f"{rows[key]!r} and {value!r}; give each image one {column}")
    for key, value in table:  # by stem second: an id spelt out wins
        rows.setdefault(PurePath(key).stem, value)
    return rows


def strata_counts(split: dict[str, list[str]], strata: dict[str, str]) -> dict[str, dict]:
    """Each stratum's image count in each part (train, val, test), strata by name."""
    counts: dict[str, dict[str, int]] = {}
    for s in sorted(set(strata.values())):
        counts[s] = {part: 0 for part in ("train", "val", "test")}
    for part in ("train", "val", "test"):
        for i in split[part]:
            counts[strata[i]][part] += 1
    return counts
