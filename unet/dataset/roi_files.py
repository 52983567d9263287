"""Each image's region-of-interest file (`roi`: DRIVE's mask/<id>_training_mask.gif), found by
the image's id and recorded in the manifest; unet.common.roi applies it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from unet.dataset.layout import Layout
from unet.dataset.per_id import check_template, files_per_id


def with_roi(
    root: Path, layout: Layout, found: Sequence[tuple[str, object, object]]
) -> tuple[list[tuple[str, object, object]], dict[str, Path]]:
    """The pairs that have their region-of-interest file, and that file by id. A pair without
    one is refused (or, with allow_unpaired, skipped with a warning), naming the files."""
    key = f"{layout.section}.roi"
    check_template(layout, key, layout.roi, "mask/{id}_training_mask.gif",
                   "{group}/mask/{id}_{group}_mask.gif")
    kept, files = files_per_id(root, layout, found, key, [layout.roi],
                               "region-of-interest file")
    return kept, {pid: paths[0] for pid, paths in files.items()}
