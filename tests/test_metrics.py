"""Tests for unet.metrics against hand-computed values and brute-force references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.distance import cdist, directed_hausdorff

from unet.evaluate.boundary import boundary_f1, hausdorff_distance, hd95, image_scores
from unet.evaluate.metrics import EMPTY_MASK_CONVENTION, confusion_matrix, scores_from_confusion

# target / pred, 3x3, two classes. Pixel pairs (t, p): (0,0) (0,1) (1,1) / (0,0) (1,0) (1,1) /
# (1,1) x3  ->  cm = [[2, 1], [1, 5]].
TARGET = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 1]], dtype=np.uint8)
PRED = np.array([[0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=np.uint8)


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(PRED, TARGET, 2)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, [[2, 1], [1, 5]])


def test_scores_by_hand():
    s = scores_from_confusion(np.array([[2, 1], [1, 5]]))
    # class 0: tp 2, fp 1, fn 1; class 1: tp 5, fp 1, fn 1.
    np.testing.assert_allclose(s["dice"], [4 / 6, 10 / 12])
    np.testing.assert_allclose(s["iou"], [2 / 4, 5 / 7])
    np.testing.assert_allclose(s["precision"], [2 / 3, 5 / 6])
    np.testing.assert_allclose(s["recall"], [2 / 3, 5 / 6])
    assert float(s["accuracy"]) == pytest.approx(7 / 9)
    for key in ("dice", "iou", "precision", "recall"):
        assert s[key].dtype == np.float64 and s[key].shape == (2,)


def test_ignore_index_drops_pixels():
    target = TARGET.copy()
    target[1, 1] = 255  # the (t=1, p=0) pixel is no longer counted
    cm = confusion_matrix(PRED, target, 2, ignore_index=255)
    np.testing.assert_array_equal(cm, [[2, 1], [0, 5]])
    s = scores_from_confusion(cm)
    # class 0: tp 2, fp 0, fn 1; class 1: tp 5, fp 1, fn 0.
    np.testing.assert_allclose(s["dice"], [4 / 5, 10 / 11])
    np.testing.assert_allclose(s["iou"], [2 / 3, 5 / 6])
    np.testing.assert_allclose(s["precision"], [1.0, 5 / 6])
    np.testing.assert_allclose(s["recall"], [2 / 3, 1.0])
    assert float(s["accuracy"]) == pytest.approx(7 / 8)


def test_empty_class_conventions():
    # Pairs (t, p): (0,0) (0,2) / (1,0) (1,0). Class 1: in target, never predicted.
    # Class 2: predicted, not in target. Class 3: absent from both.
    target = np.array([[0, 0], [1, 1]])
    pred = np.array([[0, 2], [0, 0]])
    cm = confusion_matrix(pred, target, 4)
    np.testing.assert_array_equal(cm, [[1, 0, 1, 0], [2, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    s = scores_from_confusion(cm)
    # class 0: tp 1, fp 2, fn 1.
    np.testing.assert_allclose(s["dice"], [2 / 5, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(s["iou"], [1 / 4, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(s["precision"], [1 / 3, 1.0, 0.0, 1.0])
    np.testing.assert_allclose(s["recall"], [1 / 2, 0.0, 1.0, 1.0])
    assert float(s["accuracy"]) == pytest.approx(1 / 4)
    assert "denominator is zero" in EMPTY_MASK_CONVENTION


def test_all_pixels_ignored_scores_one():
    target = np.full((2, 2), 255)
    cm = confusion_matrix(np.zeros((2, 2), int), target, 2, ignore_index=255)
    assert cm.sum() == 0
    s = scores_from_confusion(cm)
    np.testing.assert_array_equal(s["dice"], [1.0, 1.0])
    assert float(s["accuracy"]) == 1.0


def test_confusion_matrices_add_up_to_global_scores():
    rng = np.random.default_rng(0)
    a_pred, a_tgt, b_pred, b_tgt = (rng.integers(0, 3, (8, 5)) for _ in range(4))
    summed = confusion_matrix(a_pred, a_tgt, 3) + confusion_matrix(b_pred, b_tgt, 3)
    joined = confusion_matrix(np.vstack([a_pred, b_pred]), np.vstack([a_tgt, b_tgt]), 3)
    np.testing.assert_array_equal(summed, joined)
    # Cross-check the bincount against a plain loop.
    loop = np.zeros((3, 3), int)
    for t, p in zip(a_tgt.ravel(), a_pred.ravel(), strict=True):
        loop[t, p] += 1
    np.testing.assert_array_equal(confusion_matrix(a_pred, a_tgt, 3), loop)


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 3), int), 2)
    with pytest.raises(ValueError, match="outside 0..1"):
        confusion_matrix(np.zeros((2, 2), int), np.full((2, 2), 255), 2)
    with pytest.raises(ValueError, match="pred"):
        confusion_matrix(np.full((2, 2), 5), np.zeros((2, 2), int), 2)


# --- boundaries -------------------------------------------------------------------------------


def _brute_boundary(mask: np.ndarray) -> np.ndarray:
    """(N, 2) coordinates of mask pixels with a 4-neighbour outside the mask or the image."""
    h, w = mask.shape
    pts = []
    for y in range(h):
        for x in range(w):
            if not mask[y, x]:
                continue
            for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                yy, xx = y + dy, x + dx
                if not (0 <= yy < h and 0 <= xx < w) or not mask[yy, xx]:
                    pts.append((y, x))
                    break
    return np.array(pts, dtype=float)


def _brute_hausdorff(a: np.ndarray, b: np.ndarray, q: float) -> float:
    pa, pb = _brute_boundary(a), _brute_boundary(b)
    d = cdist(pa, pb)  # (Na, Nb) all pairwise distances
    return max(np.percentile(d.min(axis=1), q), np.percentile(d.min(axis=0), q))


def _square(shape, y0, x0, side):
    m = np.zeros(shape, bool)
    m[y0:y0 + side, x0:x0 + side] = True
    return m


def _disk(shape, cy, cx, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2


@pytest.mark.parametrize("k", [1, 3, 7])
def test_hd_parallel_lines_is_offset(k):
    # A one-pixel line is all boundary; every point is exactly k from the other line.
    a = np.zeros((20, 30), bool)
    b = np.zeros((20, 30), bool)
    a[5, 3:25] = True
    b[5 + k, 3:25] = True
    assert hd95(a, b) == pytest.approx(k)
    assert hausdorff_distance(a, b) == pytest.approx(k)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_hd_squares_offset_by_k(k):
    a = _square((48, 48), 10, 10, 20)
    b = _square((48, 48), 10, 10 + k, 20)
    # Max Hausdorff of two squares shifted sideways by k is k (left edges are k apart).
    assert hausdorff_distance(a, b) == pytest.approx(k)
    pa, pb = _brute_boundary(a), _brute_boundary(b)
    scipy_hd = max(directed_hausdorff(pa, pb)[0], directed_hausdorff(pb, pa)[0])
    assert hausdorff_distance(a, b, percentile=100) == pytest.approx(scipy_hd)
    assert hd95(a, b) == pytest.approx(_brute_hausdorff(a, b, 95))
    assert 0 < hd95(a, b) <= k


@pytest.mark.parametrize("shift", [(0, 4), (3, 3), (6, -2)])
def test_hd_disk_vs_shifted_disk(shift):
    a = _disk((64, 64), 30, 30, 12)
    b = _disk((64, 64), 30 + shift[0], 30 + shift[1], 12)
    pa, pb = _brute_boundary(a), _brute_boundary(b)
    scipy_hd = max(directed_hausdorff(pa, pb)[0], directed_hausdorff(pb, pa)[0])
    assert hausdorff_distance(a, b) == pytest.approx(scipy_hd)
    assert hd95(a, b) == pytest.approx(_brute_hausdorff(a, b, 95))
    assert hd95(a, b) <= scipy_hd


def test_hd95_ignores_a_lone_outlier():
    # Square boundary: 4*20-4 = 76 pixels at distance 0, plus one stray pixel 15 px away.
    # The 95th percentile of 77 sorted values interpolates at index 72.2: still 0.
    target = _square((48, 48), 5, 5, 20)
    pred = target.copy()
    pred[24 + 15, 10] = True  # 15 rows below the square's bottom row (24)
    assert hd95(pred, target) == 0.0
    assert hausdorff_distance(pred, target) == pytest.approx(15.0)


def test_hd_touching_image_edge_counts_as_boundary():
    a = np.zeros((10, 10), bool)
    a[:, :5] = True  # image edge pixels are boundary pixels too
    b = np.zeros((10, 10), bool)
    b[:, :3] = True
    assert hausdorff_distance(a, b) == pytest.approx(_brute_hausdorff(a, b, 100))


def test_hd_empty_conventions():
    empty = np.zeros((8, 8), bool)
    full = _square((8, 8), 2, 2, 3)
    assert hd95(empty, empty) == 0.0
    assert math.isinf(hd95(full, empty))
    assert math.isinf(hd95(empty, full))
    assert hd95(full, full) == 0.0


def test_hd_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="equal in shape"):
        hd95(np.zeros((4, 4), bool), np.zeros((4, 5), bool))


def test_boundary_f1():
    sq = _square((48, 48), 5, 5, 20)
    assert boundary_f1(sq, sq) == 1.0
    shifted = _square((48, 48), 5, 6, 20)
    assert boundary_f1(shifted, sq, tolerance=2) == 1.0
    a = np.zeros((20, 30), bool)
    b = np.zeros((20, 30), bool)
    a[5, 3:25] = True
    b[8, 3:25] = True  # every boundary pixel exactly 3 px from the other line
    assert boundary_f1(a, b, tolerance=3) == 1.0
    assert boundary_f1(a, b, tolerance=2) == 0.0


def test_boundary_f1_partial_by_hand():
    # Predicted boundary: 76 square pixels (matched) + 1 stray pixel (unmatched).
    # precision 76/77, recall 1 -> F1 = 2 * (76/77) / (76/77 + 1) = 152/153.
    target = _square((48, 48), 5, 5, 20)
    pred = target.copy()
    pred[40, 10] = True
    assert boundary_f1(pred, target) == pytest.approx(152 / 153)
    assert boundary_f1(target, pred) == pytest.approx(152 / 153)


def test_boundary_f1_empty_conventions():
    empty = np.zeros((8, 8), bool)
    full = _square((8, 8), 2, 2, 3)
    assert boundary_f1(empty, empty) == 1.0
    assert boundary_f1(full, empty) == 0.0
    assert boundary_f1(empty, full) == 0.0


def test_image_scores_with_ignore_and_absent_class():
    target = np.zeros((16, 16), np.uint8)
    target[:, 8:] = 1
    pred = target.copy()
    target[:, 6:10] = 255  # ignore band across the class edge
    pred[:, 6:10] = np.random.default_rng(1).integers(0, 2, (16, 4))  # noise there is not counted
    s = image_scores(pred, target, num_classes=3, ignore_index=255)
    np.testing.assert_array_equal(s["confusion"], [[96, 0, 0], [0, 96, 0], [0, 0, 0]])
    np.testing.assert_array_equal(s["dice"], [1.0, 1.0, 1.0])  # class 2 absent from both
    np.testing.assert_array_equal(s["hd95"], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(s["boundary_f1"], [1.0, 1.0, 1.0])
    assert float(s["accuracy"]) == 1.0


def test_image_scores_missed_class():
    target = np.zeros((16, 16), np.uint8)
    target[4:8, 4:8] = 1
    pred = np.zeros_like(target)  # class 1 never predicted
    s = image_scores(pred, target, num_classes=2)
    assert s["dice"][1] == 0.0 and s["precision"][1] == 1.0 and s["recall"][1] == 0.0
    assert math.isinf(s["hd95"][1]) and s["boundary_f1"][1] == 0.0
    # Background: the prediction's boundary is the image edge; the target's also rings the square.
    assert s["hd95"][0] == pytest.approx(_brute_hausdorff(pred == 0, target == 0, 95))


def test_hd95_is_the_larger_directed_percentile_not_pooled():
    # MONAI's definition, not MedPy's: a 3x3 blob 13 px below a 20x20 square. pred -> target: 8
    # of 84 boundary distances are large, enough for the 95th percentile; target -> pred: all 0.
    target = _square((48, 48), 5, 5, 20)
    pred = target | _square((48, 48), 37, 10, 3)
    pa, pb = _brute_boundary(pred), _brute_boundary(target)
    d = cdist(pa, pb)  # (n_pred, n_target)
    directed = (np.percentile(d.min(axis=1), 95), np.percentile(d.min(axis=0), 95))
    pooled = np.percentile(np.hstack([d.min(axis=1), d.min(axis=0)]), 95)  # MedPy's hd95
    assert hd95(pred, target) == pytest.approx(max(directed))
    assert hd95(pred, target) > pooled + 5


def test_image_scores_boundary_figures_equal_the_single_metrics():
    # image_scores computes each distance transform once for HD95 and boundary F1 together.
    from unet.evaluate.boundary import boundary_f1, hd95, image_scores

    rng = np.random.default_rng(5)
    target = ndimage.binary_opening(rng.random((60, 80)) > 0.6, iterations=2).astype(np.uint8)
    pred = ndimage.binary_dilation(target, iterations=1).astype(np.uint8)
    pred[:, :10] = 0
    pred[50:, 60:] = 2  # a class in the prediction only
    scores = image_scores(pred, target, 3, tolerance=2)
    for c in range(3):
        assert scores["hd95"][c] == hd95(pred == c, target == c)
        assert scores["boundary_f1"][c] == boundary_f1(pred == c, target == c, 2)
    assert scores["hd95"][2] == float("inf") and scores["boundary_f1"][2] == 0.0
