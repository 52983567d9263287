"""3-channel inputs that are bands, not red, green and blue (an ImageJ/OME hyperstack's DAPI,
GFP and mCherry; band_files' SAR VV, VH and ratio): the cache and the model file record it, and
augmentation, `unet info`, ONNX metadata and `unet predict`'s input check read them as bands.
Before, three channels meant RGB everywhere: ColorJitter pulled each band towards a grey of
0.299, 0.587 and 0.114 of the three."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import v2

from tests.test_hyperstack_bands import _cells, _save
from tests.test_value_spaces import H, W, _disc, _preprocess, _write_split
from unet.cache.settings import PreprocessSettings
from unet.common.channels import channels_are_bands
from unet.dataset.band_files import stack_bands
from unet.infer.input_checks import check_headers
from unet.train import augment

JITTER = augment.AugmentSettings(flip=False, rot90=False, scale=None, brightness=0.0,
                                 contrast=0.5, noise=0.0, crop=None, elastic=0.0)


def _colour(root, n: int = 8) -> None:
    """RGB PNGs of a disc in the red channel."""
    pairs = []
    for i in range(n):
        disc = _disc(i) > 0.5
        rgb = np.full((H, W, 3), 60, np.uint8)
        rgb[disc, 0] = 220
        Image.fromarray(rgb).save(root / f"img{i}.png")
        Image.fromarray(disc.astype(np.uint8) * 255).save(root / f"msk{i}.png")
        pairs.append({"id": f"p{i}", "image": str(root / f"img{i}.png"),
                      "mask": str(root / f"msk{i}.png"), "size": [W, H]})
    _write_split(root, pairs)


def _jitter(meta: dict, image: torch.Tensor, seed: int = 3) -> torch.Tensor:
    """`image` (3, H, W) through the training augmentation built for `meta`'s data."""
    transform = augment.build(JITTER, (H, W), meta["in_channels"], channels_are_bands(meta))
    torch.manual_seed(seed)
    return augment.apply(transform, image, torch.zeros(H, W, dtype=torch.uint8))[0]


def test_a_3_channel_hyperstack_cache_records_bands_and_colour_records_nothing(tmp_path):
    (tmp_path / "cells").mkdir(), (tmp_path / "rgb").mkdir()
    _cells(tmp_path / "cells", 3)
    meta = _preprocess(tmp_path / "cells", PreprocessSettings(width=W, height=H))
    assert meta["in_channels"] == 3 and meta["bands"] is True and channels_are_bands(meta)
    _colour(tmp_path / "rgb")
    meta = _preprocess(tmp_path / "rgb", PreprocessSettings(width=W, height=H))
    assert meta["in_channels"] == 3 and "bands" not in meta and not channels_are_bands(meta)
    assert not channels_are_bands({"in_channels": 3})  # older files: colour, as before


def test_jitter_of_bands_does_not_weigh_them_as_red_green_and_blue():
    bands = {"in_channels": 3, "bands": True}
    lit = torch.zeros(3, H, W)
    lit[1] = 0.8  # only GFP lit: DAPI and mCherry are dark
    out = _jitter(bands, lit)
    # the same image with the bands in another order jitters into the same bands, reordered:
    # ColorJitter's grey took 0.587 of the second channel but 0.114 of the third
    order = [0, 2, 1]
    assert torch.allclose(_jitter(bands, lit[order]), out[order], atol=1e-6)
    # both dark bands rise alike, to (1 - c) x the mean of every band, c the contrast factor
    c = (out[1, 0, 0] - out[0, 0, 0]) / 0.8
    assert torch.allclose(out[0], torch.full_like(out[0], float((1 - c) * 0.8 / 3)), atol=1e-6)
    assert torch.equal(out[0], out[2])


def test_colour_keeps_torchvision_colorjitter():
    colour = {"in_channels": 3}
    lit = torch.zeros(3, H, W)
    lit[1] = 0.8
    out = _jitter(colour, lit)
    again = v2.ColorJitter(contrast=0.5)  # the RGB transform as it was: ColorJitter alone
    torch.manual_seed(3)
    assert torch.equal(out, again(lit))
    grey = 0.587 * 0.8  # ColorJitter's luminance grey of a green-only image
    c = (out[1, 0, 0] - out[0, 0, 0]) / 0.8
    assert torch.allclose(out[0, 0, 0], (1 - c) * grey, atol=1e-6)


