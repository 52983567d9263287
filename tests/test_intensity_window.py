"""preprocess.intensity_window: a fixed [low, high] (CT's level and width in Hounsfield units)
that every image is clipped to and scaled by, recorded as the model's intensity_range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.cache.intensity import training_range
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings, settings_from_config
from unet.common.applicable import applicable
from unet.common.decoders import scaled_8_bits
from unet.common.fileio import write_json
from unet.config.checks import ConfigError, check_intensity_window
from unet.infer.predict_folder import _model_input
from unet.model.checkpoint import model_record
from unet.model.export import input_note

W, H = 24, 20
AIR, TISSUE, LIVER, BONE = -1000, 40, 60, 1200  # Hounsfield units
ABDOMEN = (-200.0, 300.0)


def _ct(root: Path) -> Path:
    """Six int16 slices: air around a body of soft tissue, a liver square, a bone pixel."""
    pairs = []
    for i in range(6):
        img = np.full((H, W), AIR, np.int16)
        img[2:18, 2:22] = TISSUE
        img[5:12, 4 + i:12 + i] = LIVER
        img[15, 20] = BONE
        mask = np.zeros((H, W), np.uint8)
        mask[5:12, 4 + i:12 + i] = 1
        tifffile.imwrite(root / f"s{i}.tif", img)
        Image.fromarray(mask).save(root / f"m{i}.png")
        pairs.append({"id": f"p{i}", "image": str(root / f"s{i}.tif"),
                      "mask": str(root / f"m{i}.png"), "size": [W, H]})
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ["p0", "p1", "p2", "p3"], "val": ["p4"],
                                     "test": ["p5"]})
    return root


def _cache(root: Path, window: tuple[float, float] | None) -> dict:
    return preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H, intensity_window=window))


def test_the_window_scales_training_and_new_slices_alike(tmp_path):
    # Without a window the data set's range ran from air to bone, -1024..1200: liver (60 HU)
    # and the tissue around it (40 HU) lay 2 grey levels apart, and no key set CT's window.
    root = _ct(tmp_path)
    meta = _cache(root, ABDOMEN)
    assert meta["intensity_range"] == list(ABDOMEN)
    test = np.load(root / "cache" / "test_images.npy")[0, ..., 0]
    want = scaled_8_bits(tifffile.imread(root / "s5.tif"), *ABDOMEN)
    assert np.array_equal(test, want)
    assert test[0, 0] == 0 and test[15, 20] == 255  # air and bone clipped to the window
    assert int(test[6, 9]) - int(test[3, 3]) >= 10  # liver vs tissue, 20 HU: 2 levels before
    # unet predict and predict_folder read a new slice by the same window, from model.pt
    record = model_record({}, {}, meta, {}, 1, None, [], "")
    arr, _ = _model_input(root / "s5.tif", record, meta["in_channels"])
    assert np.array_equal(arr[..., 0], test)
    assert "intensity_range [-200.0, 300.0]" in input_note(record)["values"]


def test_without_a_window_negative_values_are_read_as_such(tmp_path):
    meta = _cache(_ct(tmp_path), None)
    assert meta["intensity_range"] == [AIR, BONE]  # int16 air neither wrapped nor cut at 0


def test_a_window_over_8_bit_images_is_not_recorded(tmp_path):
    # 8-bit images are never rescaled: a window recorded for them would scale only the wide
    # images given to the model later
    path = tmp_path / "a.png"
    Image.fromarray(np.zeros((H, W), np.uint8)).save(path)
    assert training_range([str(path)], False, PreprocessSettings(intensity_window=ABDOMEN),
                          1) is None


def test_the_window_replaces_the_ranges_keys():
    cfg = {"mode": "resize", "intensity": "image", "intensity_top": 99.9}
    assert "intensity_window" not in applicable("preprocess", {**cfg, "intensity_window": None})
    used = applicable("preprocess", {**cfg, "intensity_window": [-200, 300]})
    assert used["intensity_window"] == [-200, 300]
    assert "intensity" not in used and "intensity_top" not in used
    got = settings_from_config({**cfg, "intensity_window": [-200, 300]}, {
        "values": None, "threshold": None, "ignore": None})
    assert got.intensity_window == ABDOMEN


@pytest.mark.parametrize("window", [[300, -200], [100, 100]])
def test_an_empty_window_is_refused_naming_the_key(window):
    with pytest.raises(ConfigError, match=r"preprocess\.intensity_window.*low"):
        check_intensity_window({"intensity_window": window})


def test_unet_info_names_the_window(monkeypatch):
    # unet info said nothing of the range a model scales wide images by: a colleague given
    # model.pt could not tell which CT window it learnt
    import torch

    from tests.test_info_many_classes import _ckpt
    from unet.model import checkpoint, describe

    for span, want in (([-200.0, 300.0], "clipped to [-200, 300]"), (None, "its own range")):
        ckpt = {**_ckpt([0.9, 0.8]), "intensity_range": span, "intensity": "dataset"}
        monkeypatch.setattr(checkpoint, "load_model",
                            lambda path, c=ckpt: (torch.nn.Linear(1, 1), c))
        (line,) = [x for x in describe.describe_model("m.pt").splitlines()
                   if x.startswith("intensity")]
        assert want in line
