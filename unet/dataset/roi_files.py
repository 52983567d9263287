"""Each image's region-of-interest file (`roi`: DRIVE's mask/<id>_training_mask.gif), found by
the image's id and recorded in the manifest; unet.common.roi applies it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from unet.dataset.layout import GROUP, DataLayoutError, Layout
from unet.dataset.names import listing

log = logging.getLogger(__name__)
ID = "{id}"


def with_roi(
    root: Path, layout: Layout, found: Sequence[tuple[str, object, object]]
) -> tuple[list[tuple[str, object, object]], dict[str, Path]]:
    """The pairs that have their region-of-interest file, and that file by id. A pair without
    one is refused (or, with allow_unpaired, skipped with a warning), naming the files."""
    key = f"{layout.section}.roi"
    if ID not in layout.roi:
        raise DataLayoutError(
            f"{key}: {layout.roi!r} has no {ID}; write the path of each image's region of "
            f"interest with {ID} where the image's id goes, e.g. mask/{ID}_training_mask.gif"
        )
    if GROUP in layout.images:
        raise DataLayoutError(
            f"{key} with {GROUP} folders is not supported: list each group's folder as a data "
            "set of its own"
        )
    rois = {pid: root / layout.roi.replace(ID, pid) for pid, _, _ in found}
    missing = {pid for pid, path in rois.items() if not path.is_file()}
    if missing:
        names = listing(sorted(str(rois[pid]) for pid in missing))
        problem = f"{len(missing)} images have no region-of-interest file: {names}"
        if not layout.allow_unpaired:
            raise DataLayoutError(
                f"{problem}. Each image needs the file {key} names, its id in place of {ID}; "
                f"fix the names or the template, or set {layout.section}.allow_unpaired: true "
                "to skip such images"
            )
        log.warning("skipping %s", problem)
    kept = [f for f in found if f[0] not in missing]
    return kept, {pid: rois[pid] for pid, _, _ in kept}
