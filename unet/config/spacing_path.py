"""evaluate.voxel_spacing as a path: the table of each case's voxel size (unet unstack's
spacing.csv), found where masks.labelmap is and checked before anything runs."""

from __future__ import annotations

from pathlib import Path

from unet.config.experiments import ConfigError
from unet.config.table_path import table_path
from unet.dataset.spacing_table import TABLE


def spacing_table_path(config: dict) -> Path | None:
    """evaluate.voxel_spacing as a table's path (None: a list, or unset), checked to exist: `~`
    expanded, a relative path under the data folder (dataset.local.path) for source local,
    else under the working directory."""
    given = config.get("evaluate", {}).get("voxel_spacing")
    if not isinstance(given, str):
        return None
    path = table_path(given, config)
    if not path.is_file():
        raise ConfigError(f"evaluate.voxel_spacing {given}: no such table {path}; `unet "
                          f"unstack VOLUME FOLDER` writes FOLDER/{TABLE}, a row per case: name "
                          "it relative to dataset.local.path (e.g. images/spacing.csv) or "
                          "absolute, or give one [z, y, x] for every case")
    return path
