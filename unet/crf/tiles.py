"""The CRF's tiles: how many pixels one DenseCRF2D may hold, and the grid a large image is
refined in (each tile reaching crf.tile_overlap px into its neighbours, keeping its centre)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

# DenseCRF2D's peak memory a pixel, BYTES_FIXED + BYTES_PER_CLASS x classes (measured: 390
# bytes at 2 classes, 1132 at 21, 2654 at 60): its marginals, messages and unary are per class.
BYTES_FIXED, BYTES_PER_CLASS = 313, 39


def tile_area(tile: int, classes: int, overlap: int) -> int:
    """Most pixels a CRF tile may hold: tile x tile (crf.tile) at 2 classes; with more, as many
    as take the memory of a 2-class tile x tile (a 2048 x 2048 tile of 150 classes took 25 GB
    a worker), but room for a 64 px centre beyond the overlap (never more than tile x tile)."""
    per_pixel = BYTES_FIXED + BYTES_PER_CLASS * max(classes, 2)
    scaled = tile * tile * (BYTES_FIXED + 2 * BYTES_PER_CLASS) // per_pixel
    return max(scaled, min(tile * tile, (2 * overlap + 64) ** 2))


def _parts(size: int, room: int, overlap: int) -> int | None:
    """Fewest parts of an axis of `size` px whose tiles (a part and its overlaps) fit `room`
    px; None when none do."""
    if size <= room:
        return 1
    if -(-size // 2) + overlap <= room:
        return 2  # each part reaches into one neighbour
    return max(3, -(-size // (room - 2 * overlap))) if room > 2 * overlap else None


def tile_cores(h: int, w: int, area: int, overlap: int) -> tuple[int, int]:
    """(rows, columns) each tile keeps: the grid whose tiles, with their overlaps, hold at most
    `area` pixels and that refines the fewest pixels in all (strips where they fit: an image
    a little over the area is cut in two, not into a square grid)."""
    best = None
    for ny in range(1, h + 1):
        cy = -(-h // ny)
        ty = min(h, cy + overlap * min(ny - 1, 2))
        nx = _parts(w, area // ty, overlap)
        if nx is not None:
            cost = (h + 2 * overlap * (ny - 1)) * (w + 2 * overlap * (nx - 1))
            if best is None or cost < best[0]:
                best = (cost, cy, -(-w // nx))
        if cy == 1:
            break
    if best is None:
        raise ValueError(f"no CRF tiles of {area} pixels fit a {overlap} px overlap; "
                         "raise crf.tile or lower crf.tile_overlap")
    return best[1], best[2]


def tile_grid(h: int, w: int, classes: int, tile: int, overlap: int) -> tuple[int, int] | None:
    """(rows, columns) of tiles refine cuts an h x w image of `classes` into; None when it is
    refined whole."""
    area = tile_area(tile, classes, overlap)
    if h * w <= area or tile <= 2 * overlap:  # whole, or refused by refine
        return None
    core_y, core_x = tile_cores(h, w, area, overlap)
    return -(-h // core_y), -(-w // core_x)


def note_tiles(name: str, h: int, w: int, classes: int, tile: int, overlap: int) -> None:
    """Log, for an image the CRF refines in tiles, into how many: its result near the seams
    is not the whole image's, and its time and memory are the tiles'."""
    grid = tile_grid(h, w, classes, tile, overlap)
    if grid is not None:
        log.info("%s: %dx%d px (HxW) over crf.tile %d at %d classes: CRF in %d tiles (%d x %d), "
                 "each reaching %d px into its neighbours", name, h, w, tile, classes,
                 grid[0] * grid[1], *grid, overlap)
