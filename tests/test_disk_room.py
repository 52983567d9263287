"""Prediction writes float16 probabilities of every class at each image's original size (for
the CRF and the final choice): Cityscapes' 19 classes at 2048x1024 are 80 MB an image. A disk
too small is named before the first file, not found full after hours of prediction."""

from __future__ import annotations

import os
import shutil
from collections import namedtuple

import numpy as np
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


def _wide_cache(root, sizes, scale: float = 1.0):
    """A native cache (times `scale`) whose test split is the images of `sizes` (w, h), and
    root/model.pt (64x64 tiles, 2 classes)."""
    from tests.conftest import write_inputs
    from tests.test_native_predict import _model
    from tests.test_patches import _pairs
    from unet.cache.preprocess import preprocess
    from unet.cache.settings import PreprocessSettings

    pairs = _pairs(root, [(40, 30)] * 3 + sizes)
    write_inputs(root, pairs)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(mode="native", scale=scale,
                                                     mask_values=(0, 255)))
    _model(meta, root / "model.pt", (64, 64))


def test_a_wide_images_column_scratch_is_counted(tmp_path, monkeypatch):
    """A wide image's column bands go to a scratch file as large as its probabilities, beside
    them: the check counted only the probabilities, passed, and the disk filled mid-image."""
    _wide_cache(tmp_path, [(256, 1100), (1100, 256)])  # tall (rows), then wide (columns)
    probs = 2 * 2 * 256 * 1100
    need = 2 * (probs + 128)  # both images' probabilities: the old check's figure
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 0, need + probs // 2))
    extra = probs + 256 * 1100  # and its mask's uint8 values
    mb = [f"{n / 1e6:.1f} MB" for n in (extra, need + extra, need + probs // 2)]
    with pytest.raises(OSError, match=r"writes p4, {} of scratch files beside .*: {} at most"
                                      r".* {} free: free space".format(*mb)):
        predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "pred",
                      PredictSettings(device="cpu"))
    assert not list((tmp_path / "pred").rglob("*.npy"))


def test_a_scaled_caches_float32_map_and_the_masks_values_are_counted(tmp_path, monkeypatch):
    """At scale 0.5 the writer holds the cached-size float32 probabilities (to resize) and the
    mask's values beside the probabilities: the check counted neither, passed, and a 40k x 40k
    slide on a nearly full disk failed mid-write. Now it refuses first, naming the image."""
    _wide_cache(tmp_path, [(256, 1100)], scale=0.5)  # tall: rows, no column scratch
    probs = 2 * 2 * 256 * 1100 + 128
    held = 4 * 2 * 128 * 550 + 256 * 1100  # float32 at 128x550, uint8 values at 256x1100
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 0, probs + held // 2))
    mb = [f"{n / 1e6:.1f} MB" for n in (held, probs + held)]
    with pytest.raises(OSError, match=r"writes p3, {} of scratch files beside .*: {} at "
                                      r"most".format(*mb)):
        predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "pred",
                      PredictSettings(device="cpu"))
    assert not list((tmp_path / "pred").rglob("*.npy"))


@pytest.mark.parametrize(("cached", "original", "tile"), [
    ((256, 1100), (256, 1100), 64),  # wide: columns, float16 probabilities
    ((128, 550), (256, 1100), 32),  # a scaled cache: float32 at the cached size
    ((550, 128), (1100, 256), 32),  # a scaled cache, rows: its float32 map alone
    ((1100, 256), (1100, 256), 64),  # tall: rows, no scratch
    ((256, 1100), (256, 1100), 1200),  # one tile spans its width: one band, no scratch
    ((64, 1100), (64, 1100), 32),  # small enough to be held in memory
])
def test_the_counted_scratch_is_the_one_the_writer_fills(tmp_path, monkeypatch, cached,
                                                          original, tile):
    """column_bands, column_scratch and scratch_bytes take the writer's and the window's path:
    the room counted is the scratch files the writer fills, and none where it fills none."""
    from unet.common.labels import MaskMapping
    from unet.infer.tiles import NO_FLIPS, Window, column_bands, window_bands
    from unet.infer.writer import PredictionWriter, column_scratch, scratch_bytes
    from unet.model.unet import UNet, UNetConfig

    net = UNet(UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)).eval()
    image, window = np.zeros((*cached, 3), np.uint8), Window((tile, tile), 0.5, 8, 4)
    filled, held, finish = [], [], PredictionWriter._finish

    def measure(self):  # before the column bands are copied: every scratch file held
        if self._strips:
            self._strip_file.flush()
            filled.append(os.path.getsize(self._strip_path))
        held.append(sum(os.path.getsize(p) for p in self._tmp if p != self._probs_tmp))
        finish(self)

    monkeypatch.setattr(PredictionWriter, "_finish", measure)
    with PredictionWriter(tmp_path / "m.png", tmp_path / "p.npy", MaskMapping((0, 255)),
                          cached, original) as out:
        for y, x, band in window_bands([net], image, window, NO_FLIPS, None):
            out.add(y, band, x)
    columns = column_bands(*cached, window)
    assert column_scratch(2, cached, original, columns) == sum(filled)
    assert scratch_bytes(2, cached, original, columns) == held[0]


def test_the_scratch_counts_over_the_probabilities_written_before_it(tmp_path, monkeypatch):
    """The scratch is held while its image is written: over the files before it, not after."""
    files = 2 * (2 * 2 * 1100 * 256 + 128)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 0, files))
    sizes, scratch = [(1100, 256), (256, 1100)], 2 * 2 * 1100 * 256
    check_room(tmp_path, 2, sizes, [("wide", scratch), ("tall", 0)])  # wide first: fits
    check_room(tmp_path, 2, sizes, [("wide", 0), ("tall", 0)])  # no scratch: as before
    with pytest.raises(OSError, match="while it writes wide"):
        check_room(tmp_path, 2, sizes[::-1], [("tall", 0), ("wide", scratch)])
