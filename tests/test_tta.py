"""Test-time augmentation averages the flips the model was trained with."""

from __future__ import annotations

import pytest
import torch

from tests.test_tiles import _model
from unet.infer.forward import tta_flips
from unet.infer.tiles import ALL_FLIPS, NO_FLIPS, predict_logits


def _ckpt(flip) -> dict:
    return {"train_settings": {"augment": {"flip": flip}}}


@pytest.mark.parametrize(("flip", "views"), [
    (True, ALL_FLIPS),
    (False, ALL_FLIPS),  # asked for without training flips: both, as before
    ("horizontal", ((), (-1,))),
    ("vertical", ((), (-2,))),
])
def test_views_follow_the_training_flips(flip, views):
    assert tta_flips(True, _ckpt(flip)) == views
    assert tta_flips(False, _ckpt(flip)) == ((),)


def test_model_file_without_training_settings_gets_both_flips():
    assert tta_flips(True, {}) == ALL_FLIPS


def test_left_right_views_are_averaged_and_flipped_back():
    model = _model(depth=2)
    x = torch.rand(1, 3, 16, 24)
    plain = predict_logits(model, x, NO_FLIPS, None)
    mirrored = predict_logits(model, x.flip(-1), NO_FLIPS, None).flip(-1)
    got = predict_logits(model, x, ((), (-1,)), None)
    torch.testing.assert_close(got, (plain + mirrored) / 2)
    # All three views differ from it: the up-down view is not in the average.
    assert not torch.allclose(predict_logits(model, x, ALL_FLIPS, None), got)
