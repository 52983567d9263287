"""The network a model config names: this project's UNet, or one with a pretrained encoder."""

from __future__ import annotations

from torch import nn

from unet.model.unet import UNet, UNetConfig


def build_model(config: UNetConfig, pretrained: bool = True, source: dict | None = None
                ) -> nn.Module:
    """A fresh network; `pretrained=False` when its weights are loaded next (no download),
    `source`: a model file's record of a timm folder or Hub encoder (no folder or Hub read)."""
    if config.arch == "unet":
        return UNet(config)
    from unet.model.pretrained import EncoderUNet  # optional dependency: only when asked for

    return EncoderUNet(config, pretrained, source)


def size_multiple(config: UNetConfig) -> int:
    """Input sizes that need no padding inside the network are multiples of this."""
    return 2 ** config.depth
