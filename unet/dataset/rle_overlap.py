"""Pixels that rows of two classes both cover (UW-Madison GI Tract's stomach and large bowel):
a mask holds one class a pixel, so the later row's class is drawn there; counted once here."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unet.dataset.rle import RleMasks, decode
from unet.dataset.rle_order import check_order

log = logging.getLogger(__name__)


def check_rows(jobs: Sequence[tuple[RleMasks, Path, tuple[int, int]]]) -> None:
    """What is said of all images' rows before they are drawn: their order, then overlaps."""
    check_order(jobs)
    note_overlaps(jobs)


def note_overlaps(jobs: Sequence[tuple[RleMasks, Path, tuple[int, int]]]) -> Counter:
    """Count, per (class lost, class drawn) pair, the pixels a row of one class covers and the
    image's mask draws in another (a later row's), over every image with a class column; warn
    once, each pixel counted once however many classes cover it."""
    lost: Counter = Counter()
    images, pixels = 0, 0
    for masks, _image, size in jobs:
        if not masks.classes or sum(bool(e) for e, _ in masks.rows) < 2:
            continue
        drawn = np.zeros(size[::-1], np.uint8)  # (h, w) class so far, as write_rle_mask draws
        covered: dict[int, np.ndarray] = {}  # each class's pixels, whatever is drawn over them
        for encoding, cls in masks.rows:
            try:
                on = decode(encoding, size, masks.order, masks.relative) if encoding else None
            except ValueError:  # write_rle_mask names the row
                continue
            if on is None:
                continue
            covered[cls] = covered[cls] | on if cls in covered else on
            drawn[on] = cls
        # against the class finally drawn: a pixel under 3 classes is not lost twice
        under = np.zeros(drawn.shape, bool)
        for cls, on in covered.items():
            taken = on & (drawn != cls)
            under |= taken
            for new, n in zip(*np.unique(drawn[taken], return_counts=True), strict=True):
                lost[(int(cls), int(new))] += int(n)
        pixels += int(under.sum())
        images += bool(under.any())
    if lost:
        names = dict(jobs[0][0].names or ())
        pairs = "; ".join(f"{names.get(a, a)} under {names.get(b, b)}: {n}"
                          for (a, b), n in sorted(lost.items()))
        log.warning("%d pixels of %d image(s) are in rows of two classes (overlap), drawn as "
                    "the later row's class, the earlier class losing them (%s); a pixel holds "
                    "one class here, so train overlapping classes as separate data sets (one "
                    "class each) where every class must keep its pixels", pixels, images,
                    pairs)
    return lost
