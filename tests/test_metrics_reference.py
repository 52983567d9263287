"""Per-image and per-volume scores against brute-force references written here from the README's
definitions (plain numpy and all-pairs distances on tiny random masks), not the package's helpers:
pixel scores, HD95 and boundary F1 in 2-D (with ignored pixels, trimap bands and a roi) and 3-D."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.distance import cdist

from unet.evaluate.boundary import image_scores, region_boundary
from unet.evaluate.volume import volume_scores

IGN = 255


def _ratio(num: float, den: float) -> float:
    return 1.0 if den == 0 else num / den


def ref_pixel_scores(pred: np.ndarray, target: np.ndarray, c: int) -> dict[str, float]:
    """Dice, IoU, precision, recall of class `c` over the labelled pixels, 0/0 = 1."""
    lab = target != IGN
    tp = np.sum((pred == c) & (target == c) & lab)
    fp = np.sum((pred == c) & (target != c) & lab)
    fn = np.sum((pred != c) & (target == c) & lab)
    return {"dice": _ratio(2 * tp, 2 * tp + fp + fn), "iou": _ratio(tp, tp + fp + fn),
            "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn)}


def _neighbours(p: tuple, shape: tuple) -> list[tuple | None]:
    """The face neighbours of voxel `p`, None for one beyond the array's edge."""
    out = []
    for axis in range(len(shape)):
        for step in (-1, 1):
            q = list(p)
            q[axis] += step
            out.append(tuple(q) if 0 <= q[axis] < shape[axis] else None)
    return out


def _points(mask: np.ndarray, keep) -> list[tuple]:
    return [tuple(p) for p in np.argwhere(mask) if keep(tuple(p))]


def _from(a: list, b: list) -> np.ndarray:
    """Each point of `a`'s distance to the nearest of `b` (all pairs; inf with no `b`)."""
    if not a:
        return np.empty(0)
    return cdist(np.array(a), np.array(b)).min(axis=1) if b else np.full(len(a), np.inf)


def _hd_f1(p2t: np.ndarray, t2p: np.ndarray, tol: float) -> tuple[float, float]:
    """The larger directed 95th percentile, and F1 of the shares within `tol`."""
    if np.isinf(p2t).any() or np.isinf(t2p).any():
        return float("inf"), 0.0
    parts = [d for d in (p2t, t2p) if len(d)]
    if not parts:
        return 0.0, 1.0
    hd = max(float(np.percentile(d, 95)) for d in parts)
    pr = float(np.mean(p2t <= tol)) if len(p2t) else 1.0
    rc = float(np.mean(t2p <= tol)) if len(t2p) else 1.0
    return hd, 0.0 if pr + rc == 0 else 2 * pr * rc / (pr + rc)


def ref_volume(pred: np.ndarray, target: np.ndarray, tol: float) -> tuple[float, float]:
    """HD95 and boundary F1 of two bool masks (2-D or 3-D): surface = a face neighbour outside
    the mask or the array's edge; both empty (0, 1), one empty (inf, 0)."""
    if not pred.any() or not target.any():
        return (0.0, 1.0) if not pred.any() and not target.any() else (float("inf"), 0.0)

    def surface(m):
        return _points(m, lambda p: any(q is None or not m[q] for q in _neighbours(p, m.shape)))
    ps, ts = surface(pred), surface(target)
    return _hd_f1(_from(ps, ts), _from(ts, ps), tol)


def _bands(target: np.ndarray) -> np.ndarray:
    """Ignored 4-connected regions that border two labelled classes or more."""
    ids, n = ndimage.label(target == IGN)
    out = np.zeros(target.shape, bool)
    for k in range(1, n + 1):
        beside = {int(target[q]) for p in np.argwhere(ids == k)
                  for q in _neighbours(tuple(p), target.shape) if q and target[q] != IGN}
        out[ids == k] = len(beside) > 1
    return out


def ref_boundary(pred: np.ndarray, target: np.ndarray, c: int, tol: float):
    """The README's boundary rule with ignored pixels: edges against labelled pixels of another
    class or the image's edge, each measured to the other mask's edge or the ignored pixels
    bordering the class (a predicted one also to the target's class pixels beside ignored
    ones); soft edge pixels beside a band measured to the other mask's pixels of the class."""
    lab, band, shape = target != IGN, _bands(target), target.shape
    P, T = (pred == c) & lab, target == c
    if not P.any() or not T.any():
        return (0.0, 1.0) if not P.any() and not T.any() else (float("inf"), 0.0)

    def edge(m):
        return _points(m, lambda p: any(q is None or (lab[q] and not m[q])
                                        for q in _neighbours(p, shape)))
    pe, te = edge(P), edge(T)
    rim = _points(~lab, lambda p: any(q and (P[q] or T[q]) for q in _neighbours(p, shape)))
    own_t = _points(T, lambda p: any(q and not lab[q] for q in _neighbours(p, shape)))
    soft_t = _points(T, lambda p: p not in te and any(q and band[q] for q in _neighbours(p, shape)))
    soft_p = _points(P, lambda p: p not in pe and any(q and band[q] and pred[q] != c
                                                      for q in _neighbours(p, shape)))
    p2t = np.concatenate([_from(pe, te + rim + own_t), _from(soft_p, _points(T, bool))])
    t2p = np.concatenate([_from(te, pe + rim), _from(soft_t, _points(P, bool))])
    return _hd_f1(p2t, t2p, tol)


