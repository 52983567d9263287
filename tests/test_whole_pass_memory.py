"""A model trained on whole images predicts each image in one forward pass: a whole slide
(20000x20000 at scale 1) would need about 240 GB there. It is refused before any decode,
naming the keys that make it fit (train.patch.size: tile by tile; preprocess.scale)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from unet.infer import memory
from unet.infer.predict import PredictSettings
from unet.infer.predict_folder import predict_files
from unet.model import checkpoint
from unet.model.unet import UNet, UNetConfig


def _whole_image_model(path, patch=None) -> None:
    """A native-size model trained on whole images (no train.patch)."""
    config = UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)
    meta = {"in_channels": 3, "num_classes": 2, "class_values": [0, 255], "size": None,
            "mode": "native", "scale": 1.0}
    settings = {"patch": {"size": list(patch), "foreground": 0.3, "per_image": 1}} if patch \
        else {}
    record = checkpoint.model_record(config.to_dict(), UNet(config).state_dict(), meta,
                                     settings, 1, None, [0.0], "test")
    checkpoint.save(path, record)


def test_an_image_too_large_for_one_pass_is_refused_naming_the_keys(tmp_path, monkeypatch):
    # It was decoded, then torch failed to allocate (CPU) or ran out of CUDA memory, naming
    # neither the image nor a setting.
    _whole_image_model(tmp_path / "model.pt")
    Image.fromarray(np.zeros((512, 768, 3), np.uint8)).save(tmp_path / "slide.png")
    monkeypatch.setattr(memory, "free_bytes", lambda device: 20 << 20)  # 20 MB free
    hint = (r"slide\.png is 768x512.*one forward pass.*GiB.*train\.patch\.size.*tile by tile"
            r".*preprocess\.scale")
    with pytest.raises(MemoryError, match=hint):
        predict_files([tmp_path / "model.pt"], [tmp_path / "slide.png"], tmp_path / "out",
                      PredictSettings(device="cpu"))
    assert not (tmp_path / "out" / "slide.png").exists()


def test_what_fits_and_a_patch_model_predict_as_before(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((64, 96, 3), np.uint8)).save(tmp_path / "a.png")
    monkeypatch.setattr(memory, "free_bytes", lambda device: 20 << 20)
    _whole_image_model(tmp_path / "whole.pt")
    _whole_image_model(tmp_path / "patch.pt", patch=(32, 32))
    for name in ("whole", "patch"):
        predict_files([tmp_path / f"{name}.pt"], [tmp_path / "a.png"], tmp_path / name,
                      PredictSettings(device="cpu"))
        assert (tmp_path / name / "a.png").exists()


def test_a_20000_px_slide_is_said_to_need_hundreds_of_gib():
    net = UNet(UNetConfig(in_channels=3, num_classes=2))  # the default width, 16
    need = memory.pass_bytes([net], (20000, 20000), None)
    assert 200 << 30 < need < 300 << 30
    assert memory.pass_bytes([net], (20000, 20000), torch.float16) == need // 2


def test_a_batch_holds_no_more_images_than_the_free_memory_takes(tmp_path, monkeypatch):
    # Each image fitted alone, but predict.batch_size 8 put all three 64x96 images through one
    # pass, about three times the memory checked: out of CUDA memory, naming no setting.
    from unet.infer import batches
    _whole_image_model(tmp_path / "model.pt")
    for name in "abc":
        Image.fromarray(np.zeros((64, 96, 3), np.uint8)).save(tmp_path / f"{name}.png")
    one = memory.pass_bytes([UNet(UNetConfig(in_channels=3, num_classes=2, depth=2,
                                             base_width=4))], (96, 64), None)
    monkeypatch.setattr(memory, "free_bytes", lambda device: 2 * one + one // 2)  # 2 fit
    passes, forward = [], batches._forward
    monkeypatch.setattr(batches, "_forward", lambda models, images, *rest: (
        passes.append(len(images)), forward(models, images, *rest))[1])
    predict_files([tmp_path / "model.pt"], [tmp_path / f"{n}.png" for n in "abc"],
                  tmp_path / "out", PredictSettings(device="cpu", batch_size=8))
    assert passes == [2, 1]
    assert all((tmp_path / "out" / f"{n}.png").exists() for n in "abc")
