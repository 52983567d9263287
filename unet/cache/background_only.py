"""Masks that hold only background: frames an annotation tool exported without annotating."""

from __future__ import annotations

import logging

import numpy as np

from unet.common.labels import MaskMapping
from unet.dataset.names import listing

log = logging.getLogger(__name__)


def record_background_only(meta: dict, cached: dict[str, tuple[str, np.ndarray]],
                           mapping: MaskMapping) -> None:
    """Each split's ids whose mask holds no scored class (meta.json's `background_only`): CRF
    tuning and the final choice sample from both kinds (unet.crf.tune.scored_ids), since on
    MVTec AD's defect-free images a sample of only those cannot judge a post-processing."""
    first = mapping.scored_from
    for entry in meta["splits"].values():
        entry["background_only"] = [
            i for i in entry["ids"] if not cached[i][1][first: mapping.num_classes].any()]


def background_only_note(
    split: dict, cached: dict[str, tuple[str, np.ndarray]], mapping: MaskMapping
) -> str | None:
    """A warning naming the masks whose labelled pixels are all class 0 (background), from
    each image's class counts (`cached`: id -> (digest, counts)); None when there are none.
    They are kept: an empty field is true background as often as an unannotated frame, and
    only the user can tell which."""
    if not mapping.background or mapping.num_classes < 2:
        return None
    ids = [i for part in ("train", "val", "test") for i in split[part]]
    counts = {i: cached[i][1] for i in ids}  # (256,) pixels per class index
    empty = sorted(i for i, c in counts.items() if c[0] and not c[1: mapping.num_classes].any())
    if not empty:
        return None
    head = (f"{len(empty)} of {len(ids)} masks hold only background (class 0) and are "
            f"trained and scored as such: {listing(empty)}.")
    if split.get("groups"):  # split.group_by: slices of volumes, frames of videos
        # a volume's slices beyond the organ are true background, and a new volume's every
        # slice is predicted: a model that never saw them marks the organ where there is none
        return (f"{head} The split keeps groups whole (split.group_by): slices of a volume "
                "beyond its object are true background; keep them, since every slice of a new "
                "volume is predicted. Leave out with split.exclude_ids only frames nobody "
                "annotated (CVAT's Segmentation mask export writes a mask for every frame)")
    # CVAT's "Segmentation mask" export writes a mask for every frame of a task, so frames
    # nobody annotated arrive as all-background masks that teach their objects as background.
    return (f"{head} If nobody annotated these frames (CVAT's "
            "Segmentation mask export writes a mask for every frame of a task), leave them out "
            "with split.exclude_ids (a list, or a text file of ids); images truly without "
            "objects are worth keeping")
