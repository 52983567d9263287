"""The slow way object scores must agree with (tests/test_objects.py, test_objects3d.py): every
true and predicted object as a mask of its own and every pair's IoU, in 2-D or 3-D."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import ndimage
from scipy.optimize import linear_sum_assignment

from unet.evaluate.objects import IOU_THRESHOLDS


def _steps(ndim: int, plane: bool = False) -> list[tuple[int, ...]]:
    """Offsets to a pixel's neighbours: all 8 (3-D 26), or its 4 in-plane ones."""
    steps = [s for s in itertools.product((-1, 0, 1), repeat=ndim) if any(s)]
    return [s for s in steps if sum(map(abs, s)) == 1 and not any(s[:-2])] if plane else steps


def _at(a: np.ndarray, p: tuple[int, ...], s: tuple[int, ...]):
    """`a` at pixel p + s, None past the edge."""
    q = tuple(i + d for i, d in zip(p, s, strict=True))
    return a[q] if all(0 <= i < n for i, n in zip(q, a.shape, strict=True)) else None


def _merge_smear(split: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Parts with no pixel whose in-plane 4 neighbours (past the edge: the same) share its raw
    id joined, a run of them at a time, to the part they border most (ties: the lowest)."""
    real = {int(split[p]) for p in map(tuple, np.argwhere(split > 0))
            if all(_at(ids, p, s) in (None, ids[p]) for s in _steps(ids.ndim, True))}
    smear = (split > 0) & ~np.isin(split, list(real))
    runs, k = ndimage.label(smear, structure=np.ones((3,) * ids.ndim))
    out, new = split.copy(), split.max()
    for r in range(1, k + 1):
        border = [int(_at(split, p, s)) for p in map(tuple, np.argwhere(runs == r))
                  for s in _steps(ids.ndim) if _at(split, p, s) in real]
        new += not border
        out[runs == r] = min(set(border), key=lambda t: (-border.count(t), t)) if border else new
    return out


def reference(true: np.ndarray, pred: np.ndarray, scored: np.ndarray,
              ids: np.ndarray | None = None) -> dict:
    """Counts of one image or volume: a true object is one id of `true` within one fully
    connected blob (8 neighbours in 2-D, 26 in 3-D), a predicted one a blob of `pred`'s scored
    pixels; pixels outside `scored` count in no area and join no object. With the raw `ids`,
    edge smear is merged (evaluate.smear)."""
    full = np.ones((3,) * true.ndim)
    blobs = ndimage.label(true > 0, structure=full)[0]
    split = np.zeros(true.shape, np.int64)
    pairs = sorted({(int(b), int(v)) for b, v in zip(blobs[true > 0], true[true > 0],
                                                      strict=True)})
    for k, (b, v) in enumerate(pairs, 1):
        split[(blobs == b) & (true == v)] = k
    if ids is not None:
        split = _merge_smear(split, ids)
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
            "tp_at": [sum(i > th for i in ious) for th in IOU_THRESHOLDS],
            # SBD's halves: each object's best Dice with one of the other side's, summed (approx:
            # summed in another order than the vectorised count, they differ in the last bit)
            "bd_true_sum": pytest.approx(sum(max((2 * both[t, p] / (area_t[t] + area_p[p])
                                                  for p in p_ids), default=0) for t in t_ids)),
            "bd_pred_sum": pytest.approx(sum(max((2 * both[t, p] / (area_t[t] + area_p[p])
                                                  for t in t_ids), default=0) for p in p_ids)),
            **_aji(np.array([[both[t, p] for p in p_ids] for t in t_ids]).reshape(
                len(t_ids), len(p_ids)), np.array([area_t[t] for t in t_ids]),
                np.array([area_p[p] for p in p_ids]))}


def _aji(inter: np.ndarray, area_t: np.ndarray, area_p: np.ndarray) -> dict:
    """AJI's and AJI+'s C and U from the full (true, predicted) intersection matrix, as
    MoNuSeg's and Hover-Net's definitions read: per true object, then the unpaired added."""
    union = area_t[:, None] + area_p[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros(inter.shape), where=union > 0)
    out = {}
    for name, (rows, cols) in {
            "aji": (np.arange(len(area_t)), iou.argmax(axis=1) if iou.size else []),
            "aji_plus": linear_sum_assignment(iou, maximize=True)}.items():
        pairs = [(r, c) for r, c in zip(rows, cols, strict=True) if inter[r, c] > 0]
        c_sum = sum(int(inter[r, c]) for r, c in pairs)
        u_sum = sum(int(union[r, c]) for r, c in pairs)
        u_sum += sum(int(a) for r, a in enumerate(area_t) if r not in {r for r, _ in pairs})
        u_sum += sum(int(a) for c, a in enumerate(area_p) if c not in {c for _, c in pairs})
        out[f"{name}_inter"], out[f"{name}_union"] = c_sum, u_sum
    return out


def sbd_reference(true: np.ndarray, pred: np.ndarray, scored: np.ndarray) -> dict:
    """CVPPP's SBD and DiC of one image as the challenge's definition reads: every object a
    mask (`true`'s ids, each id one object; `pred`'s 8-connected blobs), Dice of every pair,
    BD(a, b) the mean over a's objects of their best Dice with b's, SBD the smaller BD."""
    t_masks = [(true == v) & scored for v in np.unique(true[scored]) if v]
    p_lab, n = ndimage.label((pred > 0) & scored, structure=np.ones((3,) * true.ndim))
    p_masks = [m for v in range(1, n + 1) if (m := p_lab == v).any()]

    def best_dice(a: list[np.ndarray], b: list[np.ndarray]) -> float:
        return float(np.mean([max(2 * (x & y).sum() / (x.sum() + y.sum()) for y in b)
                              for x in a]))

    sbd = (None if not (t_masks or p_masks) else 0.0 if not (t_masks and p_masks)
           else min(best_dice(t_masks, p_masks), best_dice(p_masks, t_masks)))
    return {"sbd": sbd, "dic": len(p_masks) - len(t_masks)}


def crowded_scene(seed: int, objects: int, longest: int, cuts: int, ignore: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(target, pred, ids) of a 40x40 image: `objects` random rectangles over each other (ids),
    a prediction of each shifted, grown or shrunk, cut by `cuts` random rows and columns (its
    blobs parted over several true objects, and the reverse), and ignored specks (`ignore`)."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((40, 40), np.uint16)
    pred = np.zeros((40, 40), np.uint8)
    for k in range(1, objects + 1):
        y, x, h, w = *rng.integers(0, 36, 2), *rng.integers(2, longest, 2)
        ids[y:y + h, x:x + w] = k
        dy, dx, g = *rng.integers(-2, 3, 2), rng.integers(-1, 2)
        pred[max(y + dy - g, 0):y + dy + h + g, max(x + dx - g, 0):x + dx + w + g] = 1
    pred[rng.integers(0, 40, cuts)] = 0
    pred[:, rng.integers(0, 40, cuts)] = 0
    target = (ids > 0).astype(np.uint8)
    target[rng.random(ids.shape) < 0.03] = ignore
    return target, pred, ids


def two_touching() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(target, pred, ids): two touching objects, 4x5 (id 1, 20 px) and 4x3 (id 2, 12 px),
    predicted as one 4x8 blob."""
    ids = np.zeros((6, 10), np.uint16)
    ids[1:5, 1:6], ids[1:5, 6:9] = 1, 2
    target = (ids > 0).astype(np.uint8)
    return target, target.copy(), ids
