"""The overlays' ground-truth panel marks the scene's no-data pixels as the scores skip them."""

from __future__ import annotations

import numpy as np
from PIL import Image

from unet.common.labels import IGNORE_INDEX, MaskMapping
from unet.report import figures


def _scene(tmp_path):
    """An RGBA tile whose right third is outside the mosaic (alpha 0), labelled 0 there."""
    rgba = np.full((12, 12, 4), 90, np.uint8)
    rgba[..., 3] = 255
    rgba[:, 8:] = (255, 255, 255, 0)
    Image.fromarray(rgba).save(tmp_path / "scene.png")
    label = np.zeros((12, 12), np.uint8)
    label[:, 2:5] = 255  # a road
    Image.fromarray(label).save(tmp_path / "label.png")
    return tmp_path / "scene.png", tmp_path / "label.png"


def test_ground_truth_panel_shows_the_fill_as_ignored(tmp_path, monkeypatch):
    # the ground truth panel painted the fill as background while the predicted masks' panels
    # (which hold masks.ignore there) showed it ignored: the same pixels, two stories
    scene, label = _scene(tmp_path)
    mapping = MaskMapping((0, 255), ignore=128)
    layers = []
    real = figures.class_layer
    monkeypatch.setattr(figures, "class_layer", lambda *a: layers.append(real(*a)) or layers[-1])
    row = {"id": "t", "image": str(scene), "panels": [("ground truth", str(label))]}
    figures.plot_overlays([row], tmp_path / "o.png", mapping)
    truth = layers[0]
    assert (truth.data[:, 8:] == IGNORE_INDEX).all() and (truth.data[:, 2:5] == 1).all()
    assert int((truth.data == IGNORE_INDEX).sum()) == 12 * 4


def test_without_ignore_the_ground_truth_is_as_labelled(tmp_path):
    scene, label = _scene(tmp_path)
    layer = figures.class_layer(label, MaskMapping((0, 255)), None, scene)
    assert not (layer.data == IGNORE_INDEX).any()
