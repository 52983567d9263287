"""A changed local folder's pairs checked when Snakemake builds its DAG, before any job runs.

Snakemake deletes a job's output before running it: download_dataset failing on an image
without its mask lost the manifest of the last good run, and putting the mask back then reran
the split, the cache and training on the same data. The pairs are checked first, only when
the folder's files changed since that manifest (its digest is kept beside it).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from unet.common.fileio import atomic_path
from unet.dataset.layout import (
    TABLES,
    DataLayoutError,
    Layout,
    layout_from,
    layout_on_disk,
    local_root,
)

DIGEST = ".manifest_data_digest"  # the data digest the manifest beside it was written from


def image_sizes(images: list[Path], masks: list | None = None) -> list[tuple[int, int]]:
    """Each image's (w, h) from its header; every unreadable one refused in one ImageReadError,
    as each is opened anyway (one at a time meant a rerun per bad file), with what the headers
    of the other pairs' `masks` show (pair_headers: the next runs found them one by one)."""
    from unet.common.bad_files import kept, raise_all  # here: the DAG build imports this module
    from unet.common.imageio import ImageReadError, image_size

    sizes, bad = [], []
    for img in images:
        try:
            sizes.append(image_size(img))
        except ImageReadError as err:
            sizes.append(None)  # named in `bad`; the others' sizes go to pair_files_problems
            bad.append((str(img), kept(err)))
    if bad and masks is not None:
        from unet.common.pair_reads import pair_files_problems

        try:
            raise_all(bad, "images cannot be read")
        except ImageReadError as err:
            pair_files_problems(list(zip(images, masks, sizes, strict=True)), err)
    raise_all(bad, "images cannot be read")
    return sizes


def record_digest(manifest_path: str | Path, digest: str) -> None:
    """Keep the digest of the files a local folder's manifest was just written from."""
    with atomic_path(Path(manifest_path).parent / DIGEST) as tmp:
        tmp.write_text(digest)


def check_changed_pairs(manifest_path: str | Path, digest: str, source: str,
                        settings: dict[str, Any]) -> None:
    """Pair a local folder's files now and read its images' headers (a DataLayoutError names
    every unreadable image, or the unpaired file, or the missing band or ROI file, and the
    fix) when its digest differs from the one its existing manifest was written from; VIA's
    and YOLO's annotations as _annotations reads them. Nothing to lose on a first run or after
    another version's run; encodings and COCO files would be read twice."""
    if source != "local" or not Path(manifest_path).is_file():
        return
    try:
        if (Path(manifest_path).parent / DIGEST).read_text() == digest:
            return
    except OSError:
        return
    layout = layout_from(settings, source)
    if any(getattr(layout, f) for f in TABLES) and not (layout.via or layout.yolo):
        return
    from unet.common.imageio import ImageReadError
    from unet.dataset.layout_kinds import layout_module
    from unet.dataset.pairing import pair_files

    quiet = logging.getLogger("unet.dataset")  # its warnings come again from the job's log
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        root = local_root(settings["path"])  # spelt as on disk, as download_dataset pairs it
        if layout.via or layout.yolo:
            return _annotations(root, layout_on_disk(root, layout))
        found = pair_files(root, layout := layout_on_disk(root, layout))
        # a band or ROI file missing failed the job too, the manifest lost: listings only
        if layout.band_files:
            layout_module("band_files").with_bands(root, layout, found)
        if layout.roi or layout.ignore_regions:  # a template without {id} refused here too
            layout_module("roi").noted_regions(root, layout, found)
        if not layout.band_files:  # (their stacks are written by the job)
            # headers, as the job reads them (its masks' too, where an image is bad)
            image_sizes([img for _, img, _ in found], [mask for _, _, mask in found])
    except ImageReadError as err:  # the DAG build stops cleanly on a DataLayoutError
        raise DataLayoutError(str(err).rstrip(".")) from None
    finally:
        quiet.setLevel(level)


def _annotations(root: Path, layout: Layout) -> None:
    """VIA's one JSON read and paired (each entry's image looked up, none decoded); YOLO's
    data.yaml and labels folder, not a .txt per image (10,000 read at every DAG build)."""
    from unet.dataset.layout_kinds import layout_module

    if layout.via:
        layout_module("via").pair_via(root, layout)
        return
    yolo = layout_module("yolo")
    yolo.read_names(root, layout)
    yolo.labels_folder(root, layout)
