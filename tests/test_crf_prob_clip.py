"""crf.prob_clip above 1/C (C classes) clips every probability of a pixel whose most probable
class is under it to the same floor: its evidence is lost and the CRF labels it from its
neighbours alone (or class 0). The schema allows up to 0.5 (right for 2 classes); with more
classes refine refuses it, naming the key and the bound."""

from __future__ import annotations

import numpy as np
import pytest

from unet.crf.dense import CRFParams, refine


def _three_classes() -> tuple[np.ndarray, np.ndarray]:
    probs = np.zeros((3, 16, 16), np.float32)
    probs[:, :, :8] = np.array([0.2, 0.45, 0.35])[:, None, None]  # class 1 most probable
    probs[:, :, 8:] = np.array([0.2, 0.35, 0.45])[:, None, None]  # class 2 most probable
    image = np.full((16, 16, 3), 100, np.uint8)
    return image, probs.astype(np.float16)


def test_a_prob_clip_above_one_over_the_classes_is_refused():
    image, probs = _three_classes()
    params = CRFParams(iterations=2, prob_clip=0.5)  # every probability here is under 0.5
    with pytest.raises(ValueError, match=r"crf\.prob_clip 0\.5 .*3 classes.*0\.333"):
        refine(image, probs, params)


def test_a_prob_clip_up_to_one_over_the_classes_keeps_the_evidence():
    image, probs = _three_classes()
    out = refine(image, probs, CRFParams(iterations=2, gaussian_compat=0, bilateral_compat=0,
                                         prob_clip=0.3))
    assert (out[:, :8] == 1).all() and (out[:, 8:] == 2).all()
    two = np.stack([np.full((8, 8), 0.4), np.full((8, 8), 0.6)]).astype(np.float16)
    assert (refine(image[:8, :8], two, CRFParams(iterations=2, prob_clip=0.5)) == 1).all()
