"""Patch-trained models predict by sliding window, from the cache and from image files alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import write_inputs
from tests.test_patches import _pairs
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.infer.predict import PredictSettings, predict_masks
from unet.infer.predict_folder import predict_files
from unet.model import checkpoint
from unet.model.describe import describe_model
from unet.model.unet import UNet, UNetConfig

SIZES = [(90, 60), (33, 47), (64, 64), (120, 41), (50, 50), (70, 101)]


def _model(meta: dict, path, patch=(32, 32)) -> None:
    config = UNetConfig(in_channels=meta["in_channels"], num_classes=2, depth=2, base_width=4)
    torch.manual_seed(0)
    net = UNet(config)
    net.head.weight.data.mul_(50.0)  # spread the probabilities: masks with both classes
    settings = {"patch": {"size": list(patch), "foreground": 0.33, "per_image": 1}}
    record = checkpoint.model_record(config.to_dict(), net.state_dict(), meta, settings, 1,
                                     None, [0.0, 0.0], "test")
    checkpoint.save(path, record)


def _native(root, scale: float = 1.0, patch=(32, 32)) -> tuple[list[dict], dict]:
    """Pairs of SIZES in `root`, their native cache (times `scale`) and root/model.pt."""
    pairs = _pairs(root, SIZES)
    write_inputs(root, pairs)
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(mode="native", scale=scale, mask_values=(0, 255)))
    _model(meta, root / "model.pt", patch)
    return pairs, meta


def test_cache_and_files_give_the_same_masks_at_each_original_size(tmp_path):
    pairs, meta = _native(tmp_path)
    settings = PredictSettings(batch_size=3, device="cpu", overlap=0.5)
    ids = meta["splits"]["test"]["ids"]
    predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "pred",
                  settings)
    by_id = {p["id"]: p for p in pairs}
    files = [tmp_path / f"i{i[1:]}.png" for i in ids]
    predict_files([tmp_path / "model.pt"], files, tmp_path / "files", settings)
    for image_id, file in zip(ids, files, strict=True):
        w, h = by_id[image_id]["size"]
        cached = np.asarray(Image.open(tmp_path / "pred/masks" / f"{image_id}.png"))
        direct = np.asarray(Image.open(tmp_path / "files" / f"{file.stem}.png"))
        assert cached.shape == direct.shape == (h, w)
        np.testing.assert_array_equal(cached, direct)
        assert set(np.unique(cached)) <= {0, 255}
        probs = np.load(tmp_path / "pred/probs" / f"{image_id}.npy")
        np.testing.assert_array_equal(probs.argmax(0) * 255, cached)
    assert "sliding-window tiles of 32x32" in describe_model(tmp_path / "model.pt")
    assert "images at their own size" in describe_model(tmp_path / "model.pt")


def test_scaled_cache_predicts_at_the_original_size(tmp_path):
    pairs, meta = _native(tmp_path, scale=0.5, patch=(16, 16))
    settings = PredictSettings(batch_size=4, device="cpu")
    predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "pred",
                  settings)
    by_id = {p["id"]: p for p in pairs}
    for image_id in meta["splits"]["test"]["ids"]:
        w, h = by_id[image_id]["size"]
        assert Image.open(tmp_path / "pred/masks" / f"{image_id}.png").size == (w, h)
        assert np.load(tmp_path / "pred/probs" / f"{image_id}.npy").shape == (2, h, w)
    files = [tmp_path / "i0.png"]
    predict_files([tmp_path / "model.pt"], files, tmp_path / "files", settings)
    assert Image.open(tmp_path / "files/i0.png").size == tuple(by_id["p0"]["size"])


def test_a_failed_prediction_leaves_no_file_that_looks_complete(tmp_path):
    from unet.common.labels import MaskMapping
    from unet.infer.writer import PredictionWriter

    mask, probs = tmp_path / "masks/a.png", tmp_path / "probs/a.npy"
    band = torch.full((2, 4, 6), 0.5)
    try:
        with PredictionWriter(mask, probs, MaskMapping((0, 255)), (8, 6), (8, 6)) as out:
            out.add(0, band)
            raise RuntimeError("killed between two bands")
    except RuntimeError:
        pass
    assert not mask.exists() and not probs.exists()
    assert sorted(tmp_path.rglob("*")) == [tmp_path / "masks", tmp_path / "probs"]  # no scraps
    with PredictionWriter(mask, probs, MaskMapping((0, 255)), (8, 6), (8, 6)) as out:
        out.add(0, band)
        out.add(4, torch.stack([torch.zeros(4, 6), torch.ones(4, 6)]))
    written = np.asarray(Image.open(mask))
    assert written.shape == (8, 6) and (written[4:] == 255).all()
    assert np.load(probs).shape == (2, 8, 6)


def test_unet_predict_uses_the_sliding_window_with_its_overlap(tmp_path):
    from unet.cli import main

    _native(tmp_path)
    files = [tmp_path / "i0.png", tmp_path / "i5.png"]
    args = ["predict", str(tmp_path / "model.pt"), *map(str, files), "--device", "cpu"]
    assert main([*args, "-o", str(tmp_path / "cli"), "--overlap", "0.25"]) == 0
    settings = PredictSettings(device="cpu", overlap=0.25)
    predict_files([tmp_path / "model.pt"], files, tmp_path / "direct", settings)
    for file, (w, h) in zip(files, (SIZES[0], SIZES[5]), strict=True):
        cli = np.asarray(Image.open(tmp_path / "cli" / file.name))
        assert cli.shape == (h, w)
        np.testing.assert_array_equal(cli, np.asarray(Image.open(tmp_path / "direct" / file.name)))
    with pytest.raises(SystemExit) as exit_:  # a usage error (the schema's bounds), said
        main([*args, "-o", str(tmp_path / "bad"), "--overlap", "1.5"])
    assert exit_.value.code == 2 and not (tmp_path / "bad").exists()


@pytest.mark.parametrize("cached", [(4, 6), (2, 3)])
def test_the_mask_is_the_argmax_of_the_saved_probabilities(tmp_path, cached):
    """Masks came from float32 probabilities, the CRF tuning and the final-mask choice from
    the float16 ones saved: where two classes' probabilities round to one float16, the mask
    said class 1 and the choice scored class 0 (Cityscapes' 19 classes: the raw validation
    Dice in choice.json was 0.62732 for masks scoring 0.62743)."""
    from unet.common.labels import MaskMapping
    from unet.infer.writer import PredictionWriter

    mask, probs = tmp_path / "masks/a.png", tmp_path / "probs/a.npy"
    band = torch.full((3, *cached), 0.0)
    band[0], band[1], band[2] = 0.4999, 0.5001, 0.0001  # one float16: 0.5 both
    with PredictionWriter(mask, probs, MaskMapping((7, 8, 11)), cached, (4, 6)) as out:
        out.add(0, band)
    saved = np.load(probs)
    assert saved[0, 0, 0] == saved[1, 0, 0]
    expected = np.array([7, 8, 11])[saved.argmax(0)]
    assert np.array_equal(np.asarray(Image.open(mask)), expected)


@pytest.mark.parametrize("original", [(200, 1400), (300, 2100)])  # as cached, and scaled up
def test_a_wide_images_column_bands_land_in_place(tmp_path, original):
    """A wide image's sliding window hands out columns, not rows: each is written where it
    belongs, at the cached size and resized to the original alike (memory-mapped outputs)."""
    from unet.common.labels import MaskMapping
    from unet.infer.tiles import NO_FLIPS, Window, window_bands, window_probs
    from unet.infer.upsample import resized_bands
    from unet.infer.writer import PredictionWriter

    torch.manual_seed(0)
    net = UNet(UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)).eval()
    net.head.weight.data.mul_(50.0)
    image = np.random.default_rng(1).integers(0, 255, (200, 1400, 3), np.uint8)
    window, mask, probs = Window((32, 32), 0.5, 8, 4), tmp_path / "m.png", tmp_path / "p.npy"
    inside = np.zeros(original, np.uint8)
    inside[original[0] // 3 :, : original[1] // 2] = 255  # the region of interest
    Image.fromarray(inside).save(roi := tmp_path / "roi.png")
    with PredictionWriter(mask, probs, MaskMapping((0, 255)), (200, 1400), original,
                          roi) as out:
        for y, x, band in window_bands([net], image, window, NO_FLIPS, None):
            assert band.shape[1] == 200  # whole columns
            out.add(y, band, x)
    whole = window_probs([net], image, window, NO_FLIPS, None)
    want = torch.cat([band for _, band in resized_bands(whole, original)], 1)
    want[:, inside == 0] = torch.tensor([1.0, 0.0])[:, None]  # class 0 outside it
    saved = np.load(probs)
    np.testing.assert_allclose(saved, want.half().float().numpy(), atol=2e-3)
    np.testing.assert_array_equal(np.asarray(Image.open(mask)),
                                  np.where(saved[1] > saved[0], 255, 0))
