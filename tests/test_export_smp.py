"""ONNX export of an arch smp model: the module pads its input once to 2**depth itself, as the
exported graph does, so the graph gives its logits at any size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.test_export import _session
from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.export import export_onnx
from unet.model.unet import UNetConfig

pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[smp]'")


def test_smp_graph_matches_the_module_at_any_size(tmp_path):
    cfg = UNetConfig(in_channels=1, num_classes=2, depth=4, arch="smp", encoder="resnet18",
                     encoder_weights=None)
    torch.manual_seed(0)
    net = build_model(cfg).eval()
    meta = {"class_values": [0, 255], "size": [50, 37], "in_channels": 1, "num_classes": 2}
    record = checkpoint.model_record(cfg.to_dict(), net.state_dict(), meta, {}, 1, None,
                                     [0.5, 0.5], "h")
    checkpoint.save(tmp_path / "m.pt", record)
    export_onnx(tmp_path / "m.pt", tmp_path / "m.onnx")
    session, got = _session(tmp_path / "m.onnx")
    assert got["model_config"]["arch"] == "smp"
    for h, w in ((37, 50), (32, 48), (17, 23), (61, 90)):
        x = torch.rand(2, 1, h, w)
        with torch.no_grad():
            want = net(x).numpy()
        (logits,) = session.run(None, {"image": x.numpy()})
        assert logits.shape == want.shape
        assert np.abs(logits - want).max() < 1e-4, (h, w)
        assert (logits.argmax(1) == want.argmax(1)).all()
