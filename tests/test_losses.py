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


def test_a_batch_of_zero_weighted_pixels_costs_nothing():
    # class_weights [0, 1] and a background-only patch: cross-entropy's weighted mean was 0/0,
    # the loss NaN, and training ran to the end with NaN weights and no word.
    loss = DiceCELoss(3, class_weights=[0.0, 1.0, 1.0])
    logits = torch.randn(2, 3, 4, 4, requires_grad=True)
    value = loss(logits, torch.zeros(2, 4, 4, dtype=torch.long))
    assert math.isfinite(value.item())
    value.backward()
    assert torch.isfinite(logits.grad).all()
    # with a weighted pixel present, the weighted mean is torch's
    target = torch.zeros(2, 4, 4, dtype=torch.long)
    target[0, 0, 0] = 2
    plain = DiceCELoss(3, dice_weight=0, class_weights=[0.0, 1.0, 1.0])
    expected = torch.nn.functional.cross_entropy(logits, target, weight=plain.weight)
    assert torch.allclose(plain(logits, target), expected)


def test_weights_that_diverged_stop_training_with_the_fix():
    # NaN weights were trained on to the last epoch and written as model.pt.
    import pytest

    from unet.train.divergence import check_weights
    from unet.train.settings import TrainingError

    net = torch.nn.Conv2d(1, 2, 3)
    check_weights(net, 3, 2)
    with torch.no_grad():
        net.weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(TrainingError, match=r"epoch 3.*train\.lr.*epoch 2 is kept"):
        check_weights(net, 3, 2)


def test_batchnorm_statistics_that_overflowed_stop_training():
    # SGD at lr 100 on the tiny set: after epoch 2 a BatchNorm running_var was inf while every
    # weight was finite, so validation's loss was NaN, yet training went on to write model.pt.
    import pytest

    from unet.train.divergence import check_weights
    from unet.train.settings import TrainingError

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    check_weights(net, 2, 1)
    net[1].running_var[1] = float("inf")
    with pytest.raises(TrainingError, match=r"epoch 2.*train\.lr.*epoch 1 is kept"):
        check_weights(net, 2, 1)


def test_a_non_finite_validation_loss_stops_training():
    # finite weights whose activations overflow score NaN on validation: argmax of NaN logits
    # predicted class 0 everywhere, and the epoch was recorded (and could be kept) as any other
    import pytest

    from unet.train.divergence import check_val_loss
    from unet.train.settings import TrainingError

    check_val_loss(1e12, 4, 3)
    for value in (float("nan"), float("inf")):
        with pytest.raises(TrainingError, match=r"validation loss.*epoch 4.*epoch 3 is kept"):
            check_val_loss(value, 4, 3)


def test_divergence_in_the_first_epoch_names_no_checkpoint():
    # "the checkpoint of epoch 0 is kept": there is none before the first epoch ends
    import pytest

    from unet.train.divergence import check_val_loss
    from unet.train.settings import TrainingError

    with pytest.raises(TrainingError) as err:
        check_val_loss(float("nan"), 1, 0)
    assert "epoch 0" not in str(err.value) and "no checkpoint" in str(err.value)


def test_the_loss_reads_no_value_from_the_device():
    # `if not valid.any()` and a boolean-mask index (class_weights) read the GPU at every
    # training step, each a wait for its queue to drain. Meta tensors hold no values: any
    # such read raises.
    target = torch.randint(0, 3, (2, 8, 8), device="meta")
    for loss_fn in (DiceCELoss(3, ignore_index=255), DiceCELoss(3, 0.0, 255),
                    DiceCELoss(3, 1.0, 255, [1.0, 2.0, 3.0])):
        logits = torch.randn(2, 3, 8, 8, device="meta", requires_grad=True)
        loss_fn.to("meta")(logits, target).backward()
        assert logits.grad.shape == logits.shape
