"""evaluate.objects' Aggregated Jaccard Index of one image: AJI (Kumar et al., IEEE TMI 2017,
MoNuSeg's) and AJI+ (Graham et al., Hover-Net 2019), from its overlapping object pairs."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# Copied into objects_rule beside the other scores' definitions.
AJI_RULE: str = (
    "aji the Aggregated Jaccard Index (Kumar et al. 2017): each true object paired with the "
    "predicted object of largest IoU among those overlapping it (ties: the first in raster "
    "order; a predicted object may pair with several true ones), C the pairs' summed "
    "intersections, U their summed unions plus the areas of the true objects overlapped by "
    "none and of the predicted objects paired with none, AJI C/U; aji_plus AJI+ (Graham et al. "
    "2019) the same with each predicted object paired at most once, by the pairing of "
    "overlapping objects of largest summed IoU (Munkres, as Hover-Net's), U then the summed "
    "areas of all objects less C; both pooled over a set as summed C over summed U, not a mean "
    "of per-image ratios"
)


def _max_iou_pairs(t: np.ndarray, p: np.ndarray, iou: np.ndarray) -> np.ndarray:
    """Indices into the pairs (t, p) of each true object's largest-IoU one (ties: lowest p)."""
    order = np.lexsort((p, -iou, t))  # by t, then IoU falling, then p rising
    first = np.ones(order.size, bool)
    first[1:] = t[order][1:] != t[order][:-1]
    return order[first]


def _unique_pairs(t: np.ndarray, p: np.ndarray, iou: np.ndarray) -> np.ndarray:
    """Indices into the pairs (t, p) of a one-to-one pairing of largest summed IoU: solved per
    connected component of the overlap graph (a full IoU matrix of 2,000 objects is 4M cells,
    its components a few objects each), a pair alone in its component taken as it is."""
    alone = (np.bincount(t)[t] == 1) & (np.bincount(p)[p] == 1)
    rest = np.flatnonzero(~alone)
    if not rest.size:
        return np.flatnonzero(alone)
    rows, ti = np.unique(t[rest], return_inverse=True)
    cols, pi = np.unique(p[rest], return_inverse=True)
    nodes = rows.size + cols.size
    graph = coo_matrix((np.ones(rest.size), (ti, rows.size + pi)), shape=(nodes, nodes))
    _, comp = connected_components(graph, directed=False)
    # each node's index within its component: its rank among the component's rows (or cols)
    local = np.empty(nodes, np.int64)
    for part in (slice(0, rows.size), slice(rows.size, nodes)):
        c = comp[part]
        order = np.argsort(c, kind="stable")
        starts = np.searchsorted(c[order], c[order])
        local[np.arange(nodes)[part][order]] = np.arange(order.size) - starts
    r, k = local[ti], local[rows.size + pi]
    edge_comp = comp[ti]
    order = np.argsort(edge_comp, kind="stable")
    chosen = [np.flatnonzero(alone)]
    for group in np.split(order, np.flatnonzero(np.diff(edge_comp[order])) + 1):
        w = np.zeros((r[group].max() + 1, k[group].max() + 1))
        at = np.full(w.shape, -1)
        w[r[group], k[group]], at[r[group], k[group]] = iou[rest[group]], rest[group]
        a, b = linear_sum_assignment(w, maximize=True)
        got = at[a, b]
        chosen.append(got[got >= 0])  # a row left on a 0 cell (no overlap) pairs with nothing
    return np.concatenate(chosen)


def aji_counts(t: np.ndarray, p: np.ndarray, inter: np.ndarray, iou: np.ndarray,
               area_t: np.ndarray, area_p: np.ndarray) -> dict:
    """AJI's and AJI+'s C and U (px) of one image: (t, p) its overlapping pairs of true and
    predicted labels (1..n) with `inter` px in common and `iou`, area_t and area_p the labels'
    areas (index 0 the background's, left out)."""
    areas = int(area_t[1:].sum()) + int(area_p[1:].sum())
    best = _max_iou_pairs(t, p, iou)
    used = np.unique(p[best])
    # U: every true object's area once, each pair's predicted px outside its true object, and
    # the predicted objects paired with none
    union = (int(area_t[1:].sum()) + int((area_p[p[best]] - inter[best]).sum())
             + int(area_p[1:].sum()) - int(area_p[used].sum()))
    plus = _unique_pairs(t, p, iou)
    inter_plus = int(inter[plus].sum())
    return {"aji_inter": int(inter[best].sum()), "aji_union": union,
            "aji_plus_inter": inter_plus, "aji_plus_union": areas - inter_plus}
