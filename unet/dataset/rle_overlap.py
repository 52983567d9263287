"""Pixels that rows of two classes both cover (UW-Madison GI Tract's stomach and large bowel):
a mask holds one class a pixel, so the later row's class is drawn there; counted once here."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from unet.dataset.rle import RleMasks
from unet.dataset.rle_order import check_order

log = logging.getLogger(__name__)
Overlap = tuple[Counter, int]  # one image's pixels by (class lost, class drawn); pixels lost


def check_rows(jobs: Sequence[tuple[RleMasks, Path, tuple[int, int]]]
               ) -> Callable[[Iterable[tuple[Path, Overlap | None]]], Counter]:
    """What is said of all images' rows before they are drawn (their order), and what tells of
    them once drawn: their overlaps, from the rows the drawing decoded (write_rle_mask's
    returns), as decoding UW-Madison's 115k rows a second time here took 15-50 s."""
    check_order(jobs)
    return partial(note_drawn, names=jobs[0][0].names if jobs else None)


def image_overlap(covered: dict[int, np.ndarray], drawn: np.ndarray) -> Overlap:
    """One image's pixels that a class covers (`covered`: each class's rows united) and its
    mask draws (`drawn`: (h, w) class numbers, later rows winning) in another, by (class lost,
    class drawn), and how many pixels those are: against the class finally drawn, a pixel under
    3 classes is not lost twice."""
    lost: Counter = Counter()
    under = np.zeros(drawn.shape, bool)
    for cls, on in covered.items():
        taken = on & (drawn != cls)
        under |= taken
        counts = np.bincount(drawn[taken])  # by class drawn (0-255): no sort, as unique made
        for new in np.flatnonzero(counts):
            lost[(int(cls), int(new))] += int(counts[new])
    return lost, int(under.sum())


def note_drawn(drawn: Iterable[tuple[Path, Overlap | None]], names: Iterable | None) -> Counter:
    """Warn once of the overlaps write_rle_mask returned with each mask (None: no two classes
    cover its image), each pixel counted once however many classes cover it; their sum by pair."""
    lost: Counter = Counter()
    images, pixels = 0, 0
    for each, n in (o for _, o in drawn if o is not None):
        lost.update(each)
        pixels += n
        images += bool(n)
    if lost:
        named = dict(names or ())
        pairs = "; ".join(f"{named.get(a, a)} under {named.get(b, b)}: {n}"
                          for (a, b), n in sorted(lost.items()))
        log.warning("%d pixels of %d image(s) are in rows of two classes (overlap), drawn as "
                    "the later row's class, the earlier class losing them (%s); a pixel holds "
                    "one class here, so train overlapping classes as separate data sets (one "
                    "class each) where every class must keep its pixels", pixels, images,
                    pairs)
    return lost

