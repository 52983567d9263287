"""Predicting new images reads each image's header once: its size and mode serve the checks
of sizes and bands and the warning on values wider than the model learnt."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from unet.cache import intensity
from unet.common import imageio
from unet.infer import input_checks, predict_folder
from unet.infer.forward import PredictSettings
from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig


def _model(path, meta_extra: dict):
    torch.manual_seed(0)
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)
    meta = {"class_values": [0, 255], "size": [16, 12], "in_channels": 3, "num_classes": 2,
            "mask_bits": 8, "mode": "resize", **meta_extra}
    record = checkpoint.model_record(cfg.to_dict(), build_model(cfg, pretrained=False)
                                     .state_dict(), meta, {}, 1, None, [0.5, 0.5], "")
    checkpoint.save(path, record)
    return path


def test_each_new_image_header_is_read_once(tmp_path, monkeypatch):
    # A model that learnt 8-bit images (today's default, intensity: dataset, no range) had
    # every new image's header opened again for its mode by the wide-values warning: three
    # header reads an image where one served (0.1 ms CPU an image, ~5 % of predicting 64x64
    # images in batches of 8).
    rng = np.random.default_rng(0)
    files = []
    for k, mode in enumerate(("RGB", "L", "RGB", "I;16")):
        files.append(tmp_path / f"im{k}.png")
        shape = (12, 16) if mode in ("L", "I;16") else (12, 16, 3)
        dtype = np.uint16 if mode == "I;16" else np.uint8
        Image.fromarray(rng.integers(0, 255, shape).astype(dtype)).save(files[-1])
    opened = []
    real = imageio.image_header

    def counted(path):
        opened.append(str(path))
        return real(path)

    for module in (predict_folder, input_checks, intensity):
        monkeypatch.setattr(module, "image_header", counted)
    for n, extra in enumerate(({"intensity": "dataset", "intensity_range": None},
                               {"intensity": "dataset", "intensity_range": [0, 4095]})):
        opened.clear()
        model = _model(tmp_path / f"model{n}.pt", extra)
        # a folder each: masks of another model in the same folder are refused (infer.resume)
        predict_folder.predict_files([model], files, tmp_path / f"out{n}",
                                     PredictSettings(device="cpu", batch_size=4))
        assert sorted(opened) == sorted(map(str, files)), extra
        assert len(list((tmp_path / f"out{n}").glob("*.png"))) == len(files)
