"""Each case's voxel size, a row per case in <folder>/spacing.csv (`case,z,y,x,unit`): `unet
unstack` records a volume's there as it writes its slices, and evaluate.voxel_spacing names the
table to measure each case's HD95 in its own mm (LiTS's slices run 0.7-5 mm: one spacing for
all puts most cases in the wrong mm)."""

from __future__ import annotations

import contextlib
import csv
import math
import os
from collections.abc import Iterator
from pathlib import Path

from unet.common.fileio import atomic_path

TABLE = "spacing.csv"
HEADER = ["case", "z", "y", "x", "unit"]
Spacing = tuple[tuple[float, float, float], str]  # ((z, y, x), unit)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold the folder's lock: unstacks run at once (xargs -P) each read, change and rename
    the table, and without it a call renaming a copy read before another's row was written
    would drop that row. The folder itself is locked, so nothing is left beside the slices."""
    try:
        import fcntl
    except ImportError:  # Windows opens no folder: a lock file's first byte, retried for 10 s
        import msvcrt

        with open(folder / f".{TABLE}.lock", "a+b") as f:
            msvcrt.locking(f.fileno(), msvcrt.LK_LOCK, 1)
            yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when closed
        yield
    finally:
        os.close(fd)


def record_spacing(folder: str | os.PathLike, case: str,
                   spacing: tuple[float, float, float] | None, unit: str) -> Path:
    """Put `case`'s row ((z, y, x) `spacing` in `unit`) in `folder`'s table, replacing one it
    held (a case split again); `spacing` None removes it (the new volume gives none)."""
    folder = Path(folder)
    path = folder / TABLE
    with _locked(folder):
        rows = {c: r for c, (_, r) in _rows(path).items()} if path.exists() else {}
        if spacing is None and case not in rows:
            return path  # nothing to remove: no table is started for a volume without sizes
        rows.pop(case, None)
        if spacing is not None:
            rows[case] = [case, *(f"{v:g}" for v in spacing), unit]
        with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")  # plain lines: csv writes \r\n
            w.writerow(HEADER)
            w.writerows(rows[c] for c in sorted(rows))
    return path


def check_table(folder: str | os.PathLike) -> None:
    """Refuse `folder`'s table where record_spacing could not read it, before unstack writes
    a slice: refused after them, the fixed table's rerun met its own slices and stopped."""
    if (Path(folder) / TABLE).is_file():
        _rows(Path(folder) / TABLE)


def _rows(path: Path) -> dict[str, tuple[int, list[str]]]:
    """The table's rows by case, each with its line in the file and its cells stripped
    (read_spacing_table checks their values)."""
    # utf-8-sig: Excel's "CSV UTF-8" starts with a BOM, which would make the header '\ufeffcase'
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        header = header and [c.strip() for c in header]
        if header != HEADER:
            raise ValueError(f"{path}: the first line must be {','.join(HEADER)} (unet unstack's "
                             f"table of each case's voxel size), not {header}")
        rows: dict[str, tuple[int, list[str]]] = {}
        for r in reader:
            r = [c.strip() for c in r]  # a row typed "b, 1, 1, 1, mm": unit mm, not ' mm'
            if r and r[0] in rows:  # two sizes for one case: which is right is the user's call
                raise ValueError(f"{path}: row {reader.line_num} repeats case {r[0]}: keep one "
                                 "of its rows")
            if any(r):  # a blank line, or Excel's ,,,, of an emptied row
                rows[r[0]] = (reader.line_num, r)
        return rows


def read_spacing_table(path: str | os.PathLike) -> dict[str, Spacing]:
    """Case -> ((z, y, x), unit) from a spacing table; a row that is not a case and three
    sizes above 0 is refused with its line number."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"evaluate.voxel_spacing: no such table {path}; `unet unstack` writes "
                         f"{TABLE} into the folder it splits volumes into: name that file, "
                         "relative to dataset.local.path (or absolute)")
    out: dict[str, Spacing] = {}
    for line, row in _rows(path).values():
        try:
            z, y, x = (float(v) for v in row[1:4])
            ok = len(row) == 5 and row[0] and all(0 < v < math.inf for v in (z, y, x))
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{path}: row {line} {','.join(row)} is not case,z,y,x,unit with "
                             "sizes above 0: correct it, or split the case again with unet "
                             "unstack")
        out[row[0]] = ((z, y, x), row[4])
    return out
