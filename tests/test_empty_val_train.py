"""Training on a cache whose val part is empty (a split.json written by hand or by another
tool: preprocess caches empty parts in either mode) is refused before an epoch, naming it."""

import pytest

from tests.conftest import write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.train.settings import PatchSettings, TrainingError, TrainSettings
from unet.train.train import train_unet


@pytest.mark.parametrize("mode", ["resize", "native"])
def test_an_empty_val_part_is_refused_before_training(tmp_path, mode):
    # Resize mode trained a whole epoch, then stopped with ZeroDivisionError in validation;
    # native mode validated on nothing (loss 0, Dice 0) and kept an arbitrary epoch.
    pairs = [write_pair(tmp_path, i) for i in range(6)]
    write_inputs(tmp_path, pairs)
    ids = [p["id"] for p in pairs]
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": [], "test": ids[4:]})
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
               PreprocessSettings(mode=mode, width=16, height=16))
    patch = PatchSettings(size=[16, 16]) if mode == "native" else PatchSettings()
    settings = TrainSettings(epochs=1, batch_size=2, device="cpu", patch=patch)
    with pytest.raises(TrainingError) as err:
        train_unet(tmp_path / "cache", tmp_path / "model.pt", tmp_path / "history.csv",
                   tmp_path / "ck", {"depth": 2, "base_width": 4}, settings)
    text = str(err.value)
    assert "val part is empty" in text and "split.json" in text
    assert not (tmp_path / "model.pt").exists() and not (tmp_path / "history.csv").exists()
