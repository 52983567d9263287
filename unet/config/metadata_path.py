"""split.stratify_by and split.metadata checked when the config is read; the metadata CSV found
where evaluate.voxel_spacing's table is, an input of split_dataset (an edited table reruns
the split)."""

from __future__ import annotations

import re
from pathlib import Path

from unet.config.checks import ConfigError
from unet.config.table_path import table_path
from unet.dataset.split_strata import COLUMN


def check_strata(split: dict) -> None:
    """split.stratify_by: a regular expression, or 'column:NAME' of split.metadata's table,
    which is set only to be read."""
    by, metadata = split.get("stratify_by"), split.get("metadata")
    column = by[len(COLUMN):] if by and by.startswith(COLUMN) else None
    if column is not None and not (column and metadata):
        raise ConfigError(f"split.stratify_by {by!r} names a column of split.metadata's table: "
                          "write 'column:NAME' and set split.metadata: {csv: train.csv, "
                          "id_column: id} (a row per image)")
    if metadata and column is None:
        raise ConfigError("split.metadata is set, but split.stratify_by names none of its "
                          "columns: set stratify_by: 'column:NAME' (e.g. column:organ), or "
                          "remove split.metadata")
    if by and column is None:
        try:
            re.compile(by)
        except re.error as err:
            raise ConfigError(f"split.stratify_by {by!r} is not a regular expression: {err}; "
                              "fix it, or write 'column:NAME' for a column of split.metadata"
                              ) from None


def metadata_path(config: dict) -> Path | None:
    """split.metadata's csv as a path (None: unset), checked to exist: `~` expanded, a relative
    path under the data folder (dataset.local.path) for source local, else under the working
    directory."""
    given = (config["split"].get("metadata") or {}).get("csv")
    if not given:
        return None
    path = table_path(given, config)
    if not path.is_file():
        raise ConfigError(f"split.metadata.csv {given}: no such table {path}; name the CSV "
                          "(a row per image: an id column and e.g. organ) relative to "
                          "dataset.local.path (e.g. train.csv), or absolute")
    return path
