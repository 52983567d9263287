"""train.augment.flip: which mirror images training sees, image and mask alike."""

from __future__ import annotations

import pytest
import torch

from unet.train.augment import AugmentSettings, apply, build


def _seen(flip) -> set[str]:
    """Names of the orientations 200 draws of an asymmetric image came out in."""
    image = torch.arange(12.0).reshape(1, 3, 4) / 12  # no symmetry: each flip is distinct
    mask = torch.arange(12).reshape(3, 4)
    names = {(): "as is", (-1,): "left-right", (-2,): "up-down", (-2, -1): "both"}
    transform = build(AugmentSettings(flip=flip), (3, 4))
    torch.manual_seed(0)
    seen = set()
    for _ in range(200):
        img, msk = apply(transform, image, mask)
        match = [n for dims, n in names.items() if torch.equal(img, image.flip(dims) if dims
                                                                else image)]
        assert len(match) == 1, "not a flip of the input"
        dims = next(d for d, n in names.items() if n == match[0])
        assert torch.equal(msk, mask.flip(dims) if dims else mask), "mask flipped otherwise"
        seen.add(match[0])
    return seen


@pytest.mark.parametrize(("flip", "expected"), [
    (True, {"as is", "left-right", "up-down", "both"}),
    ("horizontal", {"as is", "left-right"}),
    ("vertical", {"as is", "up-down"}),
])
def test_flip_axes(flip, expected):
    assert _seen(flip) == expected


def test_no_flip_leaves_the_orientation():
    assert build(AugmentSettings(flip=False), (3, 4)) is None


def test_quarter_turns_work_with_square_crops_of_oblong_images():
    """preprocess 96x64 with crop [32, 32]: the training inputs are square, yet rot90 was
    refused as if they were 96x64, with a message that did not mention crop."""
    transform = build(AugmentSettings(flip=False, rot90=True, crop=(32, 32)), (64, 96))
    image = torch.rand(3, 64, 96)
    mask = (image[0] > 0.5).to(torch.uint8)
    torch.manual_seed(0)
    for _ in range(8):
        img, msk = apply(transform, image, mask)
        assert img.shape == (3, 32, 32) and msk.shape == (32, 32)
        assert torch.equal(msk, (img[0] > 0.5).to(torch.uint8))  # turned together
    with pytest.raises(ValueError, match=r"rot90.*train.augment.crop"):
        build(AugmentSettings(rot90=True, crop=(32, 16)), (64, 96))


@pytest.mark.parametrize("bands", [2, 4])
def test_brightness_and_contrast_take_any_number_of_bands(bands):
    # torchvision's ColorJitter takes 1 or 3 channels: a 4-band (RGB + near-infrared) data set
    # with train.augment.brightness died in its first step, naming no key.
    torch.manual_seed(0)
    settings = AugmentSettings(flip=False, rot90=False, brightness=0.3, contrast=0.3)
    image, mask = torch.rand(bands, 16, 16), torch.randint(0, 2, (16, 16))
    outs = [apply(build(settings, (16, 16), channels=bands), image, mask) for _ in range(8)]
    assert all(o[0].shape == image.shape and torch.equal(o[1], mask) for o in outs)
    assert all(o[0].min() >= 0 and o[0].max() <= 1 for o in outs)
    assert any(not torch.allclose(o[0], image) for o in outs)
    # every band moves together: their ratios (what tells near-infrared from red) stay close
    o = outs[0][0]
    assert torch.corrcoef(torch.stack([o[0].flatten(), image[0].flatten()]))[0, 1] > 0.99


def test_elastic_blur_wider_than_the_inputs_is_refused_by_name():
    # ElasticTransform blurs its displacement field with a kernel of 8 sigma + 1 px, reflect-
    # padded by half of it: 32x32 patches with elastic_sigma 10 died at the first deformed
    # sample with torch's "Padding size should be less than the corresponding input dimension".
    settings = AugmentSettings(flip=False, elastic=400, elastic_sigma=10, elastic_p=1)
    with pytest.raises(ValueError, match=r"train\.augment\.elastic_sigma 10.*32x48"):
        build(settings, (48, 32))
    image, mask = torch.rand(3, 41, 41), torch.randint(0, 2, (41, 41))
    apply(build(settings, (41, 41)), image, mask)  # the smallest side it fits
    with pytest.raises(ValueError, match=r"elastic_sigma"):
        build(settings, (40, 64))
