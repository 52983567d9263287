"""Boundary distances a tile at a time equal the whole-image distance transform's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from unet.evaluate import distances
from unet.evaluate.boundary import image_scores


def _whole(boundary: np.ndarray, at: np.ndarray) -> np.ndarray:
    return ndimage.distance_transform_edt(~boundary)[at]


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles of 16 px reaching 4 px into their neighbours: many tiles, many far pixels."""
    monkeypatch.setattr(distances, "TILE", 16)
    monkeypatch.setattr(distances, "MARGIN", 4)


@pytest.mark.parametrize("density", [0.3, 0.02, 0.001])
def test_tiled_distances_equal_the_whole_transform(small_tiles, density):
    rng = np.random.default_rng(int(density * 1000))
    for shape in ((70, 53), (16, 90), (25, 25)):
        boundary = rng.random(shape) < density
        boundary[rng.integers(shape[0]), rng.integers(shape[1])] = True  # at least one
        at = rng.random(shape) < 0.3
        got = np.sort(distances.distances_at(boundary, at))
        np.testing.assert_array_equal(got, np.sort(_whole(boundary, at)))


def test_one_far_boundary_pixel_is_found_from_every_tile(small_tiles):
    """Every window but one holds no boundary: all those distances come from the k-d tree."""
    boundary = np.zeros((64, 80), bool)
    boundary[60, 3] = True
    at = np.ones_like(boundary)
    got = np.sort(distances.distances_at(boundary, at))
    np.testing.assert_array_equal(got, np.sort(_whole(boundary, at)))


def test_image_scores_do_not_change_with_the_tile(monkeypatch):
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:90, :120]
    target = ((yy - 40) ** 2 + (xx - 60) ** 2 < 30**2).astype(np.uint8)
    pred = target.copy()
    pred[rng.random(pred.shape) < 0.01] ^= 1  # specks: distances near and far
    pred[:5, :5] = 1
    whole = image_scores(pred, target, 2)
    monkeypatch.setattr(distances, "TILE", 16)
    monkeypatch.setattr(distances, "MARGIN", 4)
    tiled = image_scores(pred, target, 2)
    np.testing.assert_array_equal(tiled["hd95"], whole["hd95"])
    np.testing.assert_array_equal(tiled["boundary_f1"], whole["boundary_f1"])


def test_scoring_memory_follows_the_tile_not_the_image(small_tiles, monkeypatch):
    """A 1024x1024 pair with 128 px tiles: numpy's peak stays near the masks' own bytes (the
    whole-image transforms and int64 label copies traced 38 MB; 6.5 MB now)."""
    import tracemalloc

    monkeypatch.setattr(distances, "TILE", 128)
    monkeypatch.setattr(distances, "MARGIN", 32)
    yy, xx = np.mgrid[:1024, :1024]
    target = ((yy - 500) ** 2 + (xx - 450) ** 2 < 300**2).astype(np.uint8)
    pred = np.roll(target, 5, axis=1)
    tracemalloc.start()
    try:
        scores = image_scores(pred, target, 2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12 << 20, f"{peak / 2**20:.1f} MB traced"
    assert scores["hd95"][1] == pytest.approx(5.0)
