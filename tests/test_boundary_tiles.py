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


@pytest.mark.parametrize("band", [1, 7, 256])
def test_boundaries_made_a_band_at_a_time_equal_the_whole_masks(monkeypatch, band):
    from unet.evaluate import boundary

    monkeypatch.setattr(boundary, "BAND", band)
    rng = np.random.default_rng(band)
    for shape in ((37, 51), (8, 90), (100, 23)):
        target = ndimage.median_filter(rng.integers(0, 3, shape), size=5).astype(np.uint8)
        target[rng.random(shape) < 0.05] = 255  # ignored pixels
        pred = ndimage.median_filter(rng.integers(0, 3, shape), size=5).astype(np.uint8)
        valid = target != 255
        for c in range(3):
            regions = boundary.bands(target, 255)
            got = boundary.class_boundaries(pred, target, c, 255, None, regions)
            (p, rim_p, own_p, soft_p), (t, rim_t, own_t, soft_t) = (
                boundary._band_edges(x, valid, c, None, regions) for x in (pred, target))
            whole = (p, t, rim_p | rim_t, own_t, own_p, soft_p, soft_t)
            if got[2] is None:  # nothing held without ignored pixels beside the class
                assert not whole[2].any()
                got, whole = got[:2], whole[:2]
            for a, b in zip(got, whole, strict=True):
                np.testing.assert_array_equal(a, b)


def test_scoring_holds_no_full_size_class_masks(small_tiles, monkeypatch):
    """At 2048x2048 with 128 px tiles: the class masks, validity mask and erosions were whole
    images (5.3 bytes a pixel traced); now a band of rows, beside the two boundary masks."""
    import tracemalloc

    monkeypatch.setattr(distances, "TILE", 128)
    monkeypatch.setattr(distances, "MARGIN", 32)
    yy, xx = np.mgrid[:2048, :2048]
    target = ((yy - 1000) ** 2 + (xx - 900) ** 2 < 600**2).astype(np.uint8)
    del yy, xx
    pred = np.roll(target, 5, axis=1)
    tracemalloc.start()
    try:
        scores = image_scores(pred, target, 2, ignore_index=255)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3.5 * target.size, f"{peak / target.size:.2f} bytes a pixel"
    assert scores["hd95"][1] == pytest.approx(5.0)
