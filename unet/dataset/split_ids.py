"""split.test_ids, val_ids and exclude_ids given as a text file of ids: read into a list."""

from __future__ import annotations

from pathlib import Path


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
