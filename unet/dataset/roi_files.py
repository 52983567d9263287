"""Each image's region-of-interest file (`roi`: DRIVE's mask/<id>_training_mask.gif) and
region-to-ignore file (`ignore_regions`: NuInsSeg's vague areas), found by the image's id and
recorded in the manifest; unet.common.roi applies them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.per_id import check_template, files_per_id, paths_per_id

Found = list[tuple[str, object, object]]


def with_roi(root: Path, layout: Layout, found: Sequence[tuple[str, object, object]]
             ) -> tuple[Found, dict[str, Path]]:
    """The pairs that have their region-of-interest file, and that file by id. A pair without
    one is refused (or, with allow_unpaired, skipped with a warning), naming the files."""
    key = f"{layout.section}.roi"
    check_template(layout, key, layout.roi, "mask/{id}_training_mask.gif",
                   "{group}/mask/{id}_{group}_mask.gif")
    kept, files = files_per_id(root, layout, found, key, [layout.roi],
                               "region-of-interest file")
    return kept, {pid: paths[0] for pid, paths in files.items()}


def ignore_files(root: Path, layout: Layout, found: Sequence[tuple[str, object, object]]
                 ) -> dict[str, Path]:
    """Each pair's region-to-ignore file by id, where it has one: NuInsSeg marks vague areas
    in some images only, so a pair without one keeps every pixel; a template naming no
    image's file is refused (a misspelt folder)."""
    key = f"{layout.section}.ignore_regions"
    check_template(layout, key, layout.ignore_regions,
                   "vague areas/mask binary/{id}.png", "{group}/vague areas/mask binary/{id}.png")
    paths = paths_per_id(root, layout, found, [layout.ignore_regions])
    files = {pid: ps[0] for pid, ps in paths.items() if ps[0].is_file()}
    if paths and not files:  # a misspelt template would otherwise leave every pixel scored
        first = next(iter(paths.values()))[0]
        raise DataLayoutError(
            f"{key} {layout.ignore_regions!r} names no image's file (the first image's would "
            f"be {first}): fix the template (relative to {root}, {{id}} the image's id), or "
            f"leave {key} unset where no image has regions to ignore"
        )
    return files


def noted_regions(root: Path, layout: Layout, found: Sequence[tuple[str, object, object]]
                  ) -> tuple[Found, dict[str, dict[str, str]]]:
    """The pairs kept (with_roi's) and what the manifest notes of each by id: its region of
    interest (`roi`) and its region to ignore (`ignore_regions`), where it has them."""
    rois: dict[str, Path] = {}
    kept = list(found)
    if layout.roi:
        kept, rois = with_roi(root, layout, kept)
    ignored = ignore_files(root, layout, kept) if layout.ignore_regions else {}
    noted: dict[str, dict[str, str]] = {pid: {"roi": str(r)} for pid, r in rois.items()}
    for pid, path in ignored.items():
        noted.setdefault(pid, {})["ignore_regions"] = str(path)
    return kept, noted
