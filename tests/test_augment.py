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