def _png(path, mode: str) -> str:
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).convert(mode).save(path)
    return path


def test_predict_refuses_colour_for_a_bands_model_and_a_hyperstack_for_a_colour_one(tmp_path):
    png = _png(tmp_path / "photo.png", "RGB")
    stack = _save(tmp_path / "cell.tif", np.zeros((3, H, W), np.uint16))
    with pytest.raises(ValueError, match=r"photo\.png is a colour image .* 3 bands"):
        check_headers([png], [None], 3, bands=True)
    with pytest.raises(ValueError, match=r"cell\.tif has 3 bands; the model reads 3 \(red, gr"):
        check_headers([stack], [None], 3, bands=False)
    grey = [_png(tmp_path / f"band{k}.png", "L") for k in range(3)]
    (tmp_path / "new").mkdir()
    stacked = stack_bands((grey, tmp_path / "new" / "sar.tif"))  # as band_files writes them
    assert len(check_headers([stack, stacked], [None, None], 3, bands=True)) == 2
    assert len(check_headers([png], [None], 3, bands=False)) == 1
    with pytest.raises(ValueError, match=r"band0\.png is a grey image"):
        check_headers([grey[0]], [None], 3, bands=True)


def _train(root):
    from unet.train.settings import TrainSettings
    from unet.train.train import train_unet

    train_unet(root / "cache", root / "model.pt", root / "history.csv", root / "ck",
               {"depth": 2, "base_width": 4},
               TrainSettings(epochs=1, batch_size=2, device="cpu", deterministic=True))
    return torch.load(root / "model.pt", weights_only=True)


def test_a_model_of_3_bands_says_so_in_info_and_onnx_metadata(tmp_path):
    from unet.model.describe import describe_model
    from unet.model.export import input_note

    _cells(tmp_path, 3)
    _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    ckpt = _train(tmp_path)
    assert ckpt["bands"] is True
    info = describe_model(tmp_path / "model.pt")
    assert "3 channel(s), bands, not red, green and blue: one multi-band TIFF" in info, info
    assert input_note(ckpt)["channels"].startswith("3 bands, in the order")
    older = {k: v for k, v in ckpt.items() if k != "bands"}  # files before the record: colour
    assert input_note(older)["channels"].startswith("RGB")


def test_a_colour_model_file_holds_no_bands_record(tmp_path):
    _colour(tmp_path)
    _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert "bands" not in _train(tmp_path)


def _stacks(root, n: int = 8) -> None:
    """A folder of 3-band TIFFs as `unet stack` writes them (minisblack, bands last): VV, VH
    and their ratio, say, each a grey file of its own first."""
    pairs = []
    (root / "stacked").mkdir()
    for i in range(n):
        disc = _disc(i) > 0.5
        grey = []
        for k in range(3):
            grey.append(root / f"band{i}_{k}.png")
            Image.fromarray(np.where(disc, 60 + 60 * k, 20).astype(np.uint8)).save(grey[-1])
        image = stack_bands((grey, root / "stacked" / f"img{i}.tif"))
        Image.fromarray(disc.astype(np.uint8) * 255).save(root / f"msk{i}.png")
        pairs.append({"id": f"p{i}", "image": str(image), "mask": str(root / f"msk{i}.png"),
                      "size": [W, H]})
    _write_split(root, pairs)


def test_a_folder_of_unet_stacks_3_band_tiffs_is_recorded_as_bands(tmp_path):
    # unet stack's (and GDAL's 16-bit) 3-band TIFFs say minisblack: no red, green and blue.
    # Trained as a plain folder (not band_files) they were recorded as colour: ColorJitter's
    # grey weighed VV, VH and the ratio 0.299, 0.587 and 0.114, and unet info said RGB.
    _stacks(tmp_path)
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["in_channels"] == 3 and meta.get("bands") is True
