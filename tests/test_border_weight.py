"""The U-Net paper's border weight map and its place in the cross-entropy."""

import numpy as np
import torch

from unet.common.labels import IGNORE_INDEX
from unet.train.border import BorderSettings, batch_weights, border_map
from unet.train.losses import DiceCELoss


def _two_squares(gap: int = 3) -> np.ndarray:
    """Class 1 squares (10x10) `gap` px apart on class 0, in a 40x60 mask."""
    mask = np.zeros((40, 60), np.uint8)
    mask[15:25, 10:20] = 1
    mask[15:25, 20 + gap : 30 + gap] = 1
    return mask


def test_map_is_high_in_the_gap_and_nothing_far_away():
    w = border_map(_two_squares(3), objects=1, w0=10, sigma=5)
    gap = w[15:25, 20:23]  # columns 20-22 between 19 and 23: d1 + d2 = 4, 10 exp(-16/50)
    assert np.allclose(gap, 10 * np.exp(-16 / 50), atol=1e-4)
    assert w[0, 0] < 1e-3 and w[39, 59] < 1e-3  # far from both
    assert w[20, 5] < w[20, 21]  # a single object's outside edge weighs less than the gap


def test_only_pixels_between_objects_weigh_more():
    # a 1-px gap: the gap pixel is 1 px from each square; the square's pixel beside it is
    # inside an object and keeps its class weight alone, as deep inside it (paper, Fig. 3d)
    mask = _two_squares(1)
    w = border_map(mask, objects=1, w0=10, sigma=5)
    assert np.allclose(w[15:25, 20], 10 * np.exp(-((1 + 1) ** 2) / 50), atol=1e-5)  # 9.2312
    assert (w[mask == 1] == 0).all()  # the columns beside the gap (19, 21) and 6 px deep (14)
    masks = torch.from_numpy(mask[None]).long()
    extra = batch_weights(masks, BorderSettings(w0=10, sigma=5, objects=1))
    assert extra[0, 20, 19] == 0 and extra[0, 20, 20] > 9.2


def test_map_matches_the_full_distance_transforms():
    from scipy import ndimage

    rng = np.random.default_rng(0)
    mask = (rng.random((48, 48)) < 0.08).astype(np.uint8)
    mask = ndimage.binary_dilation(mask, iterations=1).astype(np.uint8)
    labels, n = ndimage.label(mask)
    d = np.stack([ndimage.distance_transform_edt(labels != k) for k in range(1, n + 1)])
    d.sort(0)
    want = 10 * np.exp(-((d[0] + d[1]) ** 2) / 50) * (mask != 1)  # objects' pixels: none
    got = border_map(mask, objects=1, w0=10, sigma=5)
    assert np.abs(got - want).max() < 2e-3  # beyond the window the term is below that


def test_ignored_pixels_weigh_nothing_and_are_no_objects():
    mask = _two_squares(3)
    mask[15:25, 20:23] = IGNORE_INDEX
    w = border_map(mask, objects=1, w0=10, sigma=5)
    assert (w[mask == IGNORE_INDEX] == 0).all()
    loose = _two_squares(3)
    loose[15:25, 23:33] = IGNORE_INDEX  # the second square ignored: no second object
    assert border_map(loose, objects=1, w0=10, sigma=5)[20, 21] < 1


def test_off_gives_no_map_and_the_loss_is_unchanged():
    masks = torch.from_numpy(np.stack([_two_squares(3)] * 2)).long()
    assert batch_weights(masks, BorderSettings(w0=0, objects=1)) is None
    assert batch_weights(masks, BorderSettings(w0=10, objects=None)) is None
    logits = torch.randn(2, 2, 40, 60, generator=torch.Generator().manual_seed(0))
    loss = DiceCELoss(2, 1.0, IGNORE_INDEX)
    assert torch.equal(loss(logits, masks), loss(logits, masks, None))


def test_weighted_cross_entropy_counts_the_gap_more():
    masks = torch.from_numpy(_two_squares(3)[None]).long()
    extra = batch_weights(masks, BorderSettings(w0=10, sigma=5, objects=1))
    logits = torch.zeros(1, 2, 40, 60)
    logits[:, 0], logits[:, 1] = 5.0 * (masks == 0), 5.0 * (masks == 1)
    logits[0, :, 15:25, 20:23] = torch.tensor([0.0, 5.0])[:, None, None]  # wrong in the gap
    plain = DiceCELoss(2, 0.0, IGNORE_INDEX)
    assert plain(logits, masks, extra) > 3 * plain(logits, masks)
    # w_c: the class weights still apply under the border term
    weighted = DiceCELoss(2, 0.0, IGNORE_INDEX, class_weights=[1.0, 1.0])
    assert torch.allclose(weighted(logits, masks, extra), plain(logits, masks, extra))


def test_an_objects_class_outside_the_data_is_refused_by_name():
    import pytest

    from unet.model.unet import UNetConfig
    from unet.train.settings import TrainingError, TrainSettings, check_settings

    model = UNetConfig(in_channels=1, num_classes=2, depth=2, base_width=4)
    settings = TrainSettings(batch_size=2, border_weight={"w0": 10, "sigma": 5, "objects": 2})
    with pytest.raises(TrainingError, match="train.border_weight.objects 2"):
        check_settings(settings, 4, [64, 64], model)
    check_settings(TrainSettings(batch_size=2, border_weight={"objects": 1}), 4, [64, 64], model)
