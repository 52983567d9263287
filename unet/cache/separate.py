"""masks.separate: touching objects of binarised instance labels kept apart in the cached
training targets by a background line, as the U-Net paper's targets were drawn."""

from __future__ import annotations

import numpy as np

from unet.common.bad_files import as_mask_error
from unet.common.imageio import ImageReadError
from unet.common.labels import IGNORE_INDEX, MaskValueError
from unet.common.maskio import COLOUR_MODES, mask_header, read_mask_values
from unet.common.pair_reads import merged_files


def separate_objects(ids: np.ndarray, index: np.ndarray, background: int) -> int:
    """Set to class `background` (in place, in `index`, class indices (H, W)) every object
    pixel with an 8-neighbour of another object that ranks lower, by area at this size, then by
    id (`ids`, the raw values (H, W) the threshold binarised): of two touching objects the
    larger gives way, so a 1-px line parts them (clearing both sides would cut 2 px out of
    every contact). Object pixels are those of neither `background` nor the ignored class.
    Returns how many it cleared."""
    objects = (index != background) & (index != IGNORE_INDEX)
    if not objects.any():
        return 0
    # (H, W): each object pixel's rank, no object's (background, ignored) above all.
    # By area, not id alone: a small object numbered above a neighbour on every side (a cell
    # in a ring, a thin one between two) gave way all round and left the target.
    rank, values, area = _ranks(ids, objects)
    gives_way = objects & (_lowest_around(rank) < rank)
    given, counts = np.unique(ids[gives_way], return_counts=True)  # few: the lines' pixels
    lost = given[counts == area[np.searchsorted(values, given)]]  # every pixel gave way
    if lost.size:
        _keep_lost(ids, objects, gives_way, lost)
    index[gives_way] = background
    return int(np.count_nonzero(gives_way))


