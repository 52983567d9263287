"""Training augmentation with torchvision.transforms.v2, on image and mask together."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from unet.common.labels import IGNORE_INDEX
from unet.common.schema import defaults
from unet.common.shapes import elastic_fits, elastic_refusal, turns_fit

_D = defaults("train", "augment")  # field defaults: config/schema.yaml


@dataclass(frozen=True)
class AugmentSettings:
    """Which augmentations run (config `train.augment`); validation never augments."""

    flip: bool | str = _D["flip"]  # true: horizontal and vertical, p = 0.5 each; or one axis
    rot90: bool = _D["rot90"]  # quarter turns; square inputs only (a turn changes the shape)
    scale: tuple[float, float] | None = _D["scale"]  # random crop of this area, resized back
    brightness: float = _D["brightness"]  # ColorJitter strength
    contrast: float = _D["contrast"]
    noise: float = _D["noise"]  # Gaussian noise sigma, images in [0, 1]
    crop: tuple[int, int] | None = _D["crop"]  # (width, height): random training crops
    elastic: float = _D["elastic"]  # ElasticTransform alpha (px); 0 = off
    elastic_sigma: float = _D["elastic_sigma"]  # smoothness of the displacement field (px)
    elastic_p: float = _D["elastic_p"]  # share of samples deformed


class RandomRot90(v2.Transform):
    """Rotate by k quarter turns, k uniform in 0..3 (image and mask alike)."""

    def make_params(self, flat_inputs: list) -> dict:
        return {"k": int(torch.randint(4, ()))}

    def transform(self, inpt, params: dict):
        out = torch.rot90(inpt, params["k"], dims=(-2, -1))
        return tv_tensors.wrap(out, like=inpt) if isinstance(inpt, tv_tensors.TVTensor) else out


class RandomZoom(v2.RandomResizedCrop):
    """RandomResizedCrop whose mask is resampled at the pixel centres the image's bilinear
    resize uses (nearest-exact): torchvision's mask kernel takes the legacy nearest, which
    reads source pixel floor(i * in / out) and so shifts labels up to one pixel up-left."""

    def transform(self, inpt, params: dict):
        if not isinstance(inpt, tv_tensors.Mask):
            return super().transform(inpt, params)
        box = (params["top"], params["left"], params["height"], params["width"])
        out = F.crop_mask(inpt.as_subclass(torch.Tensor), *box)
        out = F.resize_mask(out, list(self.size), interpolation=v2.InterpolationMode.NEAREST_EXACT)
        return tv_tensors.wrap(out, like=inpt)


class BandJitter(v2.Transform):
    """ColorJitter's brightness and contrast for any number of bands (torchvision's takes 1 or
    3): every band scaled by one brightness factor, then blended with the image's mean by one
    contrast factor (as ColorJitter does for RGB), so no band moves against the others;
    the mask passes through."""

    def __init__(self, brightness: float, contrast: float) -> None:
        super().__init__()
        self.brightness, self.contrast = brightness, contrast

    def make_params(self, flat_inputs: list) -> dict:
        def factor(s: float) -> float:
            return float(torch.empty(()).uniform_(max(0.0, 1 - s), 1 + s)) if s else 1.0

        return {"b": factor(self.brightness), "c": factor(self.contrast)}

    def transform(self, inpt, params: dict):
        if not isinstance(inpt, tv_tensors.Image):
            return inpt
        out = (inpt.as_subclass(torch.Tensor) * params["b"]).clamp_(0, 1)
        out = (out - out.mean()) * params["c"] + out.mean()
        return tv_tensors.wrap(out.clamp_(0, 1), like=inpt)


def build(
    settings: AugmentSettings, size: tuple[int, int], channels: int = 3, bands: bool = False
) -> v2.Transform | None:
    """The v2 pipeline for (image float (C, H, W), mask (H, W)) at `size` (h, w), images of
    `channels` channels, `bands` where they are no grey or RGB (common.channels); None if
    empty."""
    steps: list[v2.Transform] = []
    if settings.flip in (True, "horizontal"):  # "horizontal": mirrored left-right only
        steps.append(v2.RandomHorizontalFlip())
    if settings.flip in (True, "vertical"):
        steps.append(v2.RandomVerticalFlip())
    square_crop = bool(settings.crop) and settings.crop[0] == settings.crop[1]
    if settings.rot90 and not square_crop:  # turned before the other steps, whole
        if not turns_fit(settings.rot90, settings.crop, size):
            raise ValueError(
                f"train.augment.rot90 needs square training inputs, not {size[1]}x{size[0]}; "
                "make preprocess width = height (or train.patch.size, or train.augment.crop, "
                "square) or turn rot90 off"
            )
        steps.append(RandomRot90())
    if settings.scale:
        ratio = size[1] / size[0]  # keep the aspect ratio: no distortion, only zoom
        steps.append(
            RandomZoom(
                size, scale=tuple(settings.scale), ratio=(ratio, ratio), antialias=True
            )
        )
    if not elastic_fits(settings.elastic, settings.elastic_sigma, (size[1], size[0])):
        raise ValueError(elastic_refusal(settings.elastic_sigma, (size[1], size[0]),
                                         "train.patch.size or preprocess width x height"))
    if settings.elastic:
        # The U-Net paper's key augmentation for EM. Pixels pulled in from outside the input
        # are zero in the image and ignored in the mask, so the loss never learns the border.
        fill = {tv_tensors.Image: 0.0, tv_tensors.Mask: IGNORE_INDEX}
        deform = v2.ElasticTransform(settings.elastic, settings.elastic_sigma, fill=fill)
        steps.append(v2.RandomApply([deform], p=settings.elastic_p))
    if settings.crop:
        # Patches at the cached resolution: cheaper steps, while validation and prediction
        # still see whole images at full detail (a fully convolutional net takes any size).
        steps.append(v2.RandomCrop((settings.crop[1], settings.crop[0])))
        if settings.rot90 and square_crop:  # the square crop turns, the oblong image need not
            steps.append(RandomRot90())
    # ColorJitter's contrast blends toward 0.299 R + 0.587 G + 0.114 B: for bands (DAPI, GFP,
    # mCherry) that weighs each by its place in the file, so bands get BandJitter's plain mean
    if (settings.brightness or settings.contrast) and channels in (1, 3) and not bands:
        steps.append(v2.ColorJitter(brightness=settings.brightness, contrast=settings.contrast))
    elif settings.brightness or settings.contrast:  # multi-band images
        steps.append(BandJitter(settings.brightness, settings.contrast))
    if settings.noise:
        steps.append(v2.GaussianNoise(sigma=settings.noise, clip=True))
    return v2.Compose(steps) if steps else None


def apply(
    transform: v2.Transform | None, image: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run `transform` on one (image, mask) pair; the mask is resized with nearest neighbour."""
    if transform is None:
        return image, mask
    img, msk = transform(tv_tensors.Image(image), tv_tensors.Mask(mask))
    return img.as_subclass(torch.Tensor), msk.as_subclass(torch.Tensor)
