"""The network a model config names: this project's UNet, or one with a pretrained encoder."""

from __future__ import annotations

import torch
import torch.nn.functional as F
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


class SmallSides(nn.Module):
    """A network that takes images with a side under `multiple` (2**depth), which its poolings
    cannot (torch's 'Output size is too small'): such a side is padded up to `multiple`,
    replicating the bottom or right edge, and the logits cropped back, as the ONNX export's
    graph (export.PaddedUNet) does; larger inputs go through untouched, bit for bit."""

    def __init__(self, net: nn.Module, multiple: int) -> None:
        super().__init__()
        self.net, self.multiple = net, multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]  # (B, C, H, W)
        ph, pw = max(0, self.multiple - h), max(0, self.multiple - w)
        if not (ph or pw):
            return self.net(x)
        return self.net(F.pad(x, (0, pw, 0, ph), mode="replicate"))[..., :h, :w]
