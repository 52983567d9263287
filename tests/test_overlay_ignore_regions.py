"""The overlays' ground-truth panel marks dataset.<source>.ignore_regions' pixels as not scored,
as it marks masks.ignore's and roi's outside: it painted them as labelled, though no score
counted them."""

from __future__ import annotations

import numpy as np
from PIL import Image

from unet.common.labels import IGNORE_INDEX, MaskMapping
from unet.report import figures


def _files(tmp_path) -> dict:
    """A 12x12 image, its mask (a nucleus at columns 2:8), a vague band (rows 0:4) across it and
    a predicted mask; the manifest pair and the per-image scores write_overlays reads."""
    Image.fromarray(np.full((12, 12), 90, np.uint8)).save(tmp_path / "img.png")
    mask = np.zeros((12, 12), np.uint8)
    mask[:, 2:8] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    vague = np.zeros((12, 12), np.uint8)
    vague[:4] = 255
    Image.fromarray(vague).save(tmp_path / "vague.png")
    (tmp_path / "raw").mkdir()
    Image.fromarray(mask).save(tmp_path / "raw" / "a.png")
    (tmp_path / "per_image.csv").write_text(
        "id,method,class,dice,target_px,predicted_px\na,raw,1,1.0,72,72\n")
    return {"id": "a", "image": str(tmp_path / "img.png"), "mask": str(tmp_path / "mask.png"),
            "ignore_regions": str(tmp_path / "vague.png")}


def test_ground_truth_panel_shows_the_regions_to_ignore_as_ignored(tmp_path, monkeypatch):
    pair = _files(tmp_path)
    layers, figs = [], []
    real = figures.class_layer
    monkeypatch.setattr(figures, "class_layer", lambda *a: layers.append(real(*a)) or layers[-1])
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: figs.append(fig))
    figures.write_overlays(tmp_path / "per_image.csv", {"pairs": [pair]},
                           {"raw": tmp_path / "raw"}, tmp_path / "o.png", MaskMapping((0, 255)))
    truth, raw = (np.asarray(layer.data) for layer in layers)
    assert (truth[:4] == IGNORE_INDEX).all()  # the vague band, over the nucleus too
    assert (truth[4:, 2:8] == 1).all() and int((truth == IGNORE_INDEX).sum()) == 4 * 12
    # unlike roi's outside, the masks keep what the model said there: shown as it is
    assert not (raw == IGNORE_INDEX).any() and (raw[:, 2:8] == 1).all()
    texts = [t.get_text() for t in figs[0].legends[0].get_texts()]
    assert "ignored (not scored)" in texts  # its colour named, as for roi


def test_without_regions_the_ground_truth_is_as_labelled(tmp_path):
    pair = _files(tmp_path)
    layer = figures.class_layer(pair["mask"], MaskMapping((0, 255)), None, None, None)
    assert not (np.asarray(layer.data) == IGNORE_INDEX).any()
