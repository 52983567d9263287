"""Tests for a volume's boundary metrics (unet/evaluate/volume.py): a case's HD95 and
boundary F1 over its 3-D surface, with the voxel spacing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist


def _cubes(shift: int, side: int = 2, size: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Two cubes of `side` voxels, the second `shift` slices further along axis 0."""
    a, b = np.zeros((size, size, size), bool), np.zeros((size, size, size), bool)
    a[1:1 + side, 1:1 + side, 1:1 + side] = True
    b[1 + shift:1 + shift + side, 1:1 + side, 1:1 + side] = True
    return a, b


def test_known_cube_pair_gives_known_hd95():
    # every voxel of a 2-voxel cube is on its surface; shifted 5 slices, half of each cube's
    # voxels lie 4 slices from the other, half 5: the 95th percentile is 5 slices
    from unet.evaluate.volume import volume_scores
    target, pred = _cubes(5)
    assert volume_scores(pred, target, (1, 1, 1), 2) == (5.0, 0.0)
    hd, bf1 = volume_scores(pred, target, (2.5, 1, 1), 2)  # slices 2.5 px apart
    assert hd == pytest.approx(12.5) and bf1 == 0.0
    hd, bf1 = volume_scores(target, target, (2.5, 1, 1), 2)
    assert (hd, bf1) == (0.0, 1.0)


def _surface_points(mask: np.ndarray) -> np.ndarray:
    """Voxels of the mask with a face neighbour outside it (or on the volume's edge)."""
    padded = np.pad(mask, 1)
    inner = np.ones_like(mask)
    for axis in range(3):
        for step in (-1, 1):
            inner &= np.roll(padded, step, axis)[1:-1, 1:-1, 1:-1]
    return np.argwhere(mask & ~inner)


def test_matches_brute_force_with_anisotropic_spacing():
    from unet.evaluate.volume import volume_scores
    rng = np.random.default_rng(3)
    spacing = (3.0, 1.0, 0.5)
    for _ in range(4):
        target, pred = rng.random((6, 14, 15)) < 0.3, rng.random((6, 14, 15)) < 0.3
        ps, ts = _surface_points(pred) * spacing, _surface_points(target) * spacing
        d = cdist(ps, ts)
        p2t, t2p = d.min(axis=1), d.min(axis=0)
        want = max(np.percentile(p2t, 95), np.percentile(t2p, 95))
        precision, recall = np.mean(p2t <= 2), np.mean(t2p <= 2)
        hd, bf1 = volume_scores(pred, target, spacing, 2)
        assert hd == pytest.approx(want)
        assert bf1 == pytest.approx(2 * precision * recall / (precision + recall))


def test_a_one_slice_case_is_a_slab_all_surface():
    # the volume's first and last slices are faces, as the image edge is in 2-D: a solid
    # square in one slice is all surface in 3-D, so its HD95 is no longer the 2-D outline's
    from unet.evaluate.boundary import hd95
    from unet.evaluate.volume import volume_scores
    target, pred = np.zeros((20, 20), bool), np.zeros((20, 20), bool)
    target[2:18, 2:18], pred[6:14, 6:14] = True, True  # one inside the other
    d = cdist(np.argwhere(pred), np.argwhere(target))  # every pixel, not only the outlines
    want = max(np.percentile(d.min(axis=1), 95), np.percentile(d.min(axis=0), 95))
    hd, _ = volume_scores(pred[None], target[None], (1, 1, 1), 2)
    assert hd == pytest.approx(want) and hd != pytest.approx(hd95(pred, target))


def test_empty_masks_follow_the_class_path():
    from unet.evaluate.volume import volume_diagonal, volume_scores
    empty, cube = np.zeros((4, 5, 5), bool), _cubes(0, size=5)[0][:4]
    assert volume_scores(empty, empty, (1, 1, 1), 2) == (0.0, 1.0)
    assert volume_scores(empty, cube, (1, 1, 1), 2) == (float("inf"), 0.0)
    assert volume_scores(cube, empty, (1, 1, 1), 2) == (float("inf"), 0.0)
    assert volume_diagonal((4, 3, 12), (1, 1, 1)) == pytest.approx(13.0)
    assert volume_diagonal((2, 3, 4), (6, 1, 1)) == pytest.approx(13.0)
