"""train.border_weight's map is made with each sample in the DataLoader workers, after the
augmentation, and sees objects just beyond a patch's edge."""

from __future__ import annotations

import numpy as np
import torch

from tests.test_train import (
    _train,
    cache,  # noqa: F401  (the module's fixture)
)
from unet.train.augment import AugmentSettings, build
from unet.train.border import BorderSettings, border_map, margin
from unet.train.dataset import CachedRows
from unet.train.patches import PatchRows

ON = BorderSettings(w0=10, sigma=5, objects=1)
PATCH = (64, 64)


def _patches(mask: np.ndarray, corner: tuple[int, int], settings=None) -> PatchRows:
    """PatchRows over one in-memory image whose every patch lies at `corner`."""
    image = np.random.default_rng(0).integers(0, 255, (*mask.shape, 3), np.uint8)
    transform = build(settings, PATCH) if settings else None
    rows = PatchRows("unused", [("train", 0)], PATCH, 0.0, 1, transform)
    rows._arrays["train"] = (image[None], mask[None])  # no cache files: the arrays themselves
    rows.corner = lambda row, m: (*corner, None)
    rows.use_border(ON, lambda h, w: build(settings, (h, w)) if settings else None)
    return rows


def _interior() -> np.ndarray:
    """Two 6x6 squares 3 px apart, 24 px or more from every edge of the patch at (20, 20)."""
    mask = np.zeros((120, 120), np.uint8)
    mask[46:52, 44:50] = 1
    mask[46:52, 53:59] = 1
    return mask


def test_worker_map_is_border_map_of_the_patch_when_no_object_is_near_its_edge():
    image, mask, extra = _patches(_interior(), (20, 20))[0]
    assert extra.dtype == torch.float32 and extra.shape == PATCH
    assert np.array_equal(extra.numpy(), border_map(mask.numpy(), 1, 10, 5))
    assert extra[28, 30] > 7  # in the gap
    # augmented: the map follows the flipped patch (drawn on the patch plus its margin)
    flips = _patches(_interior(), (20, 20), AugmentSettings(flip=True))
    assert flips.wide.transforms[0] and flips.margin == margin(ON) == 22
    for _ in range(4):
        image, mask, extra = flips[0]  # four draws of the flips
        assert mask.shape == PATCH and image.shape == (3, *PATCH)
        assert np.array_equal(extra.numpy(), border_map(mask.numpy(), 1, 10, 5))


def test_an_object_just_outside_the_patch_weighs_the_gap_at_its_edge():
    mask = np.zeros((120, 120), np.uint8)
    mask[40:50, 10:18] = 1  # outside the patch at (20, 20): columns 18 and up are its gap
    mask[40:50, 22:30] = 1  # inside: the gap runs 18-21, patch columns 0 and 1 in view
    image, patch_mask, extra = _patches(mask, (20, 20))[0]
    np.testing.assert_array_equal(patch_mask.numpy(), mask[20:84, 20:84])  # the same patch
    # patch column 0 (image column 20): 2 px to the inside square, 3 to the outside one
    np.testing.assert_allclose(extra[20:30, 0], 10 * np.exp(-25 / 50), atol=1e-5)
    assert border_map(patch_mask.numpy(), 1, 10, 5)[20:30, 0].max() < 1e-3  # unseen before
    # outside the image the margin is ignored, no object: an image edge is no gap
    _, _, corner = _patches(mask[:, 18:], (20, 0))[0]
    assert corner[20:30, 0].max() < 1e-3


def test_whole_images_get_their_map_after_the_augmentation():
    mask = _interior()[30:70, 30:70]
    rows = CachedRows("unused", [("train", 0)], build(AugmentSettings(flip=True), (40, 40)))
    rows._arrays["train"] = (np.zeros((1, 40, 40, 3), np.uint8), mask[None])
    rows.use_border(ON)
    _, got, extra = rows[0]
    assert np.array_equal(extra.numpy(), border_map(got.numpy(), 1, 10, 5))


def test_off_leaves_samples_as_they_were():
    plain = _patches(_interior(), (20, 20))
    plain.use_border(BorderSettings(w0=0, objects=1))
    assert len(plain[0]) == 2
    untouched = PatchRows("unused", [("train", 0)], PATCH, 0.0, 1, None)
    untouched._arrays, untouched.corner = plain._arrays, plain.corner
    assert all(torch.equal(a, b) for a, b in zip(plain[0], untouched[0], strict=True))


def test_training_takes_the_map_from_the_batch_not_its_own_process(cache, tmp_path, monkeypatch):  # noqa: F811
    import unet.train.loop as loop

    def refuse(*args):
        raise AssertionError("the map was computed in the training process")

    monkeypatch.setattr(loop, "batch_weights", refuse)
    best = _train(cache, tmp_path, epochs=1, border_weight={"w0": 10, "sigma": 5, "objects": 1},
                  patch={"size": [16, 16]})
    assert best["state_dict"]
