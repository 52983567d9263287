"""Boundary metrics: 95th-percentile Hausdorff distance and boundary F1, and per-image scores.

Apart from the confusion counts (metrics.py) so that editing these reruns only the evaluation:
training, CRF tuning and the final-mask choice count pixels, not boundaries.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from unet.evaluate.distances import Directed
from unet.evaluate.metrics import confusion_matrix, scores_from_confusion

# A missed (or hallucinated) object has no finite HD95; dropping it from the mean would make
# missing an object score better than finding it badly. BraTS-style evaluations use the maximal
# distance instead; ours is the 2-D image's diagonal.
HD95_PENALTY: str = (
    "image diagonal in px, sqrt(H^2 + W^2) of that image: replaces an inf HD95 (class in exactly "
    "one of target and prediction) in mean_per_image; per_image.csv keeps inf"
)


def image_diagonal(shape: tuple[int, ...]) -> float:
    """Diagonal sqrt(H^2 + W^2) in px of an (H, W) image: the HD95 penalty of a missed class."""
    h, w = shape[:2]
    return float(np.hypot(h, w))


def _boundary(mask: np.ndarray) -> np.ndarray:
    """Mask minus its erosion: pixels with a 4-neighbour outside (the image edge is outside)."""
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def _as_bool_pair(pred_mask: np.ndarray, target_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred_mask = np.asarray(pred_mask, dtype=bool)
    target_mask = np.asarray(target_mask, dtype=bool)
    if pred_mask.shape != target_mask.shape or pred_mask.ndim != 2:
        raise ValueError(
            f"masks must be 2-D and equal in shape, got {pred_mask.shape} and {target_mask.shape}"
        )
    return pred_mask, target_mask


def hausdorff_distance(
    pred_mask: np.ndarray, target_mask: np.ndarray, percentile: float = 100.0
) -> float:
    """Symmetric Hausdorff distance in pixels between mask boundaries, at `percentile`.

    Each direction takes the percentile of its boundary-to-boundary distances and the larger
    of the two is returned, as MONAI's compute_hausdorff_distance (directed=False) does. MedPy's
    hd95 differs: it pools both directions' distances before taking one percentile. Both empty:
    0.0; one empty: inf.
    """
    pred_mask, target_mask = _as_bool_pair(pred_mask, target_mask)
    pred_empty, target_empty = not pred_mask.any(), not target_mask.any()
    if pred_empty and target_empty:
        return 0.0
    if pred_empty or target_empty:
        return float("inf")
    pred_to_target, target_to_pred = _directed(pred_mask, target_mask)
    return _percentile(pred_to_target, target_to_pred, percentile)


def _directed(pred_mask: np.ndarray, target_mask: np.ndarray) -> tuple[Directed, Directed]:
    """Distances from each predicted boundary pixel to the target boundary, and back (both
    masks non-empty), computed once per pair, a tile at a time (distances.py)."""
    pred_b, target_b = _boundary(pred_mask), _boundary(target_mask)
    return Directed(target_b, pred_b), Directed(pred_b, target_b)


def _percentile(pred_to_target: Directed, target_to_pred: Directed, q: float) -> float:
    return max(pred_to_target.percentile(q), target_to_pred.percentile(q))


def _f1(pred_to_target: Directed, target_to_pred: Directed, tolerance: float) -> float:
    precision = pred_to_target.fraction_within(tolerance)
    recall = target_to_pred.fraction_within(tolerance)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def hd95(pred_mask: np.ndarray, target_mask: np.ndarray) -> float:
    """95th-percentile symmetric Hausdorff distance in pixels (0.0 both empty, inf one empty)."""
    return hausdorff_distance(pred_mask, target_mask, percentile=95.0)


def boundary_f1(pred_mask: np.ndarray, target_mask: np.ndarray, tolerance: float = 2) -> float:
    """F1 of boundary pixels matched within `tolerance` px (1.0 both empty, 0.0 one empty)."""
    pred_mask, target_mask = _as_bool_pair(pred_mask, target_mask)
    pred_empty, target_empty = not pred_mask.any(), not target_mask.any()
    if pred_empty and target_empty:
        return 1.0
    if pred_empty or target_empty:
        return 0.0
    return _f1(*_directed(pred_mask, target_mask), tolerance)


BAND = 256  # rows of an image whose class masks and erosions are made at a time


def bands(
    target: np.ndarray, ignore_index: int | None, outside: np.ndarray | None = None
) -> np.ndarray | None:
    """(H, W) bool: the ignored regions (4-connected, within the region of interest) that
    border two or more labelled classes, where an edge certainly lies (a trimap's band, VOC's
    outlines; a hole inside one class is none); None without ignored pixels."""
    if ignore_index is None:
        return None
    void = target == ignore_index if outside is None else (target == ignore_index) & ~outside
    if not void.any():
        return None
    ids, n = ndimage.label(void)
    labelled = ~void if outside is None else ~void & ~outside
    # each region's least and greatest labelled neighbour class: it borders two classes or
    # more when they differ; no per-pair keys (28 bytes a pixel with scattered ignored pixels)
    least, most = np.full(n + 1, np.iinfo(np.int64).max), np.full(n + 1, np.iinfo(np.int64).min)
    for axis in (0, 1):
        lo, hi = [slice(None)] * 2, [slice(None)] * 2
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        for a, b in ((tuple(lo), tuple(hi)), (tuple(hi), tuple(lo))):
            here = void[a] & labelled[b]  # a region's pixel and its labelled neighbour
            region, value = ids[a][here], target[b][here]
            np.minimum.at(least, region, value)
            np.maximum.at(most, region, value)
    keep = most > least
    return keep[ids]


def _band_edges(labels, valid, c: int, inside=None, band=None) -> tuple[np.ndarray | None, ...]:
    """Scored edge of class `c` in a band of `labels` (a pixel of it on the image edge, beside
    a pixel outside the region of interest `inside`, or with a labelled 4-neighbour of another
    class: an edge against ignored pixels only is none); the ignored pixels within the region
    bordering the class and the class's pixels bordering them, between which its unknown edge
    may lie; its soft edge: pixels of it, no scored edge, beside a pixel of `band` (bands())
    that `labels` does not give `c` (None, None, None without ignored pixels). `valid`
    excludes the outside."""
    mask = labels == c if valid is None else (labels == c) & valid
    other = ~mask if valid is None else valid & ~mask
    if inside is not None:  # beyond the region of interest is beyond the image's edge
        other |= ~inside
    edge = mask & ~ndimage.binary_erosion(~other, border_value=0)
    void = None if valid is None else ~valid if inside is None else ~valid & inside
    if void is None or not void.any():
        return edge, None, None, None
    soft = np.zeros_like(mask) if band is None else \
        mask & ~edge & ndimage.binary_dilation(band & (labels != c))
    return edge, void & ndimage.binary_dilation(mask), mask & ndimage.binary_dilation(void), soft


def class_boundaries(
    pred: np.ndarray, target: np.ndarray, c: int, ignore_index: int | None,
    outside: np.ndarray | None = None, regions=None,
) -> list[np.ndarray | None]:
    """(H, W) bool masks of class `c`: the scored edges in pred and target (_band_edges); the
    ignored target pixels bordering `c` in either mask; the target's and pred's pixels of `c`
    beside ignored ones; pred's and target's soft edge pixels (the last five None without
    ignored pixels beside the class). `outside` (H, W) bool: the pixels beyond the region of
    interest; `regions`: bands(target, ignore_index, outside). Made BAND rows at a time with a
    row of their neighbours on each side, so no full-size class mask or erosion is held."""
    h = target.shape[0]
    out = [np.empty(pred.shape, bool), np.empty(target.shape, bool)] + [None] * 5
    for y0 in range(0, h, BAND):
        y1 = min(y0 + BAND, h)
        ya, yb = max(0, y0 - 1), min(h, y1 + 1)
        rows = slice(y0 - ya, y1 - ya)
        valid = target[ya:yb] != ignore_index if ignore_index is not None else None
        inside = None if outside is None else ~outside[ya:yb]
        if inside is not None:
            valid = inside if valid is None else valid & inside
        band = None if regions is None else regions[ya:yb]
        got = [_band_edges(x, valid, c, inside, band) for x in (pred[ya:yb], target[ya:yb])]
        out[0][y0:y1], out[1][y0:y1] = got[0][0][rows], got[1][0][rows]
        (_, rim_p, own_p, soft_p), (_, rim_t, own_t, soft_t) = got
        if rim_p is None:
            continue
        extra = (rim_p | rim_t, own_t, own_p, soft_p, soft_t)
        if not any(e[rows].any() for e in extra[:3]):
            continue  # held only where there are ignored pixels beside the class
        if out[2] is None:
            out[2:] = [np.zeros(target.shape, bool) for _ in range(5)]
        for k, e in enumerate(extra):
            out[2 + k][y0:y1] = e[rows]
    return out


def _cropped(*masks: np.ndarray) -> tuple[np.ndarray, ...]:
    """The masks cut to the box holding every pixel of any: the distances between them are
    the same, and a class's distance transforms cost its extent, not the image's (ADE20K's
    150 classes at 512x512: 3.7 s an image, mostly transforming empty image)."""
    both = masks[0].copy()
    for m in masks[1:]:
        both |= m
    rows, cols = np.flatnonzero(both.any(axis=1)), np.flatnonzero(both.any(axis=0))
    if not len(rows):
        return masks
    box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    return tuple(m[box] for m in masks)


def _boundary_scores(cm: np.ndarray, c: int, pred, target, ignore_index, tolerance: float,
                     outside: np.ndarray | None = None, regions=None):
    """(hd95, boundary F1) of class `c`; whether the class is in either mask comes from the
    confusion counts (ignored pixels left out). Each scored edge pixel is measured to the other
    mask's scored edge or the nearest ignored pixel bordering the class within the region of
    interest, whichever is nearer, a predicted one also to the target's pixels of the class
    beside ignored ones (a pet 1 px short of its trimap's band is 1 px off, as 1 px past it);
    each soft edge pixel to the other mask's nearest pixel of the class (0 within it), so a
    pet missed in its band is far off; a mask without scored or soft edges adds no distances
    (README, boundary metrics)."""
    pred_empty, target_empty = not cm[:, c].any(), not cm[c, :].any()
    if pred_empty or target_empty:
        both = pred_empty and target_empty
        return (0.0, 1.0) if both else (float("inf"), 0.0)
    pred_b, target_b, rim, own_t, own_p, soft_p, soft_t = class_boundaries(
        pred, target, c, ignore_index, outside, regions)
    if rim is None:  # no ignored pixel beside the class: no copies (8k images' memory)
        pred_b, target_b = _cropped(pred_b, target_b)
        pairs = ((target_b, pred_b, None), (pred_b, target_b, None))
    else:
        pred_b, target_b, rim, own_t, own_p, soft_p, soft_t = _cropped(
            pred_b, target_b, rim, own_t, own_p, soft_p, soft_t)
        to_target = target_b | rim | own_t
        rim |= pred_b  # in place, as below: each is needed only so from here (memory)
        own_t |= target_b  # holds the outline of the target's class: its pixels nearest any
        own_p |= pred_b  # other pixel, which a soft edge is measured to
        pairs = ((to_target, pred_b, (own_t, soft_p)), (rim, target_b, (own_p, soft_t)))
    directed = []
    for to, at, soft in pairs:
        if at.any() and not to.any():
            return float("inf"), 0.0  # edges with nothing to match them
        soft = soft if soft is not None and soft[1].any() else None
        if soft is not None and not at.any():  # soft edge pixels only
            (to, at), soft = soft, None
        directed.append(Directed(to, at, soft) if at.any() else None)
    if not any(directed):
        return 0.0, 1.0  # every edge of the class lies against ignored pixels, in both masks
    hd = max(d.percentile(95.0) for d in directed if d)
    precision, recall = (d.fraction_within(tolerance) if d else 1.0 for d in directed)
    if precision + recall == 0:
        return hd, 0.0
    return hd, 2 * precision * recall / (precision + recall)


def image_scores(
    pred: np.ndarray,
    target: np.ndarray,
    num_classes: int,
    ignore_index: int | None = None,
    tolerance: float = 2,
    outside: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """One image's confusion matrix, its scores, and per-class hd95 and boundary F1 (C,);
    `outside` (H, W) bool: beyond the region of interest, where `target` holds ignore_index and
    which the boundaries treat as beyond the image's edge (a false edge along it is no match)."""
    pred = np.asarray(pred)
    target = np.asarray(target)
    cm = confusion_matrix(pred, target, num_classes, ignore_index)
    # Ignored pixels count nowhere: an edge against them only is scored in neither mask, and
    # the unknown edge within them is taken as near as they are; beside a band between classes
    # what is scored is whether the other mask has the class there (README, boundary metrics).
    hd = np.empty(num_classes, dtype=np.float64)
    bf1 = np.empty(num_classes, dtype=np.float64)
    regions = bands(target, ignore_index, outside)
    for c in range(num_classes):
        hd[c], bf1[c] = _boundary_scores(cm, c, pred, target, ignore_index, tolerance, outside,
                                         regions)
    return {"confusion": cm, **scores_from_confusion(cm), "hd95": hd, "boundary_f1": bf1}


def region_boundary(pred: np.ndarray, target: np.ndarray, classes: list[int], ignore_index: int,
                    tolerance: float, outside: np.ndarray | None = None) -> tuple[float, float]:
    """(hd95, boundary F1) of the union of `classes` against every other labelled pixel, as a
    class of its own (ignored pixels, the region of interest and the empty cases alike)."""
    inside_p = np.isin(pred, classes).astype(np.uint8)  # (H, W) 1 in the region
    inside_t = np.where(target == ignore_index, ignore_index, np.isin(target, classes))
    inside_t = inside_t.astype(np.uint8)
    cm = confusion_matrix(inside_p, inside_t, 2, ignore_index)
    return _boundary_scores(cm, 1, inside_p, inside_t, ignore_index, tolerance, outside,
                            bands(inside_t, ignore_index, outside))
