"""A new image that cannot be read, named with advice that fits a new image: it has no mask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_predict_batches import _model
from unet.common.imageio import ImageReadError
from unet.infer.forward import PredictSettings
from unet.infer.predict_folder import predict_files, predict_folder


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "new"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (20, 30, 3), np.uint8)).save(folder / "a.png")
    return folder


def _cut_short(path: Path) -> None:
    """A PNG whose header reads but whose pixels stop half way."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", ["garbage", "cut"])
def test_damaged_new_image_is_not_told_of_a_mask(tmp_path, damage):
    folder = _folder(tmp_path)
    bad = folder / "b.png"
    if damage == "garbage":
        bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not a png at all" * 4)
    else:
        Image.fromarray(np.full((20, 30, 3), 7, np.uint8)).save(bad)
        _cut_short(bad)
    model = _model(tmp_path / "model.pt")
    with pytest.raises(ImageReadError) as err:
        predict_folder([model], folder, tmp_path / "out", PredictSettings(device="cpu"))
    text = str(err.value)
    assert "b.png" in text and "mask" not in text, text
    assert "predict without it" in text, text


def test_damaged_named_image_is_not_told_of_a_mask(tmp_path):
    folder = _folder(tmp_path)
    bad = folder / "c.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 40)
    model = _model(tmp_path / "model.pt")
    with pytest.raises(ImageReadError) as err:
        predict_files([model], [bad], tmp_path / "out", PredictSettings(device="cpu"))
    assert "c.jpg" in str(err.value) and "mask" not in str(err.value), str(err.value)
