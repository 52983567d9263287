"""Why a class the cached training masks lack is missing: the masks at full size hold it in
objects too small for the cache's resize (and which size keeps them), or only outside their
regions of interest, or not at all."""

from __future__ import annotations

import logging
import math
from typing import NamedTuple

import numpy as np

from unet.cache.nearest import resize_mask
from unet.cache.settings import PreprocessSettings
from unet.common.labels import MaskMapping, MaskValueError
from unet.common.roi import within_roi
from unet.dataset.names import listing

log = logging.getLogger(__name__)

# Where the cached masks hold no object but the files do: nearest-neighbour resizing samples
# one pixel in each block it shrinks, and an object between the samples is gone.
LOST = ("too small to survive the cache's resize (none is left at preprocess.width x height, "
        "or preprocess.scale): raise them, or keep each image at its own size "
        "(preprocess.mode: native, with train.patch.size)")

# What a split's images without a labelled pixel are left out of
LEFT_OUT = {"train": "training", "val": "its scores", "test": "its scores"}

ROI_FIX = ("a region of interest (dataset.<source>.roi) is the non-zero pixels of its file, and "
           "only they are learnt and scored; check those files (an inverted or blank one "
           "leaves its image's objects outside), or fix dataset.<source>.roi")
IGNORE_FIX = ("a region to ignore (dataset.<source>.ignore_regions) is the non-zero pixels of its "
              "file, never learnt nor scored; check those files (an inverted one covers its "
              "image's objects), or fix dataset.<source>.ignore_regions")


class Regions(NamedTuple):
    """A mask's region of interest and region to ignore, as its manifest pair names them."""

    roi: str | None
    ignore: str | None


PerMask = list[Regions | None] | None  # each mask's Regions (None: it has neither)


def regions_of(pair: dict) -> Regions | None:
    """`pair`'s Regions, or None where it has neither (every pixel is learnt)."""
    regions = Regions(pair.get("roi"), pair.get("ignore_regions"))
    return regions if any(regions) else None


def scored(index: np.ndarray, regions: Regions | None, mask_path: str) -> np.ndarray:
    """`index` (H, W) with IGNORE_INDEX outside the region of interest and inside the region to
    ignore, as the cache leaves them out: a class there is none the model learns."""
    return within_roi(index, regions and regions.roi, mask_path, regions and regions.ignore)


def left_out_note(regions: Regions) -> str:
    """Where a mask's classes lay that the cache left out, its file named, and the fix."""
    if regions.roi and not regions.ignore:
        return f"outside their regions of interest (e.g. {regions.roi}): {ROI_FIX}"
    if not regions.roi:
        return f"inside their regions to ignore (e.g. {regions.ignore}): {IGNORE_FIX}"
    return (f"outside their regions of interest or inside their regions to ignore (e.g. "
            f"{regions.roi}, {regions.ignore}): {ROI_FIX}; {IGNORE_FIX}")


class Resize(NamedTuple):
    """How the training masks were cached: the settings, and each mask's full size (w, h);
    and, by class, where the other splits' cache holds it ("the val split's a.png")."""

    settings: PreprocessSettings
    sizes: list[tuple[int, int]]
    elsewhere: dict[int, str] | None = None


# On VOC-like data, a model trained on classes 1 and 15 predicted class 7 (no training pixel)
# on every test image: prediction now gives such a class probability 0 (model.trained), but
# class 0 as the background, as some class must be given to every pixel.
NEVER = "it is never learnt, so the model never predicts it (its probability is 0)"
NEVER_0 = "it is never learnt, yet the model may still predict it, only ever by chance"


def _never(k: int, mapping: MaskMapping) -> str:
    """What becomes of untrained class `k`, in words: class 0 stays predicted only as the
    background (model.trained.untrained_classes)."""
    return NEVER_0 if k == 0 and mapping.scored_from else NEVER
# Class 0 as the background, never seen: the model calls every pixel one of the objects.
BACKGROUND = " (class 0 is the background: every pixel will be predicted as an object)"
MOVE = ("put images that hold it in the training split (split.test_ids, split.val_ids, "
        "split.seed or split.val_fraction)")


def held_elsewhere(split: dict, cached: dict[str, tuple], by_id: dict[str, dict],
                   num_classes: int) -> dict[int, str]:
    """For each class the val or test split's cache holds, its first mask there, in words."""
    out: dict[int, str] = {}
    for name in ("val", "test"):
        for i in split[name]:
            for k in np.flatnonzero(cached[i][1][:num_classes]):
                out.setdefault(int(k), f"the {name} split's {by_id[i]['mask']}")
    return out


