"""evaluate.objects: an ignored band across an object cuts the true and the predicted objects
alike, so a prediction right on every scored pixel scores every object found."""

from __future__ import annotations

import numpy as np

from tests.objects_reference import reference
from unet.evaluate.objects import image_objects

IGN = 255


def test_a_band_cuts_true_and_predicted_objects_alike():
    # a 4x11 object cut by an ignored column into 4x5 parts; the prediction the whole 4x11 bar
    target = np.zeros((6, 13), np.uint8)
    target[1:5, 1:12] = 1
    target[:, 6] = IGN
    pred = np.zeros_like(target)
    pred[1:5, 1:12] = 1  # right on every scored pixel, and across the band
    n = image_objects(target, pred, 1, None, IGN)
    # the truth's two parts and the prediction's, each pair IoU 1 (before: one predicted bar
    # of 40 scored px against two parts of 20 px, IoU 0.5 each: TP 0, FP 1, FN 2)
    assert (n["true"], n["predicted"], n["tp"], n["fp"], n["fn"]) == (2, 2, 2, 0, 0)
    assert n["iou_sum"] == 2.0
    assert reference(np.where(target == 1, 1, 0), pred, target != IGN) == n


def test_a_band_cuts_a_3d_object_alike():
    # an ignored slice through a 5-slice object: two parts on both sides, each found
    target = np.zeros((5, 4, 4), np.uint8)
    target[:, 1:3, 1:3] = 1
    target[2] = IGN
    pred = (target > 0).astype(np.uint8)
    pred[2, 1:3, 1:3] = 1
    n = image_objects(target, pred, 1, None, IGN)
    assert (n["true"], n["predicted"], n["tp"], n["fp"], n["fn"]) == (2, 2, 2, 0, 0)
