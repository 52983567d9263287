"""Images whose labelled pixels the cache's resize thinned out: scribbles partly lost."""

from __future__ import annotations

import numpy as np

from unet.cache.settings import PreprocessSettings
from unet.dataset.names import listing

# An image whose cache keeps under this share of its labelled pixels (as a share of its
# pixels, against the file's) is named: a nearest resize keeps a stroke's every f-th row or
# none of it, so thin scribbles are kept in part, and training learns from fewer than drawn.
KEPT_SHARE = 0.5
WORST = 5  # images named by file


def full_labelled(index: np.ndarray, num_classes: int, inside: np.ndarray | None,
                  void: np.ndarray | None, full_area: int | None = None) -> int:
    """Labelled pixels of a mask's class indices (H, W) at full size, as the cache counts
    them: inside its region of interest `inside`, outside its scene's no-data fill `void`;
    where `index` is a pyramid's reduced level, its count scaled to `full_area` pixels."""
    labelled = index < num_classes
    if inside is not None:
        labelled &= inside
    if void is not None and void.shape == index.shape:  # as ignore_fill marks it
        labelled &= ~void
    count = int(np.count_nonzero(labelled))
    return count if not full_area or full_area == index.size else round(
        count * full_area / index.size)


def kept_share(full: int, cached: int, size: tuple[int, int], small: tuple[int, int]) -> float:
    """The share of an image's `full` labelled pixels (at its `size`, (w, h)) that its cache's
    `cached` ones (at `small`) stand for: 1.0 where the resize kept them in proportion."""
    return cached * size[0] * size[1] / (full * small[0] * small[1])


def thinned_note(split: dict, cached: dict[str, tuple], by_id: dict[str, dict],
                 settings: PreprocessSettings, num_classes: int) -> str | None:
    """A warning naming the training and validation images whose cache keeps under
    KEPT_SHARE of their labelled pixels, the worst first; None where none does. From each
    pair's counts (`cached`: id -> (digest, class counts, labelled pixels at full size, or
    None where it was cached at full size)); images that keep none are without_lost_labels'."""
    thinned = []
    for i in split["train"] + split["val"]:
        full, kept = cached[i][2], int(cached[i][1][:num_classes].sum())
        if not full or not kept:
            continue
        size = tuple(by_id[i]["size"])
        share = kept_share(full, kept, size, settings.cached_size(size))
        if share < KEPT_SHARE:
            thinned.append((share, i))
    if not thinned:
        return None
    thinned.sort()
    worst = ", ".join(f"{by_id[i]['mask']} keeps {s:.0%}" for s, i in thinned[:WORST])
    return (f"{len(thinned)} training or validation image(s) keep under {KEPT_SHARE:.0%} of "
            f"their labelled pixels in the cache ({listing([i for _, i in thinned])}; {worst}): "
            "the cache's nearest resize keeps a thin stroke (a scribble) in part or not at "
            "all, so training learns from fewer labels than were drawn. Keep each image at its "
            "own size (preprocess.mode: native, with train.patch.size), or raise "
            "preprocess.width x height")
