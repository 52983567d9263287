"""model.arch smp: a pretrained-encoder Unet that pads any size and rebuilds from its file."""

import pytest
import torch

from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.describe import describe_model
from unet.model.unet import UNetConfig

pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[smp]'")


def test_smp_model_any_size_and_safe_round_trip(tmp_path):
    cfg = UNetConfig(
        in_channels=1, num_classes=2, depth=3, arch="smp", encoder="resnet18", encoder_weights=None
    )
    net = build_model(cfg).eval()
    x = torch.rand(2, 1, 37, 53)
    with torch.no_grad():
        out = net(x)
    assert out.shape == (2, 2, 37, 53)
    meta = {"class_values": [0, 255], "size": [53, 37], "in_channels": 1, "num_classes": 2}
    record = checkpoint.model_record(
        cfg.to_dict(), net.state_dict(), meta, {}, 1, None, [0.5, 0.5], "h"
    )
    checkpoint.save(tmp_path / "m.pt", record)
    assert torch.load(tmp_path / "m.pt", weights_only=True)["model_config"]["arch"] == "smp"
    rebuilt, _ = checkpoint.load_model(tmp_path / "m.pt")
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), out, atol=1e-5)
    assert torch.allclose(rebuilt.mean, net.mean)  # the normalisation travels with the file


def test_describe_names_the_encoder_and_normalisation(tmp_path):
    # `unet info` used to call any model "UNet ... base width ...", settings smp does not use.
    cfg = UNetConfig(
        in_channels=3, num_classes=2, depth=3, arch="smp", encoder="resnet18", encoder_weights=None
    )
    meta = {"class_values": [0, 255], "size": [48, 32], "in_channels": 3, "num_classes": 2}
    record = checkpoint.model_record(
        cfg.to_dict(), build_model(cfg).state_dict(), meta, {}, 1, None, [0.5, 0.5], "h"
    )
    checkpoint.save(tmp_path / "m.pt", record)
    out = describe_model(tmp_path / "m.pt")
    assert "smp Unet, encoder resnet18 (weights none, randomly initialised), depth 3" in out
    assert "mean 0.485, 0.456, 0.406, std 0.229, 0.224, 0.225" in out
    assert "base width" not in out