def _blobs(rng, shape: tuple, classes: int) -> np.ndarray:
    """A mask of a random box per foreground class (uint8), over background 0."""
    out = np.zeros(shape, np.uint8)
    for c in range(1, classes):
        y, x, r = rng.integers(0, shape[0]), rng.integers(0, shape[1]), rng.integers(1, 4)
        out[max(0, y - r): y + r, max(0, x - r): x + r] = c
    return out


def _close(got: float, want: float) -> bool:
    return (np.isinf(got) and np.isinf(want)) or abs(got - want) < 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_image_scores_match_brute_force_with_ignored_pixels_and_bands(seed):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        shape, classes, tol = tuple(rng.integers(4, 12, 2)), 3, float(rng.choice([0, 1, 1.5, 2]))
        target, pred = _blobs(rng, shape, classes), _blobs(rng, shape, classes)
        if rng.random() < 0.5:  # a trimap's band around class 1, then scattered ignored pixels
            one = target == 1
            target[ndimage.binary_dilation(one) & ~ndimage.binary_erosion(one)] = IGN
        target[rng.random(shape) < 0.08 * rng.integers(0, 2)] = IGN
        s = image_scores(pred, target, classes, IGN, tol)
        lab = target != IGN
        assert float(s["accuracy"]) == pytest.approx(np.mean(pred[lab] == target[lab]) if
                                                     lab.any() else 1.0, abs=1e-12)
        for c in range(classes):
            for k, v in ref_pixel_scores(pred, target, c).items():
                assert s[k][c] == pytest.approx(v, abs=1e-12)
            hd, f1 = ref_boundary(pred, target, c, tol)
            assert _close(s["hd95"][c], hd) and _close(s["boundary_f1"][c], f1), (c, target, pred)


def test_a_rectangular_roi_scores_as_the_masks_cut_to_it():
    rng = np.random.default_rng(7)
    for _ in range(60):
        h, w = rng.integers(6, 14, 2)
        target, pred = rng.integers(0, 3, (h, w)).astype(np.uint8), _blobs(rng, (h, w), 3)
        y0, x0, y1, x1 = *rng.integers(0, 3, 2), h - rng.integers(0, 3), w - rng.integers(0, 3)
        outside = np.ones((h, w), bool)
        outside[y0:y1, x0:x1] = False
        s = image_scores(pred, np.where(outside, IGN, target).astype(np.uint8), 3, IGN, 1.0,
                         outside)
        t, p = target[y0:y1, x0:x1], pred[y0:y1, x0:x1]
        for c in range(3):
            assert s["dice"][c] == pytest.approx(ref_pixel_scores(p, t, c)["dice"], abs=1e-12)
            hd, f1 = ref_volume(p == c, t == c, 1.0)
            assert _close(s["hd95"][c], hd) and _close(s["boundary_f1"][c], f1)


def test_region_boundary_is_the_union_as_one_class():
    rng = np.random.default_rng(3)
    for _ in range(80):
        shape = tuple(rng.integers(4, 12, 2))
        target, pred = _blobs(rng, shape, 4), _blobs(rng, shape, 4)
        got = region_boundary(pred, target, [1, 3], IGN, 1.5)
        want = ref_volume(np.isin(pred, [1, 3]), np.isin(target, [1, 3]), 1.5)
        assert _close(got[0], want[0]) and _close(got[1], want[1])


def test_volume_scores_match_brute_force_over_all_surface_pairs():
    rng = np.random.default_rng(11)
    for k in range(80):
        shape = (int(rng.integers(1, 5)), *rng.integers(3, 9, 2))
        pred, target = rng.random(shape) < 0.35, rng.random(shape) < 0.35
        if k % 5 == 0:
            target[:] = False
        tol = float(rng.choice([0, 1, 1.5]))
        got, want = volume_scores(pred, target, (1, 1, 1), tol), ref_volume(pred, target, tol)
        assert _close(got[0], want[0]) and _close(got[1], want[1])