def absent_class_notes(absent: list[int], mapping: MaskMapping, masks: list[str],
                       rois: PerMask, resize: Resize | None) -> dict[int, str]:
    """A warning for each class in `absent` (no pixel in the cached training masks), from the
    masks read at full size: each is read once, and only until every class is found inside
    its region of interest (a class no mask holds costs a read of every mask)."""
    inside: dict[int, tuple[int, np.ndarray]] = {}  # class -> (mask's position, its index map)
    outside: dict[int, int] = {}
    whole = resize and resize.settings.mode == "native" and resize.settings.scale >= 1
    if whole and not any(rois or []):
        masks, rois = [], []  # cached whole: the masks at full size say what the cache does
    for pos, (path, roi) in enumerate(zip(masks, rois or [None] * len(masks), strict=True)):
        full = mapping.read_index(path)
        kept = scored(full, roi, path)
        for k in absent:
            if k not in inside and (kept == k).any():
                inside[k] = (pos, kept)
            elif k not in outside and roi and (full == k).any():
                outside[k] = pos
        if len(inside) == len(absent):
            break
    notes, labels = {}, mapping.labels()  # as the config writes them: [r, g, b] for colours
    for k in absent:
        what = f"class {k} (value {labels[k]})"
        if k in inside:
            pos, kept = inside[k]
            notes[k] = (f"{what} has no pixel in the cached training masks, but {masks[pos]} "
                        f"holds it at full size in objects {LOST}"
                        + size_note(kept == k, resize, pos) + ". As cached, "
                        + _never(k, mapping))
        elif k in outside:
            notes[k] = (f"{what} lies in the training masks (e.g. {masks[outside[k]]}) only "
                        f"{left_out_note(rois[outside[k]])} ({_never(k, mapping)})")
        else:
            other = ((resize and resize.elsewhere) or {}).get(k)
            notes[k] = (f"{what} has no pixel in the training masks: {_never(k, mapping)}" + (
                            f"; {other} holds it, where it will score 0: {MOVE}" if other
                            else ""))
    if 0 in notes and mapping.scored_from:
        notes[0] += BACKGROUND
    return notes


def size_note(hit: np.ndarray, resize: Resize | None, pos: int) -> str:
    """The words naming the smallest multiple of the cached size (or of preprocess.scale) at
    which a pixel of `hit` ((H, W) bool at full size: the lost class's pixels in training mask
    `pos`) is kept, or "". Nearest-neighbour sampling, as the cache does."""
    if resize is None:
        return ""
    s, (w, h) = resize.settings, resize.sizes[pos]
    native = s.mode == "native"
    for f in range(2, 1 + math.ceil(max(w, h) / min(s.cached_size((w, h))))):
        scale = min(1.0, s.scale * f) if native else None
        size = (PreprocessSettings(mode="native", scale=scale).cached_size((w, h)) if native
                else (min(w, s.width * f), min(h, s.height * f)))
        if resize_mask(hit, size).any():
            return (f"; preprocess.scale {scale:g} keeps some" if native else
                    f"; preprocess.width x height {size[0]}x{size[1]} keeps some")
    return ""


def without_lost_labels(name: str, purpose: str, ids: list[str], total: int,
                        mapping: MaskMapping, by_id: dict[str, dict],
                        settings: PreprocessSettings | None,
                        cached: dict[str, tuple]) -> list[str]:
    """Of the `name` split's images `ids` (of `total`) whose cached masks hold no labelled
    pixel, those whose files hold none either. The others, whose every labelled stroke the
    resize missed, are named in a warning (refused where, with the rest, they are the whole
    split): scribbled masks, mostly masks.ignore, keep 1-3 px strokes that a nearest resize
    can miss whole, and "every value skipped by masks.ignore" blamed the mask. Told from each
    pair's labelled pixels at full size, counted as the cache read it (`cached`: id ->
    (digest, counts, that count; None where cached at full size: the cache says all)); only
    the first lost mask is read again, for the size that keeps some."""
    if settings is None:
        return ids
    lost = [i for i in ids if cached[i][2]]
    if not lost:
        return ids
    first = by_id[lost[0]]
    hit = scored(mapping.read_index(first["mask"]), regions_of(first), first["mask"])
    keep = size_note(hit < mapping.num_classes, Resize(settings, [tuple(first["size"])]), 0)
    note = (f"{name} image(s) {listing(lost)} hold labelled pixels at full size (e.g. "
            f"{first['mask']}), but none is left in the cache: every labelled stroke "
            f"(a thin scribble) is {LOST}{keep}")
    bare = [i for i in ids if i not in lost]
    if len(ids) == total:  # with the masks nobody labelled, no image of the split is left
        raise MaskValueError(f"{note}; there is nothing to {purpose}" + (
            f" (the others, {listing(bare)}, e.g. {by_id[bare[0]]['mask']}, hold no labelled "
            "pixel at full size either)" if bare else ""))
    log.warning("%s. They are left out of %s", note, LEFT_OUT[name])
    return bare
