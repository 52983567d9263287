"""New images' masks (predict_folder, `unet predict`) are written with scratch files as large as
the mask's values (and the probabilities at the model's size) beside each: a disk too small is
refused before the first mask, as predict_masks' is, naming the folder, the bytes and the free."""

from __future__ import annotations

import re
import shutil
from collections import namedtuple

import numpy as np
import pytest
from PIL import Image

from tests.test_predict_resume import _model
from unet.cli import main
from unet.infer.predict import PredictSettings
from unet.infer.predict_folder import predict_folder

Usage = namedtuple("Usage", "total used free")
H, W = 500, 600  # 2 classes' probabilities over 1 MiB: mapped, with scratch files


def _inputs(tmp_path):
    folder = tmp_path / "new"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(2):
        Image.fromarray(rng.integers(0, 255, (H, W, 3), np.uint8)).save(folder / f"im{k}.png")
    return _model(tmp_path / "model.pt"), folder


def test_predict_folder_refuses_a_disk_too_small_before_any_mask(tmp_path, monkeypatch):
    model, folder = _inputs(tmp_path)
    need = 2 * W * H + 4 * 2 * 12 * 16  # its values' map and PNG, float32 at the model's size
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 0, need // 2))
    with pytest.raises(OSError, match=r"{} .* \b{} MB at most .* {} MB free".format(
            re.escape(str(tmp_path / "out")), f"{need / 1e6:.1f}", f"{need // 2 / 1e6:.1f}")):
        predict_folder([model], folder, tmp_path / "out", PredictSettings(device="cpu"))
    assert not list((tmp_path / "out").rglob("*.png"))
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 0, need))
    assert predict_folder([model], folder, tmp_path / "out", PredictSettings(device="cpu")) == 2


def test_unet_predict_refuses_a_disk_too_small_before_any_mask(tmp_path, monkeypatch, capsys):
    model, folder = _inputs(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 0, 1000))
    assert main(["predict", str(model), str(folder), "-o", str(tmp_path / "out"), "--device",
                 "cpu"]) != 0
    assert "0.0 MB free: free space" in capsys.readouterr().err
    assert not list((tmp_path / "out").rglob("*.png"))
