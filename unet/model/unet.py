"""The UNet (Ronneberger et al., 2015) with a small config that the checkpoint stores."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from unet.common.schema import defaults
from unet.common.shapes import min_side

_D = defaults("model")  # field defaults: config/schema.yaml


@dataclass(frozen=True)
class UNetConfig:
    """Architecture settings; input channels and classes come from the data."""

    in_channels: int
    num_classes: int
    depth: int = _D["depth"]  # number of 2x downsamplings
    base_width: int = _D["base_width"]  # channels at full resolution; doubles per level
    bilinear: bool = _D["bilinear"]  # bilinear upsampling + conv, else transposed conv
    norm: str = _D["norm"]  # batch | instance | group | none
    dropout: float = _D["dropout"]  # dropout at the bottleneck
    arch: str = _D["arch"]  # unet (this file) | smp (pretrained encoder, model/pretrained.py)
    encoder: str = _D["encoder"]  # arch smp: encoder name, e.g. resnet34 or a timm tu- name
    encoder_weights: str | None = _D["encoder_weights"]  # arch smp: imagenet, or None

    def to_dict(self) -> dict:
        """Plain dict for checkpoints and JSON."""
        return asdict(self)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "group":
        # the most groups, up to 8, that divide the channels: 8 for multiples of 8 and all
        # of a narrower layer's, as before; base_width 12 (24, 48, ...) works too
        return nn.GroupNorm(max(g for g in range(1, 9) if channels % g == 0), channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(
        f"model.norm: unknown normalisation {kind!r}; use batch, instance, group or none"
    )


class DoubleConv(nn.Sequential):
    """(conv 3x3 -> norm -> ReLU) twice."""

    def __init__(self, cin: int, cout: int, norm: str) -> None:
        bias = norm == "none"  # a norm layer's shift makes the conv bias redundant
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=bias),
            _norm(norm, cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=bias),
            _norm(norm, cout),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """Max-pool by 2, then a double conv."""

    def __init__(self, cin: int, cout: int, norm: str) -> None:
        super().__init__(nn.MaxPool2d(2), DoubleConv(cin, cout, norm))


class Up(nn.Module):
    """Upsample by 2, concatenate the skip connection, double conv."""

    def __init__(self, cin: int, cskip: int, cout: int, bilinear: bool, norm: str) -> None:
        super().__init__()
        if bilinear:
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(cin, cin // 2, 1),
            )
        else:
            self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
        self.conv = DoubleConv(cin // 2 + cskip, cout, norm)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)  # (B, cin/2, 2h, 2w)
        # Odd sizes: pooling floored, so pad the upsampled map to the skip's size.
        dh, dw = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]
        if dh or dw:
            x = F.pad(x, [dw // 2, dw - dw // 2, dh // 2, dh - dh // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(nn.Module):
    """Encoder-decoder with skip connections; returns logits (B, num_classes, H, W)."""

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.base_width * 2**i for i in range(config.depth + 1)]
        self.inc = DoubleConv(config.in_channels, widths[0], config.norm)
        self.downs = nn.ModuleList(
            Down(widths[i], widths[i + 1], config.norm) for i in range(config.depth)
        )
        self.drop = nn.Dropout2d(config.dropout) if config.dropout > 0 else nn.Identity()
        self.ups = nn.ModuleList(
            Up(widths[i + 1], widths[i], widths[i], config.bilinear, config.norm)
            for i in reversed(range(config.depth))
        )
        self.head = nn.Conv2d(widths[0], config.num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]  # (B, w0, H, W)
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = self.drop(skips.pop())  # bottleneck (B, w_depth, H/2^depth, W/2^depth)
        for up in self.ups:
            x = up(x, skips.pop())
        return self.head(x)

    @staticmethod
    def min_size(depth: int) -> int:
        """Smallest input side that survives `depth` poolings with at least 1 pixel."""
        return min_side(depth)
