"""The loss of a batch without one labelled pixel (every value ignored: a Cityscapes patch of
void, an unlabelled image in the train split) is 0, not NaN: cross-entropy's mean over no
pixel made the epoch's train_loss (and a validation split's val_loss) NaN in history.csv."""

from __future__ import annotations

import math

import torch

from unet.train.losses import DiceCELoss


def test_a_batch_of_ignored_pixels_costs_nothing():
    logits = torch.randn(2, 3, 8, 8, requires_grad=True)
    target = torch.full((2, 8, 8), 255)
    for loss_fn in (DiceCELoss(3, ignore_index=255), DiceCELoss(3, 0.0, 255, [1.0, 2.0, 3.0])):
        loss = loss_fn(logits, target)
        assert math.isfinite(loss.item()) and loss.item() == 0.0
        loss.backward()
        assert torch.isfinite(logits.grad).all() and not logits.grad.any()
        logits.grad = None
    target[0, 0, 0] = 1  # one labelled pixel: an ordinary loss again
    assert DiceCELoss(3, ignore_index=255)(logits, target).item() > 0
