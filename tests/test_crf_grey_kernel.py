"""The CRF's colour kernel on a grey image: `crf.bilateral_srgb` is a width in grey levels, as
it is in colour levels for a colour image, so a grey step of d levels must part two regions
as a colour step of d levels in one channel does (grey repeated into three channels made
every difference sqrt(3) times as large: 13 acted as 7.5 grey levels)."""

from __future__ import annotations

import numpy as np
import pytest

from unet.crf.dense import CRFParams, refine

H, W, SPLIT = 40, 60, 40


def _joined(image: np.ndarray) -> float:
    """Share of the weakly-background right part that the confident left part pulls into its
    class through the colour kernel alone (no smoothness kernel, a kernel over the image)."""
    fg = np.where(np.arange(W) >= SPLIT, 0.4, 0.8)[None].repeat(H, 0)
    probs = np.stack([1 - fg, fg]).astype(np.float32)
    params = CRFParams(iterations=5, gaussian_compat=0, bilateral_sxy=1000, bilateral_srgb=13,
                       bilateral_compat=5)
    return float(refine(image, probs, params)[:, SPLIT:].mean())


@pytest.mark.parametrize("step", [0, 8, 16, 20, 30, 40])
def test_a_grey_step_parts_regions_as_the_same_colour_step_does(step):
    grey = np.full((H, W), 100, np.uint8)
    grey[:, SPLIT:] += step
    colour = np.zeros((H, W, 3), np.uint8)
    colour[..., 0] = grey  # the same step in one channel: a colour distance of `step`
    assert _joined(grey) == _joined(colour) == _joined(grey[..., None])
