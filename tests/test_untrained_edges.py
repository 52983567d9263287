"""Untrained classes at the edges of the rule (model.trained, cache.lost_classes): class 0 as
an object class (masks.background false) is dropped like any other class it never saw."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from unet.cache.lost_classes import NEVER, absent_class_notes
from unet.common.labels import MaskMapping
from unet.model.trained import UNTRAINED_LOGIT, trained_only, untrained_classes


def _ckpt(trained: list[int] | None, background: bool | None = True) -> dict:
    """The keys of a model file that untrained_classes reads (background None: an older file)."""
    ckpt = {"num_classes": 3, "trained_classes": trained}
    if background is not None:
        ckpt["background"] = background
    return ckpt


def test_class_0_as_an_object_class_is_dropped_when_never_trained():
    # masks.background false (Cityscapes' road, ADE20K's wall as class 0): a fold whose
    # training rows hold no class-0 pixel predicted class 0 by chance, as before the rule.
    assert untrained_classes(_ckpt([1, 2], background=False)) == [0]
    assert untrained_classes(_ckpt([2], background=False)) == [0, 1]
    net = trained_only(torch.nn.Identity(), _ckpt([1, 2], background=False))
    logits = net(torch.zeros(1, 3, 2, 2))  # (B, C, H, W): a tie the first class would win
    assert (logits[0, 0] == UNTRAINED_LOGIT).all() and (logits.argmax(1) == 1).all()


def test_class_0_as_the_background_and_a_model_of_no_trained_class_keep_class_0():
    assert untrained_classes(_ckpt([1, 2])) == []
    assert untrained_classes(_ckpt([1], background=None)) == [2]  # older file: background
    # no class trained at all: some class must be given to every pixel, so none is dropped
    assert untrained_classes(_ckpt([], background=False)) == []


def test_the_preprocess_warning_says_an_untrained_object_class_0_is_never_predicted(tmp_path):
    mask = np.ones((4, 4), np.uint8)
    Image.fromarray(mask).save(tmp_path / "m.png")
    notes = absent_class_notes([0], MaskMapping((0, 1), background=False),
                               [str(tmp_path / "m.png")], None, None)
    assert NEVER in notes[0] and "by chance" not in notes[0]
    notes = absent_class_notes([0], MaskMapping((0, 1)), [str(tmp_path / "m.png")], None, None)
    assert "by chance" in notes[0]  # as the background it stays predicted
