"""masks.separate: touching objects of binarised instance labels kept apart in the cached
training targets by a background line, as the U-Net paper's targets were drawn."""

from __future__ import annotations

import numpy as np

from unet.common.labels import IGNORE_INDEX, MaskValueError


def separate_objects(ids: np.ndarray, index: np.ndarray, background: int) -> int:
    """Set to class `background` (in place, in `index`, class indices (H, W)) every object
    pixel with an 8-neighbour of another object whose id (`ids`, the raw values (H, W) the
    threshold binarised) is lower: of two touching objects the higher id gives way, so a 1-px
    line parts them (clearing both sides would cut 2 px out of every contact). Object pixels
    are those of neither `background` nor the ignored class. Returns how many it cleared."""
    objects = (index != background) & (index != IGNORE_INDEX)
    if not objects.any():
        return 0
    ids = ids.view(np.uint8) if ids.dtype == np.bool_ else ids
    # no id is above it (a tie with one is no lower id: nothing gives way to it)
    top = np.inf if ids.dtype.kind == "f" else np.iinfo(ids.dtype).max
    # (H, W): each pixel's lowest object id among itself and its 8 neighbours; other pixels
    # (background, ignored) count as no id at all
    lowest = _lowest_around(np.where(objects, ids, top))
    gives_way = objects & (lowest < ids)
    index[gives_way] = background
    return int(np.count_nonzero(gives_way))


def _lowest_around(ids: np.ndarray) -> np.ndarray:
    """(H, W): the lowest of each pixel's 3x3 neighbourhood (the edge reads as no lower), as
    two passes of np.minimum over shifted views: 5x faster than ndimage.minimum_filter."""
    rows = ids.copy()
    np.minimum(rows[1:], ids[:-1], out=rows[1:])
    np.minimum(rows[:-1], ids[1:], out=rows[:-1])
    out = rows.copy()
    np.minimum(out[:, 1:], rows[:, :-1], out=out[:, 1:])
    np.minimum(out[:, :-1], rows[:, 1:], out=out[:, :-1])
    return out


def refuse_merged(pairs: list[dict]) -> None:
    """masks.separate needs each object's own id: masks merged from several files (mask_parts,
    several mask folders, class folders) or drawn from tables (RLE rows, COCO, LabelMe and
    QuPath objects) hold only their union, written at download."""
    for pair in pairs:
        source = pair.get("mask_from") or pair.get("mask_parts")
        if source:
            raise MaskValueError(
                f"masks.separate needs instance labels, one value per object, but the mask of "
                f"{pair['image']} ({pair['mask']}) is the union of its objects, merged from "
                f"{_shown(source)} at download, their ids lost; set masks.separate: false, or "
                "give the pipeline label images of object ids with masks.threshold: 0"
            )


def _shown(source: str | list | dict) -> str:
    """A merged mask's sources as an error shows them: the first two files."""
    files = source if isinstance(source, list) else (
        list(source.values()) if isinstance(source, dict) else [source])
    return ", ".join(map(str, files[:2])) + (", ..." if len(files) > 2 else "")
