"""Classes a model never trained on (no pixel in its training masks): its file records the
classes it did, and every prediction path gives the others probability 0."""

from __future__ import annotations

import logging
import os

import torch
from torch import nn

from unet.common.labels import mapping_from_meta

log = logging.getLogger(__name__)

# exp() of this below any trained class's logit (they lie within +-100) is 0 in float32 and
# float16: the class's probability is exactly 0. Finite, so bilinear resizing (x 0 weights)
# and the sliding window's blend keep it finite where -inf would give NaN.
UNTRAINED_LOGIT = -1e4


def untrained_classes(ckpt: dict) -> list[int]:
    """The classes a model file records no training pixel of; [] for a file without the
    record (written before it was kept: every class predicted, as then). Never class 0 as the
    background (a pixel must get some class); class 0 as an object class (masks.background
    false) like any other, unless no class was trained."""
    trained = ckpt.get("trained_classes")
    if trained is None:
        return []
    # Without a background class, class 0 is one object class among others (Cityscapes' road):
    # a fold that never saw it predicted it by chance. Older files: class 0 is background.
    first = 0 if ckpt.get("background", True) is False else 1
    untrained = [k for k in range(first, ckpt["num_classes"]) if k not in trained]
    return [] if len(untrained) == ckpt["num_classes"] else untrained


class TrainedOnly(nn.Module):
    """A network whose logits (B, C, H, W) of the classes it never trained on are
    UNTRAINED_LOGIT: softmaxed, averaged with other folds' or resized, they stay 0."""

    def __init__(self, net: nn.Module, untrained: list[int], num_classes: int) -> None:
        super().__init__()
        self.net = net
        drop = torch.zeros(1, num_classes, 1, 1, dtype=torch.bool)
        drop[0, untrained] = True
        self.register_buffer("drop", drop, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).masked_fill(self.drop, UNTRAINED_LOGIT)


def trained_only(net: nn.Module, ckpt: dict) -> nn.Module:
    """`net` (of model file `ckpt`) predicting only the classes it trained on."""
    untrained = untrained_classes(ckpt)
    return TrainedOnly(net, untrained, ckpt["num_classes"]) if untrained else net


def note_untrained(ckpts: list[dict], paths: list[str | os.PathLike]) -> list[int]:
    """Log, once, the classes no model of `ckpts` (an ensemble's folds) trained on: they are
    never predicted. A class some fold trained on is predicted from that fold's share of the
    average. Returns those classes."""
    never = sorted(set.intersection(*(set(untrained_classes(c)) for c in ckpts)))
    if never:
        labels = mapping_from_meta(ckpts[0]).labels()
        log.warning(
            "class(es) %s (value(s) %s) are never predicted: %s had no pixel of them in its "
            "training masks, so it cannot know them (probability 0); put images that hold them "
            "in the training split and retrain to predict them",
            ", ".join(map(str, never)),
            ", ".join(labels[k] for k in never),
            str(paths[0]) if len(paths) == 1 else f"none of the {len(paths)} models",
        )
    return never
