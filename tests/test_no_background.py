"""masks.background: false, for data sets whose every class is an object class (Cityscapes'
road is class 0, ADE20K's wall too once 'other' is ignored): class 0 counts in the loss's
Dice, the model selection, the CRF tuning, the final choice and the report's scores, and is
painted in the overlays. It was always left out as background, so Cityscapes' road never
counted in the scores."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from tests.test_value_groups import ROAD, SIDEWALK, _label_ids, _masks
from tests.test_value_spaces import H, W, _preprocess, _train_and_predict
from unet.cache.settings import settings_from_config
from unet.common.labels import MaskMapping, mapping_from_meta
from unet.model import checkpoint
from unet.train.losses import DiceCELoss


def _cityscapes(tmp_path, background: bool) -> dict:
    _label_ids(tmp_path)
    masks = _masks(values=[ROAD, SIDEWALK, [26, 27, 28]], unlisted="ignore",
                   background=background)
    return _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))


@pytest.mark.parametrize("background", [True, False])
def test_the_flag_travels_with_the_cache_and_the_model(tmp_path, background):
    meta = _cityscapes(tmp_path, background)
    assert meta["background"] is background
    assert mapping_from_meta(meta).background is background
    _train_and_predict(tmp_path)
    model = checkpoint.load(tmp_path / "model.pt")
    assert mapping_from_meta(model).background is background
    with open(tmp_path / "history.csv") as f:
        row = list(csv.DictReader(f))[-1]
    per_class = [float(row[f"val_dice_{c}"]) for c in range(3)]
    scored = per_class if not background else per_class[1:]
    assert float(row["val_dice"]) == pytest.approx(np.mean(scored))


def test_the_loss_counts_class_0_in_its_dice():
    target = torch.zeros(1, 4, 4, dtype=torch.long)
    target[0, :2] = 1
    logits = torch.zeros(1, 2, 4, 4)
    logits[0, 1] = 5.0  # everything class 1: class 0's Dice is 0, class 1's about 0.67
    with_bg = DiceCELoss(2, first=1)(logits, target)
    assert DiceCELoss(2, first=0)(logits, target).item() > with_bg.item() + 0.2


def test_evaluation_scores_every_class(tmp_path):
    from unet.evaluate.evaluate import evaluate_masks

    truth = _label_ids(tmp_path)
    for background in (True, False):
        _cityscapes(tmp_path, background)
        pred = tmp_path / f"pred{background}"
        pred.mkdir()
        values = np.array([ROAD, SIDEWALK, 26], np.uint8)
        for i in (6, 7):
            guess = np.where(truth[i] == 255, 0, truth[i])
            guess[: H // 2][guess[: H // 2] == 0] = 1  # half the road called sidewalk
            Image.fromarray(values[guess]).save(pred / f"p{i}.png")
        summary = evaluate_masks(tmp_path / "manifest.json", tmp_path / "cache" / "meta.json",
                                 {"raw": pred}, tmp_path / "pi.csv", tmp_path / "s.json")
        raw = summary["methods"]["raw"]
        dice = [raw["classes"][str(c)]["global"]["dice"] for c in range(3)]
        assert raw["foreground_dice_global"] == pytest.approx(
            np.mean(dice[1:] if background else dice))
        assert summary["scored_classes"] == ([1, 2] if background else [0, 1, 2])


def test_overlays_paint_class_0_and_the_legend_names_it(tmp_path, legend_labels):
    from unet.report.figures import class_colours, class_layer, plot_overlays

    mask = np.zeros((20, 30), np.uint8)
    mask[2:8, 2:8], mask[10:15, 10:20] = 1, 2
    Image.fromarray(mask).save(tmp_path / "m.png")
    Image.fromarray(mask * 80).save(tmp_path / "img.png")
    mapping = MaskMapping((0, 1, 2), background=False)
    colours = class_colours(mapping)
    assert len({tuple(c) for c in colours}) == 3  # class 0 has a colour of its own
    assert not np.ma.getmaskarray(class_layer(tmp_path / "m.png", mapping)).any()
    rows = [{"id": "a", "image": tmp_path / "img.png", "panels": [("gt", tmp_path / "m.png")]}]
    plot_overlays(rows, tmp_path / "o.png", mapping)
    assert legend_labels == ["class 0 (0)", "class 1 (1)", "class 2 (2)"]
