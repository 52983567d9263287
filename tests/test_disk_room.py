"""Prediction writes float16 probabilities of every class at each image's original size (for
the CRF and the final choice): Cityscapes' 19 classes at 2048x1024 are 80 MB an image. A disk
too small is named before the first file, not found full after hours of prediction."""

from __future__ import annotations

import shutil
from collections import namedtuple

import pytest

from tests.test_value_groups import ROAD, SIDEWALK, _label_ids, _masks
from tests.test_value_spaces import H, W, _preprocess
from unet.cache.settings import settings_from_config
from unet.common.probs import check_room
from unet.infer.predict import PredictSettings, predict_masks
from unet.train.settings import TrainSettings
from unet.train.train import train_unet

Usage = namedtuple("Usage", "total used free")


def test_the_room_probabilities_need_is_checked(tmp_path, monkeypatch):
    need = 19 * 2048 * 1024 * 2 * 500
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 0, need // 2))
    with pytest.raises(OSError, match=r"(39|40)\.\d GB of probabilities .* 500 images .* 19 classes"
                                      r".* 19\.\d GB free"):
        check_room(tmp_path / "pred" / "test", 19, [(2048, 1024)] * 500)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 0, need * 2))
    check_room(tmp_path / "pred" / "test", 19, [(2048, 1024)] * 500)  # room enough


def test_prediction_stops_before_writing_when_the_disk_is_too_small(tmp_path, monkeypatch):
    _label_ids(tmp_path)
    masks = _masks(values=[ROAD, SIDEWALK, [26, 27, 28]], unlisted="ignore")
    _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    train_unet(tmp_path / "cache", tmp_path / "model.pt", tmp_path / "h.csv", tmp_path / "ck",
               {"depth": 2, "base_width": 4}, TrainSettings(epochs=1, batch_size=2, device="cpu"))
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**9, 0, 1000))
    with pytest.raises(OSError, match="probabilities"):
        predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "pred",
                      PredictSettings(device="cpu"))
    assert not list((tmp_path / "pred").rglob("*.png"))
