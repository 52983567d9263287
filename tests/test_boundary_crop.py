"""Per-class boundary scores measure distances within the box that holds the class's two
boundaries, not across the whole image: with ADE20K's 150 classes a 512x512 image took 3.7 s
to score (two whole-image distance transforms per class), most of it spent on empty image."""

import numpy as np
import pytest

from unet.evaluate import distances
from unet.evaluate.boundary import boundary_f1, hd95, image_scores


def _image() -> tuple[np.ndarray, np.ndarray]:
    target = np.zeros((512, 512), np.uint8)
    target[10:40, 20:50] = 1  # small objects far apart
    target[450:500, 400:430] = 2
    target[200:230, 300:310] = 3
    target[205:215, 302:306] = 255  # ignored pixels inside class 3
    pred = np.roll(target, (2, -3), axis=(0, 1))
    pred[pred == 255] = 3
    pred[300:305, 100:104] = 1  # a speck of class 1 far from its object
    return pred, target


def test_each_class_is_measured_in_its_own_box(monkeypatch):
    shapes = []
    real = distances.ndimage.distance_transform_edt

    def edt(image, *args, **kwargs):
        shapes.append(image.shape)
        return real(image, *args, **kwargs)

    monkeypatch.setattr(distances.ndimage, "distance_transform_edt", edt)
    pred, target = _image()
    image_scores(pred, target, 4, ignore_index=255)
    windows = [s for s in shapes if s[0] > 100 or s[1] > 100]  # the coarse 64x64 grids aside
    # class 0 fills the image and class 1 spans its speck: only they need wide windows
    assert len(windows) <= 4, shapes


@pytest.mark.parametrize("tolerance", [1, 2, 5])
def test_the_scores_equal_those_of_whole_masks(tolerance, monkeypatch):
    from unet.evaluate import boundary

    pred, target = _image()
    scores = image_scores(pred, target, 4, ignore_index=255, tolerance=tolerance)
    monkeypatch.setattr(boundary, "_cropped", lambda *masks: masks)
    whole = image_scores(pred, target, 4, ignore_index=255, tolerance=tolerance)
    np.testing.assert_allclose(scores["hd95"], whole["hd95"])
    np.testing.assert_allclose(scores["boundary_f1"], whole["boundary_f1"])
    valid = target != 255
    for c in range(3):  # the ignored pixels border class 3 only
        p, t = (pred == c) & valid, (target == c) & valid
        assert scores["hd95"][c] == pytest.approx(hd95(p, t))
        assert scores["boundary_f1"][c] == pytest.approx(boundary_f1(p, t, tolerance))
