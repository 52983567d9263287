"""A 16-bit or float image given to a model that learnt 8-bit images only: the model has no
range to scale it by, so each is scaled by its own, a guess that `unet predict` names."""

from __future__ import annotations

import logging

import imagecodecs
import numpy as np
import tifffile
from PIL import Image

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.infer.input_checks import warn_unprepared_values
from unet.model.checkpoint import model_record

W, H = 16, 12
EIGHT_BIT = {"intensity": "dataset", "intensity_range": None}


def _eight_bit_cache(root):
    pairs = []
    for i in range(4):
        img = np.full((H, W, 3), 40 * i, np.uint8)
        mask = np.zeros((H, W), np.uint8)
        mask[2:8, 3 + i:9 + i] = 255
        Image.fromarray(img).save(root / f"i{i}.png")
        Image.fromarray(mask).save(root / f"m{i}.png")
        pairs.append({"id": f"p{i}", "image": str(root / f"i{i}.png"),
                      "mask": str(root / f"m{i}.png"), "size": [W, H]})
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ["p0", "p1"], "val": ["p2"], "test": ["p3"]})
    return preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H))


def test_the_model_records_that_it_learnt_eight_bit_images(tmp_path):
    meta = _eight_bit_cache(tmp_path)
    record = model_record({}, {}, meta, {}, 1, None, [], "")
    assert {k: record[k] for k in EIGHT_BIT} == EIGHT_BIT


def _new_images(tmp_path):
    grey16, floats, colour16, plain = (tmp_path / n for n in
                                       ("g16.png", "f.tif", "rgb16.png", "rgb8.png"))
    Image.fromarray(np.full((H, W), 4000, np.uint16)).save(grey16)
    tifffile.imwrite(floats, np.full((H, W), 0.5, np.float32))
    colour16.write_bytes(imagecodecs.png_encode(np.full((H, W, 3), 4000, np.uint16)))
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(plain)
    return [grey16, floats, colour16, plain]


def test_wide_new_images_are_named(tmp_path, caplog):
    files = _new_images(tmp_path)
    with caplog.at_level(logging.WARNING):
        warn_unprepared_values(files, {**EIGHT_BIT, "in_channels": 3})
    text = caplog.text
    assert all(f.name in text for f in files[:3]) and "rgb8.png" not in text
    assert "its own range" in text and "8 bits" in text


def test_no_word_where_the_model_has_a_range_or_scales_each_image(tmp_path, caplog):
    files = _new_images(tmp_path)
    with caplog.at_level(logging.WARNING):
        for ckpt in ({"intensity": "dataset", "intensity_range": [0, 4095]},
                     {"intensity": "image", "intensity_range": None},
                     {"intensity_range": None}):  # an older model: not known
            warn_unprepared_values(files, {**ckpt, "in_channels": 3})
        warn_unprepared_values(files[3:], {**EIGHT_BIT, "in_channels": 3})
    assert "8-bit images only" not in caplog.text  # (f.tif in [0, 1]: nearly black by 4095)
