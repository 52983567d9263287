"""A model trained with masks.separate says so: its model file records it and `unet info`
shows it, since its masks' components are the objects and its validation Dice is on parted
targets (not comparable with the test scores)."""

import torch

from unet.model import checkpoint, describe

CKPT = {"model_config": {"depth": 2, "base_width": 4, "bilinear": True, "norm": "batch",
                         "dropout": 0}, "in_channels": 1, "size": [96, 96],
        "class_values": [0, 1], "num_classes": 2, "epoch": 3, "val_dice": [0.93, 0.90]}


def _record(meta: dict) -> dict:
    return checkpoint.model_record({}, {}, {**CKPT, **meta}, {}, 3, None, [0.9], "h")


def test_model_file_records_separate_only_where_set():
    assert _record({"mask_separate": True})["mask_separate"] is True
    assert "mask_separate" not in _record({})  # caches without the key: files as before


def test_unet_info_shows_separate(monkeypatch):
    for separate in (True, False):
        record = {**CKPT, **({"mask_separate": True} if separate else {})}
        monkeypatch.setattr(checkpoint, "load_model",
                            lambda p, r=record: (torch.nn.Linear(1, 1), r))
        text = describe.describe_model("m.pt")
        assert ("masks.separate" in text) is separate
        assert ("parted" in text) is separate
