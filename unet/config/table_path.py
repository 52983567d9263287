"""Where a table a config key names lies (evaluate.voxel_spacing's, split.metadata's)."""

from __future__ import annotations

from pathlib import Path

from unet.dataset.layout import local_root


def table_path(given: str, config: dict) -> Path:
    """A table's path as a config key names it: `~` expanded, a relative path under the data
    folder (dataset.local.path) for source local, else under the working directory."""
    path = Path(given).expanduser()
    local = (config["dataset"].get("local") or {}).get("path")
    if not path.is_absolute() and config["dataset"]["source"] == "local" and local:
        return local_root(local) / path
    return path
