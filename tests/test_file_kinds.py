"""Torch files of other kinds given as a model: each refused naming the file and what it is."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from unet.model import checkpoint
from unet.model.checkpoint import CheckpointError
from unet.model.unet import UNet, UNetConfig


def _net() -> UNet:
    return UNet(UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)).eval()


def _load_quietly(path: Path) -> CheckpointError:
    """The refusal of `checkpoint.load_model`, failing on any warning torch printed on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CheckpointError) as err:
            checkpoint.load_model(path)
    return err.value


@pytest.mark.parametrize("how", ["script", "trace"])
def test_a_torchscript_file_is_named_as_one_not_as_a_damaged_file(tmp_path, how):
    # torch.jit.save's archive read "not a readable torch file (RuntimeError: Cannot use
    # ``weights_only=True`` with TorchScript archives ...): it is empty, cut off, or not
    # written by torch.save. Copy it again", after torch's warning that it was "dispatching
    # to 'torch.jit.load'": neither copying again nor retraining helps
    net, path = _net(), tmp_path / "model.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice
        jit = torch.jit.script(net) if how == "script" else torch.jit.trace(
            net, torch.rand(1, 3, 32, 32))
    jit.save(str(path))
    message = str(_load_quietly(path))
    assert message.startswith(f"{path} is a TorchScript archive"), message
    assert "cut off" not in message and "Copy it again" not in message
    assert "model.pt" in message and "code" in message
