"""A check that a CSV's encodings are read in their own order (rle.order): Carvana's
train_masks.csv counts along rows, most competitions' CSVs down columns, and read the other
way an encoding still decodes, into a scrambled mask, without an error."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unet.dataset.rle import RleMasks, decode

log = logging.getLogger(__name__)

SAMPLE = 8  # images with objects looked at
RATIO = 3  # edges drawn in the order set over edges drawn in the other: a warning above it


def _edges(mask: np.ndarray) -> int:
    """Pixel pairs, side by side or one above the other, that differ: an object's outline."""
    return int((mask[1:] != mask[:-1]).sum() + (mask[:, 1:] != mask[:, :-1]).sum())


def check_order(jobs: Sequence[tuple[RleMasks, Path, tuple[int, int]]]) -> None:
    """Warn when the first images' encodings, read in the other order, draw objects with far
    fewer edges (a Carvana car read down columns: 200 times its edges, scattered). Square
    images are not checked: there the other order draws each mask transposed, as smooth."""
    drawn = [j for j in jobs if j[2][0] != j[2][1] and any(e for e, _ in j[0].rows)][:SAMPLE]
    if not drawn:
        return
    order = drawn[0][0].order
    other = "rows" if order == "columns" else "columns"
    edges = dict.fromkeys((order, other), 0)
    for masks, _, size in drawn:
        for way in edges:
            on = np.zeros(size[::-1], bool)
            try:
                for e, _ in masks.rows:  # one object's mask at a time (DSB: 375 an image)
                    if e:
                        on |= decode(e, size, way, masks.relative)
            except ValueError:
                return  # an unusable encoding: refused by name when its mask is written
            edges[way] += _edges(on)
    if edges[order] > RATIO * max(edges[other], 1):
        log.warning(
            "%s: the encodings of %d images draw %.1f times the object edges read with "
            "rle.order: %s as with rle.order: %s (%d and %d pixel edges): set rle.order: %s if "
            "the CSV counts that way", drawn[0][0].csv.name, len(drawn),
            edges[order] / max(edges[other], 1), order, other, edges[order], edges[other], other)
