"""evaluate.objects on images of more objects than int32 keys hold (whole-slide label tiles)."""

from __future__ import annotations

import numpy as np

from unet.evaluate.objects import image_objects


def test_ninety_thousand_source_ids_stay_ninety_thousand_objects():
    """Each true object is a (blob, id) pair keyed blob * (ids + 1) + id: ndimage.label's
    blobs are int32, so past 65,536 blobs and ids the key wrapped around 2**32 and two pairs
    2**32 apart became one object (89,998 of 90,000 single-pixel nuclei here, a perfect
    prediction scored 2 FN). The ranks are laid out so that blob 1's key and blob 47,722's
    differ by exactly 2**32."""
    side = 300
    n = side * side
    rank = np.arange(1, n + 1)
    d = (1 << 32) // (n + 1)  # blobs apart
    gap = (1 << 32) - d * (n + 1)  # and the id ranks apart that make 2**32
    rank[[d, gap]] = rank[[gap, d]]  # blob 1 + d takes rank 1 + gap
    ids = np.zeros((2 * side, 2 * side), np.int32)
    ids[::2, ::2] = rank.reshape(side, side)  # isolated pixels, one blob each
    target = (ids > 0).astype(np.uint8)
    n_obj = image_objects(target, target, 1, ids, 255)
    assert (n_obj["true"], n_obj["tp"], n_obj["fn"], n_obj["fp"]) == (n, n, 0, 0)


def test_ninety_thousand_components_predicted_exactly_score_perfect():
    """The same wrap in the match's (true, predicted) pair key, true * (predicted + 1) +
    predicted, with ndimage's int32 labels: 90,000 components (evaluate.objects without ids)
    predicted exactly scored TP 89,998, FP 2, FN 2."""
    target = np.zeros((600, 600), np.uint8)
    target[::2, ::2] = 1
    n_obj = image_objects(target, target, 1, None, 255)
    assert (n_obj["true"], n_obj["tp"], n_obj["fn"], n_obj["fp"]) == (90000, 90000, 0, 0)
    assert n_obj["iou_sum"] == 90000.0
