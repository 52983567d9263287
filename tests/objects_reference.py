"""The slow way object scores must agree with (tests/test_objects.py, test_objects3d.py): every
true and predicted object as a mask of its own and every pair's IoU, in 2-D or 3-D."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from unet.evaluate.objects import IOU_THRESHOLDS


def reference(true: np.ndarray, pred: np.ndarray, scored: np.ndarray) -> dict:
    """Counts of one image or volume: a true object is one id of `true` within one fully
    connected blob (8 neighbours in 2-D, 26 in 3-D), a predicted one a blob of `pred`'s scored
    pixels; pixels outside `scored` count in no area and join no object."""
    full = np.ones((3,) * true.ndim)
    blobs = ndimage.label(true > 0, structure=full)[0]
    split = np.zeros(true.shape, np.int64)
    pairs = sorted({(int(b), int(v)) for b, v in zip(blobs[true > 0], true[true > 0],
                                                      strict=True)})
    for k, (b, v) in enumerate(pairs, 1):
        split[(blobs == b) & (true == v)] = k
    t_ids = [v for v in np.unique(split[scored]) if v]
    p_lab, n = ndimage.label((pred > 0) & scored, structure=full)  # cut by ignored px
    p_ids = [v for v in range(1, n + 1) if (p_lab[scored] == v).any()]
    ious = [iou for t in t_ids for p in p_ids
            if (iou := ((split == t) & (p_lab == p) & scored).sum()
                / (((split == t) | (p_lab == p)) & scored).sum()) > 0.5]
    tp = len(ious)
    # px of each (true, predicted) pair, and each object's, all over scored pixels only
    both = {(t, p): ((split == t) & (p_lab == p) & scored).sum() for t in t_ids for p in p_ids}
    area_t = {t: ((split == t) & scored).sum() for t in t_ids}
    area_p = {p: ((p_lab == p) & scored).sum() for p in p_ids}
    split_n = sum(sum(2 * both[t, p] > area_p[p] for p in p_ids) >= 2 for t in t_ids)
    merged = sum(sum(2 * both[t, p] > area_t[t] for t in t_ids) >= 2 for p in p_ids)
    return {"true": len(t_ids), "predicted": len(p_ids), "tp": tp, "fp": len(p_ids) - tp,
            "fn": len(t_ids) - tp, "split": int(split_n), "merged": int(merged),
            "iou_sum": float(sum(ious)),
            # CTC's SEG: each true object's Jaccard with a predicted one covering > half of it
            "seg_sum": float(sum(both[t, p] / (area_t[t] + area_p[p] - both[t, p])
                                 for t in t_ids for p in p_ids if 2 * both[t, p] > area_t[t])),
            "tp_at": [sum(i > th for i in ious) for th in IOU_THRESHOLDS]}
