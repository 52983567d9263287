"""`unet info` names the class of each validation Dice it prints: with ADE20K's 150 classes a
row of 150 unlabelled numbers and "absent"s could not be read back to the classes."""

import math

import torch

from unet.model import checkpoint, describe


def _ckpt(dice: list[float]) -> dict:
    k = len(dice)
    return {"model_config": {"depth": 2, "base_width": 4, "bilinear": True, "norm": "batch",
                             "dropout": 0}, "in_channels": 3, "size": [64, 64],
            "class_values": list(range(1, k + 1)), "num_classes": k, "background": False,
            "skip_unlisted": True, "epoch": 3, "val_dice": dice}


def _info(monkeypatch, dice: list[float]) -> str:
    monkeypatch.setattr(checkpoint, "load_model",
                        lambda path: (torch.nn.Linear(1, 1), _ckpt(dice)))
    kept = [line for line in describe.describe_model("m.pt").splitlines()
            if line.startswith("kept")]
    return kept[0]


def test_each_dice_is_named_by_its_class(monkeypatch):
    dice = [math.nan] * 150
    dice[13], dice[18], dice[149] = 0.5, 0.25, 0.125
    line = _info(monkeypatch, dice)
    assert "13: 0.5000, 18: 0.2500, 149: 0.1250" in line
    assert "147 absent (no score): 0-12, 14-17, 19-148" in line
    assert len(line) < 200


def test_a_few_classes_read_the_same_way(monkeypatch):
    line = _info(monkeypatch, [0.9, 0.8])
    assert line.endswith("validation Dice per class 0: 0.9000, 1: 0.8000")
