"""Far pixels of a noisy prediction: exact scores without measuring each far pixel."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from unet.evaluate import distances
from unet.evaluate.boundary import _boundary, image_scores


def _reference(pred: np.ndarray, target: np.ndarray, tolerance: float) -> tuple[float, float]:
    """HD95 and boundary F1 from whole-image distance transforms (the README's definition)."""
    pb, tb = _boundary(pred), _boundary(target)
    p2t = ndimage.distance_transform_edt(~tb)[pb]
    t2p = ndimage.distance_transform_edt(~pb)[tb]
    hd = max(np.percentile(p2t, 95), np.percentile(t2p, 95))
    precision, recall = np.mean(p2t <= tolerance), np.mean(t2p <= tolerance)
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return float(hd), float(f1)


def _noisy_pair(side: int, seed: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """A clean target of two discs and a salt-and-pepper prediction over the whole image."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side]
    target = np.zeros((side, side), np.uint8)
    for cy, cx in rng.uniform(0.15, 0.85, (2, 2)) * side:
        target[(yy - cy) ** 2 + (xx - cx) ** 2 < (side / 10) ** 2] = 1
    pred = target.copy()
    pred[rng.random((side, side)) < noise] ^= 1
    return pred, target


class _Counting:
    """A cKDTree that counts the points it is asked about."""

    queried = 0

    def __init__(self, data):
        self.tree = distances.cKDTree.__wrapped__(data)

    def query(self, points, *args, **kwargs):
        _Counting.queried += len(points)
        return self.tree.query(points, *args, **kwargs)


@pytest.fixture
def counted(monkeypatch):
    """Small tiles (many far pixels) and a k-d tree that counts its queries."""
    monkeypatch.setattr(distances, "TILE", 32)
    monkeypatch.setattr(distances, "MARGIN", 8)
    monkeypatch.setattr(distances, "BLOCK", 2, raising=False)
    monkeypatch.setattr(_Counting, "__wrapped__", distances.cKDTree, raising=False)
    monkeypatch.setattr(distances, "cKDTree", _Counting)
    monkeypatch.setattr(_Counting, "queried", 0)
    return _Counting


def test_noisy_prediction_measures_few_far_pixels_exactly(counted):
    """256x256 with 32 px tiles: about 3,200 predicted boundary pixels lie farther than the
    margin from the target's boundary; each went to the k-d tree (all of them, before)."""
    pred, target = _noisy_pair(256, 0, 0.05)
    far = ndimage.distance_transform_edt(~_boundary(target == 1))[_boundary(pred == 1)] > 8
    scores = image_scores(pred, target, 2)
    assert scores["hd95"][1] == _reference(pred == 1, target == 1, 2)[0]
    assert scores["boundary_f1"][1] == _reference(pred == 1, target == 1, 2)[1]
    assert far.sum() > 3000
    assert counted.queried < far.sum() / 5, f"{counted.queried} of {far.sum()} far pixels"


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("noise", [0.0, 0.01, 0.2])
@pytest.mark.parametrize("block", [1, 2, 5])
def test_scores_equal_the_whole_image_transform(counted, monkeypatch, seed, noise, block):
    monkeypatch.setattr(distances, "BLOCK", block, raising=False)
    pred, target = _noisy_pair(96 + 7 * seed, seed, noise)
    if seed % 2:
        target = np.roll(target, 11 * seed, axis=1)  # boundaries far apart
    scores = image_scores(pred, target, 2)
    for c in (0, 1):
        hd, f1 = _reference(pred == c, target == c, 2)
        assert scores["hd95"][c] == hd
        assert scores["boundary_f1"][c] == f1


@pytest.mark.parametrize("tolerance", [2, 8.5, 13, 30.2])
def test_random_masks_and_tolerances_beyond_the_margin(counted, tolerance):
    rng = np.random.default_rng(int(tolerance * 10))
    for shape in ((70, 53), (16, 90), (120, 77)):
        pred = (rng.random(shape) < 0.02).astype(np.uint8)
        target = ndimage.binary_dilation(rng.random(shape) < 0.002, iterations=3)
        target = target.astype(np.uint8)
        target[rng.integers(shape[0]), rng.integers(shape[1])] = 1
        pred[0, 0] = 1
        scores = image_scores(pred, target, 2, tolerance=tolerance)
        hd, f1 = _reference(pred == 1, target == 1, tolerance)
        assert scores["hd95"][1] == hd
        assert scores["boundary_f1"][1] == f1


def test_percentile_matches_numpy_on_every_count():
    """Order statistics interpolated as np.percentile does, bit for bit."""
    rng = np.random.default_rng(5)
    for n in list(range(1, 60)) + [997, 4096]:
        boundary = np.zeros((1, n + 1), bool)
        boundary[0, 0] = True
        at = np.zeros_like(boundary)
        at[0, 1 + rng.choice(n, size=n, replace=False)[: max(1, n // 2)]] = True
        d = distances.Directed(boundary, at)
        values = distances.distances_at(boundary, at)
        for q in (0, 5, 50, 95, 99.9, 100):
            assert d.percentile(q) == np.percentile(values, q)
