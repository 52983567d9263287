"""A scene's no-data pixels (its GeoTIFF nodata fill, NaN, or an orthomosaic's transparent
alpha) in the training targets: ignored where masks.ignore is set, else a warning when the
labels give them a class, which the model is then trained to predict on fill; a warning too
where masks.ignore is a value no mask PNG holds, so the masks written cannot mark them."""

from __future__ import annotations

import numpy as np
from PIL import Image

from unet.cache.nearest import resize_mask
from unet.common.band_ranges import Span
from unet.common.bands import read_bands
from unet.common.imageio import open_image
from unet.common.labels import IGNORE_INDEX, MaskMapping
from unet.common.nodata import bands_nodata, image_nodata, png_holds, unholdable_fix
from unet.common.roi import scored_pixels

WHAT = "(every band its GeoTIFF nodata value, or NaN, or alpha 0)"  # a no-data pixel


def read_scene(path: str, size: tuple[int, int], multi: bool, mapping: MaskMapping,
               span: Span = None) -> tuple[Image.Image | np.ndarray, np.ndarray | None]:
    """load_pair's decode of an image (read_bands of a multi-band one, else open_image drafted
    to `size` (w, h)) and, where masks.ignore is set, its image_nodata from that one decode
    (a 2048x2048 4-band GeoTIFF decoded again for its fill cost about 35 ms); None without."""
    if multi:  # the void from the raw samples, before their scaling to 8 bits
        return bands_nodata(path, span) if mapping.ignore is not None else (
            read_bands(path, span), None)
    im = open_image(path, draft_to=size, nodata=True, span=span)  # its alpha still there
    # a PNG without transparency or a plain TIFF: its header alone read for the void
    return im, None if mapping.ignore is None else image_nodata(path, im)


def ignore_fill(index: np.ndarray, void: np.ndarray | None, full: tuple[int, int],
                outside: np.ndarray | None = None) -> int:
    """Mark an image's no-data pixels `void` (read_scene's, (H, W) at its full size `full`
    (w, h)) and those `outside` its region of interest ((h, w), cached size) IGNORE_INDEX in
    its cached class indices `index` (h, w), in place: the scores and written masks leave them
    out, so the loss and training's validation Dice must too (crop masks rasterised with 0
    outside the field trained and scored the fill as background). Returns how many it marked:
    no label can reach them, so the sparse-labels share leaves them out (record_outside)."""
    if void is not None and void.shape == full[::-1]:
        fill = resize_mask(void, index.shape[::-1])
        outside = fill if outside is None else outside | fill
    if outside is None:
        return 0
    index[outside] = IGNORE_INDEX
    return int(np.count_nonzero(outside))


def record_outside(meta: dict, cached: dict[str, tuple]) -> None:
    """Each split's cached pixels outside its images' regions of interest or on their no-data
    fill (ignore_fill's counts, the last of each id's `cached`), as its `outside_px` in
    meta.json where any: the sparse-labels share is of the pixels a label can reach. Not
    written where none, so that other caches' meta.json stay as they were."""
    for entry in meta["splits"].values():
        if outside := sum(cached[i][-1] for i in entry["ids"]):
            entry["outside_px"] = int(outside)


def fill_note(pairs: list[dict], mapping: MaskMapping, first: int = 8) -> str | None:
    """The warning for the first of the first `first` training `pairs` (manifest entries)
    whose image's no-data pixels its mask labels as a class; None where masks.ignore is set
    (predicted masks then mark the fill, and no score counts it) or none does."""
    if mapping.ignore is not None:
        return None
    for pair in pairs[:first]:  # a few tell: each scene decoded once more
        void = image_nodata(pair["image"])  # a PNG or JPEG: its first bytes read
        if void is None:
            continue
        labels = mapping.read_index(pair["mask"], "mask")
        if labels.shape != void.shape:
            continue
        # outside its region of interest (or in its region to ignore) nothing is learnt
        if (scored := scored_pixels(pair, labels.shape)) is not None:
            void &= scored
        held = labels[void]
        classes = np.unique(held[held != IGNORE_INDEX]).tolist()
        if classes:
            names = ", ".join(f"class {c} (value {mapping.labels()[c]})" for c in classes)
            return (f"{pair['image']}: its {int(void.sum())} no-data pixels {WHAT} are labelled "
                    f"{names} in {pair['mask']}, so the model learns to predict that on a "
                    "scene's fill: set masks.ignore (a value no class holds, e.g. 255) to have "
                    "training, predicted masks and scores leave no-data out")
    return None


def unmarked_note(pairs: list[dict], mapping: MaskMapping, cached: dict[str, tuple],
                  first: int = 8) -> str | None:
    """The warning, before training, for the first training `pairs` scene with no-data pixels
    where masks.ignore is a value no mask PNG holds (a signed label set's -1): training leaves
    them out, but the masks predicted cannot mark them. Only scenes that ignore_fill marked
    pixels of (`cached`'s last count) are decoded again, at most `first`; None where a PNG
    holds masks.ignore, or none is set (fill_note's), or no scene has no-data."""
    if mapping.ignore is None or png_holds(mapping.ignore, mapping.rgb):
        return None
    for pair in [p for p in pairs if cached[p["id"]][-1]][:first]:  # or outside its roi
        if (void := image_nodata(pair["image"])) is not None:
            return (f"{pair['image']}: its {int(void.sum())} no-data pixels {WHAT} are left "
                    "out of training, but the masks predicted will keep the classes predicted "
                    f"there, as no mask PNG can hold {unholdable_fix(mapping.ignore)}, before "
                    "training, to have them written as no data")
    return None