def _ranks(ids: np.ndarray, objects: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(H, W): each object pixel's place in the order of area then id, smaller first;
    elsewhere the dtype's maximum (no object ranks above it; a tie makes none give way); and
    the sorted values with each one's area. 8- and 16-bit ids count areas by bincount and rank
    in uint16, others by sort in uint32."""
    ids = ids.view(np.uint8) if ids.dtype == np.bool_ else ids
    if ids.dtype in (np.uint8, np.uint16):
        # every value's area, non-objects' too: they are set to the top below
        area = np.bincount(ids.ravel(), minlength=1 << (8 * ids.itemsize))
        place = np.empty(area.size, np.uint16)
        place[np.lexsort((np.arange(area.size), area))] = np.arange(area.size, dtype=np.uint16)
        out = place.take(ids)  # (H, W): take is faster than indexing here
        np.putmask(out, ~objects, np.iinfo(np.uint16).max)
        return out, np.arange(area.size), area
    values, inverse, area = np.unique(ids[objects], return_inverse=True, return_counts=True)
    place = np.empty(values.size, np.uint32)
    place[np.lexsort((values, area))] = np.arange(values.size, dtype=np.uint32)
    out = np.full(ids.shape, np.iinfo(np.uint32).max, np.uint32)
    out[objects] = place[inverse.ravel()]
    return out, values, area


def _keep_lost(ids: np.ndarray, objects: np.ndarray, gives_way: np.ndarray,
               lost: np.ndarray) -> None:
    """Give back (in place, in `gives_way` (H, W)) a pixel or more of each `lost` object, every
    pixel of which gave way: one between two smaller ones (nuclei of 3 and 4 px at the cached
    size) left the target whole. Runs only where one is lost."""
    ys, xs = np.nonzero(gives_way)
    given = ids[ys, xs]
    kept = objects & ~gives_way
    values, counts = np.unique(ids[kept], return_counts=True)
    left = dict(zip(values.tolist(), counts.tolist(), strict=True))  # each object's pixels kept
    # each lost object's pixels from one sort: a scan of every given pixel per lost object
    # took 15 s where the rest took 1.5 s (1024x1024, 4,096 lost, half a million given)
    order = np.argsort(given, kind="stable")
    starts, stops = (np.searchsorted(given[order], lost, side=k) for k in ("left", "right"))
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        at = order[start:stop]
        _rescue(ids, kept, list(zip(ys[at].tolist(), xs[at].tolist(), strict=True)), left)
    gives_way[...] = objects & ~kept


def _foreign(ids: np.ndarray, kept: np.ndarray, y: int, x: int) -> list[tuple[int, int]]:
    """The kept pixels of other objects among (y, x)'s 8-neighbours."""
    y0, x0 = max(y - 1, 0), max(x - 1, 0)
    win = kept[y0:y + 2, x0:x + 2] & (ids[y0:y + 2, x0:x + 2] != ids[y, x])
    return [(y0 + a, x0 + b) for a, b in zip(*np.nonzero(win), strict=True)]


def _foreign_counts(ids: np.ndarray, kept: np.ndarray, pixels: list[tuple[int, int]]
                    ) -> np.ndarray:
    """How many kept pixels of other objects each of `pixels` has among its 8-neighbours."""
    ys, xs = (np.array(v, np.intp) for v in zip(*pixels, strict=True))
    h, w = ids.shape
    count = np.zeros(len(pixels), np.intp)
    for a, b in ((a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if a or b):
        y, x = np.clip(ys + a, 0, h - 1), np.clip(xs + b, 0, w - 1)
        inside = (ys + a == y) & (xs + b == x)
        count += inside & kept[y, x] & (ids[y, x] != ids[ys, xs])
    return count


def _rescue(ids: np.ndarray, kept: np.ndarray, pixels: list[tuple[int, int]],
            left: dict) -> None:
    """Keep (in `kept`) the pixel of a lost object with the fewest kept pixels of others around
    it, those giving way instead unless one is its object's last; then its pixels that touch it
    and no other object, so the line still parts them. `left`: pixels kept per object."""
    def cost(p: tuple[int, int]) -> float:
        near = [ids[q].item() for q in _foreign(ids, kept, *p)]
        return len(near) if all(near.count(v) < left[v] for v in set(near)) else np.inf
    # fewest others around first, as min(pixels, key=cost) picks (ties in `pixels` order): the
    # cost of every pixel of a 2,048-px lost stripe took 0.1 s; counting costs more below 8 px
    tries = pixels if len(pixels) <= 8 else [
        pixels[k] for k in np.argsort(_foreign_counts(ids, kept, pixels), kind="stable")]
    tries = sorted(tries, key=cost) if len(pixels) <= 8 else tries
    best = next((p for p in tries if cost(p) < np.inf), None)
    if best is None:
        return  # every pixel's neighbours would vanish in its place: leave it lost
    for q in _foreign(ids, kept, *best):
        kept[q] = False
        left[ids[q].item()] -= 1
    # grow from the kept pixel over pixels that touch no other object (8-connected, breadth
    # first: a rescan of every pixel per pixel grown was cubic along a thin object)
    free = {p for p in pixels if not _foreign(ids, kept, *p)} if len(pixels) <= 8 else {
        p for p, n in zip(pixels, _foreign_counts(ids, kept, pixels).tolist(), strict=True)
        if not n}
    kept[best], ours, todo = True, {best}, [best]
    while todo:
        y, x = todo.pop()
        for q in ((y + a, x + b) for a in (-1, 0, 1) for b in (-1, 0, 1)):
            if q in free and q not in ours:
                kept[q] = True
                ours.add(q)
                todo.append(q)
    left[ids[best].item()] = len(ours)  # a later lost neighbour must not take its last pixel


def _lowest_around(ids: np.ndarray) -> np.ndarray:
    """(H, W): the lowest of each pixel's 3x3 neighbourhood (the edge reads as no lower), as
    two passes of np.minimum over shifted views: 5x faster than ndimage.minimum_filter."""
    rows = ids.copy()
    np.minimum(rows[1:], ids[:-1], out=rows[1:])
    np.minimum(rows[:-1], ids[1:], out=rows[:-1])
    out = rows.copy()
    np.minimum(out[:, 1:], rows[:, :-1], out=out[:, 1:])
    np.minimum(out[:, :-1], rows[:, 1:], out=out[:, :-1])
    return out


def object_ids(pair: dict, raw: np.ndarray) -> np.ndarray:
    """(H, W) the ids that part a pair's objects: those drawn at download beside a mask drawn
    from annotations (`mask_objects`), else the mask's own values (instance labels): a palette
    mask's indices, a colour mask's colours, not the brightness `raw` holds of them, which a
    threshold binarises (CVPPP's leaves, an index each in arbitrary colours: two touching
    leaves of one brightness merged)."""
    if not pair.get("mask_objects"):
        return _label_ids(pair["mask"], raw)
    try:
        ids = read_mask_values(pair["mask_objects"])[0]
    except ImageReadError as err:
        raise as_mask_error(err) from err
    if ids.shape != raw.shape:  # drawn with the mask: only a file changed since differs
        raise MaskValueError(f"the object ids {pair['mask_objects']} are {ids.shape[1]}x"
                             f"{ids.shape[0]} but their mask {pair['mask']} is {raw.shape[1]}x"
                             f"{raw.shape[0]}; rerun download_dataset (snakemake -R "
                             "download_dataset) to draw both again")
    return ids


def _label_ids(path: str, raw: np.ndarray) -> np.ndarray:
    """(H, W) a label image's ids: `raw` itself unless it is the brightness of a palette or
    colour file (float), read again then as indices or packed colours (uint32)."""
    if raw.dtype.kind != "f" or mask_header(path)[0] not in ("P", "PA", *COLOUR_MODES):
        return raw  # grey levels, or a float TIFF's values: ids as they are
    try:
        return read_mask_values(path)[0]
    except ImageReadError as err:
        raise as_mask_error(err) from err


def refuse_merged(pairs: list[dict]) -> None:
    """masks.separate needs each object's own id: masks merged from several files (mask_parts,
    several mask folders, class folders) or drawn from RLE rows hold only their union, written
    at download; masks drawn from objects (COCO, LabelMe, QuPath, ...) have their ids beside
    them (`mask_objects`) where download drew them (masks.separate on)."""
    for pair in pairs:
        source = (pair.get("mask_from") if not pair.get("mask_objects") else None
                  ) or pair.get("mask_parts")
        if source:
            raise MaskValueError(
                f"masks.separate needs instance labels, one value per object, but the mask of "
                f"{pair['image']} ({pair['mask']}) is the union of its objects, merged from "
                f"{_shown(source)} at download, their ids lost; set masks.separate: false, or "
                "give the pipeline label images of object ids with masks.threshold: 0"
            )


def _shown(source: str | list | dict) -> str:
    """A merged mask's sources as an error shows them: the first two files."""
    files = merged_files(source)
    return ", ".join(files[:2]) + (", ..." if len(files) > 2 else "")
