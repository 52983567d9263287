"""A folder of new images with several bad ones: every bad one named in one error, not one a
run, and the masks of the good ones complete and kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from tests.test_predict_batches import _model
from unet.common.imageio import ImageReadError
from unet.infer.forward import PredictSettings
from unet.infer.predict_folder import predict_folder
from unet.infer.resume import RECORD  # the record beside the masks
from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig

GOOD = ("a.png", "c.png", "e.png")


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "new"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in GOOD:
        Image.fromarray(rng.integers(0, 255, (20, 30, 3), np.uint8)).save(folder / name)
    return folder


def _cut_short(path: Path) -> None:
    """A PNG whose header reads but whose pixels stop half way."""
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (20, 30, 3), np.uint8)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _patch_model(path: Path) -> Path:
    """A model trained on 8x8 patches: it predicts by a sliding window, an image at a time."""
    torch.manual_seed(3)
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)
    meta = {"class_values": [0, 255], "size": None, "in_channels": 3, "num_classes": 2,
            "mask_bits": 8, "mode": "native"}
    checkpoint.save(path, checkpoint.model_record(
        cfg.to_dict(), build_model(cfg, pretrained=False).state_dict(), meta,
        {"patch": {"size": [8, 8]}}, 1, None, [0.5, 0.5], ""))
    return path


def _predict(tmp_path: Path, folder: Path, batch_size: int = 2) -> int:
    """batch_size 0: a patch-trained model's sliding window."""
    model = _patch_model if batch_size == 0 else _model
    return predict_folder([model(tmp_path / "model.pt")], folder, tmp_path / "out",
                          PredictSettings(device="cpu", batch_size=max(batch_size, 1)))


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


@pytest.mark.parametrize("batch_size", [0, 1, 4])
def test_truncated_images_all_named_and_good_masks_kept(tmp_path, batch_size):
    # A file cut off mid-pixels shows only at decode: the run stopped there, naming it, and the
    # images after it (good or cut off too) were never reached.
    folder = _folder(tmp_path)
    for name in ("b.png", "d.png"):
        _cut_short(folder / name)
    with pytest.raises(ImageReadError) as err:
        _predict(tmp_path, folder, batch_size)
    text = str(err.value)
    assert "b.png" in text and "d.png" in text and "its mask" not in text, text
    assert "3 others' masks are written" in text, text
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir() if p.name != RECORD) == sorted(GOOD)  # no scratch
    for name in GOOD:
        with Image.open(out / name) as im:
            im.load()
            assert im.size == (30, 20)
    kept = {name: (out / name).stat().st_mtime_ns for name in GOOD}
    for name in ("b.png", "d.png"):  # replaced: a rerun predicts those two, not all five
        Image.open(folder / "a.png").save(folder / name)
    assert _predict(tmp_path, folder, batch_size) == 2
    assert {name: (out / name).stat().st_mtime_ns for name in GOOD} == kept
    assert len(list(out.glob("*.png"))) == 5
