"""evaluate.smear: anti-aliasing's edge greys in a source mask's ids (a 0/255 mask resized
bilinearly) merged into the objects they border, so that they count as no objects of their own."""

from __future__ import annotations

import itertools

import numpy as np
from scipy import ndimage


def interior(ids: np.ndarray) -> np.ndarray:
    """(H, W) or (D, H, W) bool: pixels whose 4 in-plane neighbours all hold their value (past
    the image's edge counts as the same). In-plane in a volume too: smear is each 2-D file's,
    and an object one slice thick has no pixel whose 6 neighbours share its value."""
    inner = np.ones(ids.shape, bool)
    for axis in (-2, -1):
        same = np.diff(ids, axis=axis) == 0  # a pixel and its next neighbour along `axis`
        lo = [slice(None)] * ids.ndim
        hi = [slice(None)] * ids.ndim
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        inner[tuple(lo)] &= same
        inner[tuple(hi)] &= same
    return inner


def merge_smear(ids: np.ndarray, parts: np.ndarray, n: int, truth: np.ndarray
                ) -> np.ndarray | None:
    """`parts` (labels 1..n of each id within each blob of `truth`) with each part that holds no
    interior pixel of `ids` (edge smear, 1-2 px wide) merged into the part it borders most
    (8-neighbour pixel pairs; 3-D 26), or one object per blob where a blob holds no other part;
    None where no part lacks one (the labels stand as they are)."""
    real = np.zeros(n + 1, bool)
    real[parts[interior(ids) & truth]] = True
    if real[1:].all():  # the fast path: no gather of the labels through `real`
        return None
    smear = truth & ~real[parts]
    runs, k = ndimage.label(smear, structure=np.ones((3,) * ids.ndim, bool))
    at = np.nonzero(smear)  # smear pixels only: a few % of the image's
    run_at, keys = runs[at], []  # pairs (run, real part) over the 8 (3-D 26) neighbours
    for step in [s for s in itertools.product((-1, 0, 1), repeat=ids.ndim) if any(s)]:
        q = [i + d for i, d in zip(at, step, strict=True)]
        inside = np.logical_and.reduce([(i >= 0) & (i < m) for i, m in zip(q, ids.shape,
                                                                          strict=True)])
        part = parts[tuple(i[inside] for i in q)]  # 0 off `truth`: real[0] is False
        near = real[part]
        keys.append(run_at[inside][near].astype(np.int64) * (n + 1) + part[near])
    # sorted pairs, not a (runs x parts) table: an anti-aliased mask holds ~100k of each
    key, count = np.unique(np.concatenate(keys), return_counts=True)
    run, part = np.divmod(key, n + 1)
    order = np.lexsort((-part, count, run))  # per run: most pixel pairs last, then lowest part
    last = order[np.r_[run[order][1:] != run[order][:-1], True]] if order.size else order
    # a run bordering no real part fills its blob alone: one new object of its own
    into = n + np.arange(k + 1)
    into[run[last]] = part[last]
    out = parts.astype(np.int64)
    out[smear] = into[runs[smear]]
    return out
