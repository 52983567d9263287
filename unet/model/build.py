"""The network a model config names: this project's UNet, or one with a pretrained encoder."""

from __future__ import annotations

from torch import nn

from unet.model.unet import UNet, UNetConfig


def build_model(config: UNetConfig, pretrained: bool = True) -> nn.Module:
    """A fresh network; `pretrained=False` when its weights are loaded next (no download)."""
    if config.arch == "unet":
        return UNet(config)
    from unet.model.pretrained import EncoderUNet  # optional dependency: only when asked for

    return EncoderUNet(config, pretrained)


def size_multiple(config: UNetConfig) -> int:
    """Input sizes that need no padding inside the network are multiples of this."""
    return 2 ** config.depth
