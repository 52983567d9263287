"""A folder of new images with several bad ones: every bad one named in one error, not one a
run, and the masks of the good ones complete and kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.test_predict_batches import _model
from unet.common.imageio import ImageReadError
from unet.infer.forward import PredictSettings
from unet.infer.predict_folder import predict_folder

GOOD = ("a.png", "c.png", "e.png")


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "new"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in GOOD:
        Image.fromarray(rng.integers(0, 255, (20, 30, 3), np.uint8)).save(folder / name)
    return folder


def _predict(tmp_path: Path, folder: Path, batch_size: int = 2) -> int:
    return predict_folder([_model(tmp_path / "model.pt")], folder, tmp_path / "out",
                          PredictSettings(device="cpu", batch_size=batch_size))


def test_every_unreadable_header_is_named_before_any_mask(tmp_path):
    # The header pass stopped at the first bad file: a user with three reran three times.
    folder = _folder(tmp_path)
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not a png at all" * 4)
    (folder / "d.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 40)
    (folder / "f.png").write_bytes(b"")
    with pytest.raises(ImageReadError) as err:
        _predict(tmp_path, folder)
    text = str(err.value)
    assert all(name in text for name in ("b.png", "d.jpg", "f.png")), text
    assert text.count("predict without it") == 1 and "mask" not in text, text
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


def test_unreadable_and_wrong_bands_are_named_together(tmp_path):
    # A 4-band TIFF into a 3-channel model was refused only after the unreadable file was fixed.
    folder = _folder(tmp_path)
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not a png at all" * 4)
    for name in ("g.tif", "h.tif"):
        tifffile.imwrite(folder / name, np.zeros((20, 30, 4), np.uint8), planarconfig="contig",
                         photometric="minisblack")
    with pytest.raises(ValueError) as err:
        _predict(tmp_path, folder)
    text = str(err.value)
    assert all(name in text for name in ("b.png", "g.tif", "h.tif")), text
    assert "has 4 bands; the model reads 3" in text, text
