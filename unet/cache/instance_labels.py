"""Masks that look like instance labels (one number per object), or binary masks saved at two
scales, where classes are expected: the checks that warn before such values train as classes."""

from __future__ import annotations

import numpy as np

from unet.common.labels import IGNORE_INDEX, MaskMapping
from unet.common.maskio import read_mask_values

INSTANCE_SAMPLE = 8  # masks read again to tell instance labels from classes


def instance_note(masks: list[str], mapping: MaskMapping) -> str | None:
    """A warning when detected values look like instance labels, one number per object (the
    Cell Tracking Challenge's man_seg masks, GlaS's annotations), which would train a class per
    object number. In each of the first masks, every value but 0 is one connected region and
    the values are the lowest ones found (objects numbered 1, 2, ... k), k varies between the
    masks, and some mask numbers three objects or more; classes drawn in several regions, or
    classes missing from a mask while higher ones are there, end it."""
    values = mapping.values
    if mapping.rgb or len(values) < 4 or values[0] != 0:
        return None
    counts = []
    for path in masks[:INSTANCE_SAMPLE]:
        index = mapping.to_index(read_mask_values(path)[0], path)
        counts.append(_numbered_objects(index))
        if counts[-1] is None:
            return None
    if max(counts) < 3 or len(set(counts)) < 2:
        return None
    return (
        f"the masks look like instance labels: in the first {len(counts)} training masks "
        f"(e.g. {masks[0]}) "
        f"each value but 0 is one connected region and they run from {values[1]} up (to "
        f"between {min(counts)} and {max(counts)} objects a mask), so values {values[1]} to "
        f"{values[-1]} would train {len(values) - 1} classes that are object numbers. Set "
        "masks.threshold: 0 to make every object foreground (masks.separate: true keeps "
        "touching ones apart); if each value is a class, set "
        f"masks.values: {list(values)} (which also silences this)"
    )


def two_scales_note(masks: list[str], mapping: MaskMapping) -> str | None:
    """A warning when the detected values 0, a low value and 255 (or 65535) come from binary
    masks saved two ways, some 0/1 and others 0/255 (CVPPP's _fg files), none holding both:
    the void warning's masks.ignore would drop the objects of the 0/255 ones. Read only where
    the values are those three, until a mask holds both (a class and a void: that warning)."""
    values = mapping.values
    if mapping.rgb or len(values) != 3 or values[0] != 0 or values[2] not in (255, 65535):
        return None
    held: dict[int, str] = {}  # each of the two top values: a training mask holding it alone
    for path in masks:
        found = set(np.unique(mapping.read(path)).tolist()) & set(values[1:])
        if len(found) == 2:
            return None
        held.update({v: held.get(v, path) for v in found})
    if len(held) < 2:
        return None
    return (f"the training masks are binary at two scales: {held[values[1]]} holds 0 and "
            f"{values[1]}, {held[values[2]]} 0 and {values[2]}, and no mask holds both, so "
            f"{values[1]} and {values[2]} would train as two classes: set masks.threshold: 0 "
            "to read both as one foreground")


def _numbered_objects(index: np.ndarray) -> int | None:
    """k when a class-index map holds classes 1 to k (and 0), each one 8-connected region;
    None otherwise. Each class is labelled within its bounding box only, so small objects cost
    little."""
    # imported here: this module comes with unet predict's (via unet.cache.preprocess), which
    # never calls it, and scipy.ndimage took 0.5-0.7 s of each run's start (2 cores, loaded)
    from scipy import ndimage

    boxes = [b for k, b in enumerate(ndimage.find_objects(index), start=1) if k != IGNORE_INDEX]
    k = len(boxes)
    while k and boxes[k - 1] is None:
        k -= 1
    if any(b is None for b in boxes[:k]):
        return None  # a gap: a lower class missing below a higher one
    for cls, box in enumerate(boxes[:k], start=1):
        if ndimage.label(index[box] == cls, structure=np.ones((3, 3)))[1] > 1:
            return None
    return k
