"""A check that a CSV's encodings are read in their own order (rle.order): Carvana's
train_masks.csv counts along rows, most competitions' CSVs down columns, and read the other
way an encoding still decodes, into a scrambled mask (or on a square image a transposed one),
without an error."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import ndimage

from unet.common.imageio import read_image
from unet.dataset.names import listing
from unet.dataset.rle import RleMasks, decode

log = logging.getLogger(__name__)

SAMPLE = 8  # images with objects looked at
RATIO = 3  # edges drawn in the order set over edges drawn in the other: a warning above it
# Square images: how far the outlines read the other way lie on the image's edges more than
# read as set, in spreads of outlines shifted anywhere (the median over the sample). Chance
# reaches 7.1 on one image in 3000 (unrelated objects on noise or EM), 1.6 as a median of 8;
# ISBI 2012 read across leads by 14-18 on each of its 30 sections.
LEAD = 7
FEWEST = 3  # square images needed: one image of unrelated objects led by 7.07 once in 3000
SHIFTS = 32  # shifted outlines that measure how much gradient an outline meets by chance
SIDE = 1024  # larger square images: every n-th pixel each way, whose transpose is the same


def _edges(mask: np.ndarray) -> int:
    """Pixel pairs, side by side or one above the other, that differ: an object's outline."""
    return int((mask[1:] != mask[:-1]).sum() + (mask[:, 1:] != mask[:, :-1]).sum())


def _union(masks: RleMasks, size: tuple[int, int], order: str) -> np.ndarray:
    """The image's objects read in `order`, one object's mask at a time (DSB: 375 an image);
    ValueError on an unusable encoding (refused by name when its mask is written)."""
    on = np.zeros(size[::-1], bool)
    for e, _ in masks.rows:
        if e:
            on |= decode(e, size, order, masks.relative)
    return on


def check_order(jobs: Sequence[tuple[RleMasks, Path, tuple[int, int]]]) -> None:
    """Warn when the first images' encodings, read in the other order, draw objects with far
    fewer edges (a Carvana car read down columns: 200 times its edges, scattered), or on
    square images, where the other order draws each mask transposed and as smooth, when the
    objects' outlines read the other way lie far more on the images' edges."""
    drawn = [j for j in jobs if any(e for e, _ in j[0].rows)]
    for check, square in ((_check_edges, False), (_check_square, True)):
        try:
            check([j for j in drawn if (j[2][0] == j[2][1]) == square][:SAMPLE])
        except ValueError:
            continue  # an unusable encoding: refused by name when its mask is written


def _orders(drawn: list[tuple[RleMasks, Path, tuple[int, int]]]) -> tuple[str, str]:
    """The rle.order the masks were read with, and the other one the checks weigh it against."""
    order = drawn[0][0].order
    return order, "rows" if order == "columns" else "columns"


def _check_edges(drawn: list[tuple[RleMasks, Path, tuple[int, int]]]) -> None:
    """The edge count of the masks read either way, on images that are not square."""
    if not drawn:
        return
    order, other = _orders(drawn)
    edges = dict.fromkeys((order, other), 0)
    for masks, _, size in drawn:
        for way in edges:
            edges[way] += _edges(_union(masks, size, way))
    if edges[order] > RATIO * max(edges[other], 1):
        log.warning(
            "%s: the encodings of %d images draw %.1f times the object edges read with "
            "rle.order: %s as with rle.order: %s (%d and %d pixel edges): set rle.order: %s if "
            "the CSV counts that way", drawn[0][0].csv.name, len(drawn),
            edges[order] / max(edges[other], 1), order, other, edges[order], edges[other], other)


def _check_square(drawn: list[tuple[RleMasks, Path, tuple[int, int]]]) -> None:
    """The outlines read as set and transposed against the gradient of square images: each
    image's lead of the transposed outline, in spreads of the gradient that shifted copies of
    the outline meet; warned when the median lead is over LEAD. Flat images, or objects no
    other than what is around them, lead neither way: nothing is said."""
    leads, names = [], []
    for masks, image, size in drawn:
        step = -(-size[0] // SIDE)  # the gradient and the mask sampled alike
        gradient = _gradient(image, size[0], step)
        if gradient is not None:
            leads.append(_lead(gradient, _union(masks, size, masks.order)[::step, ::step]))
            names.append(image.name)
    if len(leads) < FEWEST or np.median(leads) <= LEAD:
        return
    order, other = _orders(drawn)
    log.warning(
        "%s: on %d square images (%s) the object outlines read with rle.order: %s lie on the "
        "images' edges far less than read with rle.order: %s, which transposes each mask "
        "(%.0f times chance's spread more): set rle.order: %s if the CSV counts that way",
        drawn[0][0].csv.name, len(names), listing(names, 3), order, other,
        np.median(leads), other)


def _gradient(image: Path, side: int, step: int) -> np.ndarray | None:
    """The grey gradient magnitude of a square image, every `step`-th pixel each way; None
    where it cannot be read at `side` x `side` (it is named when it is read)."""
    try:
        arr = read_image(image)
    except Exception:  # noqa: BLE001  a check must not stop the data set: the read names it
        return None
    if arr.shape[:2] != (side, side):
        return None
    # Smoothed first: a label's outline may lie a pixel off the intensity step it follows.
    grey = ndimage.gaussian_filter(arr[::step, ::step].astype(np.float32).mean(2), 1.0)
    return np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1))


def _lead(gradient: np.ndarray, mask: np.ndarray) -> float:
    """How much more gradient the transposed outline of `mask` meets than its own, in
    spreads of the gradient met by copies of the outline shifted round the image."""
    outline = np.zeros_like(mask)  # the pixels on either side of an object's border
    down, along = mask[1:] != mask[:-1], mask[:, 1:] != mask[:, :-1]
    outline[1:] |= down
    outline[:-1] |= down
    outline[:, 1:] |= along
    outline[:, :-1] |= along
    ys, xs = np.nonzero(outline)
    if not len(ys):
        return 0.0
    n = gradient.shape[0]
    own, across = gradient[ys, xs].mean(), gradient[xs, ys].mean()
    shifts = np.random.default_rng(0).integers(n // 4, n - n // 4 + 1, (SHIFTS, 2))
    chance = np.array([gradient[(ys + dy) % n, (xs + dx) % n].mean() for dy, dx in shifts])
    # A floor on the spread: shifts that all meet flat background spread by nothing.
    spread = max(float(chance.std()), 0.02 * max(own, across, chance.max()), 1e-9)
    return float(across - own) / spread
