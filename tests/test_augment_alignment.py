"""Geometric augmentations move image and mask alike: images whose pixels encode their own
coordinates show, after a transform, where each output pixel came from, and the mask must
hold the class of that source pixel (nearest, never a new value, ignore preserved)."""

from __future__ import annotations

import pytest
import torch

from unet.common.labels import IGNORE_INDEX
from unet.train.augment import AugmentSettings, apply, build

H, W = 48, 64


def _classes(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Class of the pixel at (x, y): stripes of three classes, an ignore band on top."""
    out = ((x // 5 + y // 7) % 3).long()
    out[y < 3] = IGNORE_INDEX
    return out


def _coded(bands: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Image (bands, H, W): band 0 = x / (W - 1), band 1 = y / (H - 1), the rest 0.5; mask."""
    yy, xx = torch.meshgrid(torch.arange(H, dtype=torch.float64),
                            torch.arange(W, dtype=torch.float64), indexing="ij")
    image = torch.full((bands, H, W), 0.5, dtype=torch.float64)
    image[0], image[1] = xx / (W - 1), yy / (H - 1)
    return image.float(), _classes(xx, yy)


def _misaligned(image: torch.Tensor, mask: torch.Tensor) -> float:
    """Share of the output's fully inside pixels whose mask is not the class of the source
    pixel nearest to where the (bilinear) image sampled them."""
    x, y = image[0].double() * (W - 1), image[1].double() * (H - 1)
    inside = image[2] > 0.4999  # not blended with the fill outside the input
    wrong = (mask != _classes(x.round(), y.round())) & inside
    return wrong.sum().item() / max(1, inside.sum().item())


@pytest.mark.parametrize(("name", "settings", "bands"), [
    ("flip", AugmentSettings(flip=True), 3),
    ("flip horizontal", AugmentSettings(flip="horizontal"), 3),
    ("rot90 square crop", AugmentSettings(flip=False, rot90=True, crop=(32, 32)), 3),
    ("crop", AugmentSettings(flip=False, crop=(40, 24)), 3),
    ("scale", AugmentSettings(flip=False, scale=(0.3, 0.9)), 3),
    ("elastic", AugmentSettings(flip=False, elastic=400, elastic_sigma=10, elastic_p=1), 3),
    ("elastic 4 bands", AugmentSettings(flip=False, elastic=400, elastic_sigma=10,
                                        elastic_p=1), 4),
    ("flip, scale, crop, rot90", AugmentSettings(flip=True, rot90=True, scale=(0.5, 1.0),
                                                 crop=(32, 32)), 3),
])
def test_mask_follows_the_image_exactly(name, settings, bands):
    # train.augment.scale resized the mask with torchvision's legacy NEAREST (source pixel
    # floor(i * in / out)) but the image bilinear about pixel centres: 6-21 % of the zoomed
    # pixels' labels came from the neighbouring source pixel, up to one zoomed pixel off.
    image, mask = _coded(bands)
    transform = build(settings, (H, W), bands)
    torch.manual_seed(0)
    for _ in range(20):
        img, msk = apply(transform, image, mask)
        assert msk.dtype == torch.long and msk.shape == img.shape[1:]
        assert set(msk.unique().tolist()) <= {0, 1, 2, IGNORE_INDEX}, "a new class value"
        assert _misaligned(img, msk) == 0, name
