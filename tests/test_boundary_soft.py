"""A class's pixels beside ignored pixels are soft boundary: its edge may lie anywhere in the
band, so they are measured to the other mask's pixels of the class (is the object there?), and
count nowhere when they lie within them. An object ringed by a trimap band and missed was
scored as a perfect boundary: its edge lay only against ignored pixels."""

import numpy as np
import pytest
from scipy import ndimage

from tests.test_boundary_ignore import _band_void, _reference
from unet.evaluate import distances
from unet.evaluate.boundary import bands, image_scores

IGNORE = 255


def _two_pets() -> tuple[np.ndarray, np.ndarray]:
    """Two discs (class 1) each ringed by a 2 px ignored band, and the pets' masks alone."""
    yy, xx = np.mgrid[:64, :128]
    pets = np.zeros((64, 128), np.uint8)
    for cx in (32, 96):
        pets[(yy - 32) ** 2 + (xx - cx) ** 2 <= 18**2] = 1
    band = ndimage.binary_dilation(pets, iterations=1) & ~ndimage.binary_erosion(pets)
    target = pets.copy()
    target[band] = IGNORE
    return target, pets


def test_a_missed_pet_in_its_band_is_scored_as_missed():
    """Finding one pet of two scored HD95 0 and boundary F1 1.0 (Dice 0.67), better than
    finding the second 6 px off (HD95 5): the missed pet's edge lay against ignored pixels only.
    Now the missed pet's edge is unmatched, as for plain masks: HD95 63, boundary F1 2/3 (half
    the pets' edges found, no false edge)."""
    target, pets = _two_pets()
    one = pets.copy()
    one[:, 64:] = 0
    shifted = one.copy()
    shifted[:, 64:] = np.roll(pets, 6, axis=1)[:, 64:]
    missed, off = (image_scores(p, target, 2, IGNORE) for p in (one, shifted))
    plain = image_scores(one, pets, 2)
    assert missed["boundary_f1"][1] == pytest.approx(2 / 3)
    assert missed["hd95"][1] == pytest.approx(plain["hd95"][1]) and missed["hd95"][1] > 60
    assert 0 < off["hd95"][1] <= 5


def test_a_pet_found_within_its_band_still_scores_perfectly():
    target, pets = _two_pets()
    for pred in (pets, ndimage.binary_dilation(pets).astype(np.uint8),
                 ndimage.binary_erosion(pets).astype(np.uint8)):
        scores = image_scores(pred, target, 2, IGNORE)
        np.testing.assert_array_equal(scores["hd95"], [0.0, 0.0])
        np.testing.assert_array_equal(scores["boundary_f1"], [1.0, 1.0])


@pytest.mark.parametrize("seed", range(4))
def test_soft_edges_far_beyond_the_tiles_margin_follow_the_rule(monkeypatch, seed):
    """Small tiles: soft edges' distances beyond the margin join the hard ones' exactly."""
    monkeypatch.setattr(distances, "TILE", 16)
    monkeypatch.setattr(distances, "MARGIN", 4)
    monkeypatch.setattr(distances, "BLOCK", 2)
    rng = np.random.default_rng(seed)
    target, pets = _two_pets()
    target[rng.random(target.shape) < 0.01] = IGNORE
    pred = np.roll(pets, int(rng.integers(-20, 20)), axis=int(rng.integers(0, 2)))
    pred[:, 64 * int(rng.integers(0, 2)) :][:, :64] = 0
    for tolerance in (2, 6.5):
        scores = image_scores(pred, target, 2, IGNORE, tolerance)
        for c in range(2):
            hd, f1 = _reference(pred, target, c, tolerance)
            assert scores["hd95"][c] == pytest.approx(hd), c
            assert scores["boundary_f1"][c] == pytest.approx(f1), c


def test_scoring_a_banded_pet_holds_a_few_masks_a_pixel(monkeypatch):
    """1024x1024 with 128 px tiles and a trimap band: the band's regions and the soft edges add
    a few bool masks (13.3 bytes a pixel traced, 8.2 before them), no int region ids kept."""
    import tracemalloc

    monkeypatch.setattr(distances, "TILE", 128)
    monkeypatch.setattr(distances, "MARGIN", 32)
    yy, xx = np.mgrid[:1024, :1024]
    pet = (yy - 500) ** 2 + (xx - 450) ** 2 < 300**2
    band = ndimage.binary_dilation(pet, iterations=2) & ~ndimage.binary_erosion(pet, iterations=2)
    target = pet.astype(np.uint8)
    target[band] = IGNORE
    pred = np.roll(pet, 5, axis=1).astype(np.uint8)
    tracemalloc.start()
    try:
        scores = image_scores(pred, target, 2, IGNORE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 15 * target.size, f"{peak / target.size:.2f} bytes a pixel"
    assert scores["hd95"][1] == pytest.approx(3.0)


def test_finding_the_bands_holds_no_pixel_pairs():
    """Scattered ignored pixels (30%, a noisy void label): finding which ignored regions border
    two classes kept an int64 key per ignored-labelled pixel pair, four ways, then sorted them:
    28 bytes a pixel traced, more than the tiled rest of the scores needs at 4096x4096 (8), and
    growing with the image. Now it keeps each region's least and greatest class (11.5)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    target = np.zeros((512, 512), np.uint8)
    target[:, 200:] = 1
    target[:, 400:] = 2
    target[rng.random(target.shape) < 0.3] = IGNORE
    tracemalloc.start()
    try:
        regions = bands(target, IGNORE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 14 * target.size, f"{peak / target.size:.2f} bytes a pixel"
    assert regions[target == IGNORE].any() and not regions[target != IGNORE].any()
    small = target[:40, 180:220].copy()  # both classes, and regions beside one of them only
    np.testing.assert_array_equal(bands(small, IGNORE), _band_void(small))
