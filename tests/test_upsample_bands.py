"""Predictions reach an image's original size band by band: each band equals the same rows of
resizing the whole map, and the working memory is a band, not the original image."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tests.conftest import write_inputs
from tests.test_native_predict import SIZES, _native
from tests.test_patches import _pairs
from unet.cache.preprocess import preprocess
from unet.cache.reader import cached_shapes, load_split
from unet.cache.settings import PreprocessSettings
from unet.common.labels import MaskMapping
from unet.infer import upsample
from unet.infer.forward import load_ensemble, probs_bands, window_for
from unet.infer.predict import PredictSettings, predict_masks
from unet.infer.predict_folder import predict_files
from unet.infer.tiles import NO_FLIPS, predict_logits, window_probs
from unet.infer.writer import PredictionWriter
from unet.model import checkpoint
from unet.model.unet import UNet, UNetConfig


def _whole(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x[None], size=size, mode="bilinear", align_corners=False)[0]


@pytest.mark.parametrize(
    ("shape", "size", "rows"),
    [
        ((2, 37, 51), (300, 411), 13),  # up, uneven factors, bands not dividing the height
        ((3, 64, 64), (64, 64), 7),  # same size
        ((2, 100, 80), (33, 17), 5),  # down (a resized input larger than the original)
        ((2, 5, 7), (1000, 9), 64),  # a thin map stretched 200x
        ((2, 1, 1), (20, 30), 3),
    ],
)
def test_bands_equal_the_whole_resize(shape, size, rows):
    torch.manual_seed(0)
    x = torch.randn(*shape)
    whole = _whole(x, size)
    for src in (x, x.numpy()):  # a tensor, or an array such as a memory map
        bands = [upsample.resized_rows(src, size, y, min(y + rows, size[0]))
                 for y in range(0, size[0], rows)]
        torch.testing.assert_close(torch.cat(bands, 1), whole, atol=1e-5, rtol=0)


def test_probability_bands_average_each_models_softmax():
    torch.manual_seed(1)
    logits = [torch.randn(3, 9, 11), torch.randn(3, 9, 11)]
    expected = sum(_whole(one, (40, 23)).softmax(0) for one in logits) / 2
    got = torch.cat([band for _, band in probs_bands(logits, (40, 23))], 1)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_a_scaled_prediction_holds_a_band_not_the_original(tmp_path, monkeypatch):
    """From a 256x256 cache to a 2048x2048 original, numpy never holds the whole original's
    probabilities (16 MB in float16) or classes: only 64-row bands (torch's share is measured
    by benchmarks/bench_tiles.py)."""
    monkeypatch.setattr(upsample, "BAND_BYTES", 1 << 20)  # 64 rows of 2 x 2048 float32
    probs = torch.rand(1, 256, 256)
    probs = torch.cat([probs, 1 - probs])
    out = tmp_path / "masks" / "a.png", tmp_path / "probs" / "a.npy"
    tracemalloc.start()
    try:
        with PredictionWriter(*out, MaskMapping((0, 255)), (256, 256), (2048, 2048)) as writer:
            for y in range(0, 256, 32):
                writer.add(y, probs[:, y : y + 32])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak / 2**20:.1f} MB traced"
    expected = _whole(probs, (2048, 2048))
    written = np.load(out[1])
    np.testing.assert_allclose(written, expected.numpy(), atol=1e-3)
    mask = np.asarray(Image.open(out[0]))
    clear = (expected[1] - expected[0]).abs().numpy() > 1e-3
    np.testing.assert_array_equal(mask[clear], (expected.argmax(0).numpy() * 255)[clear])


def test_whole_image_models_write_what_resizing_the_whole_logits_gives(tmp_path):
    """A resize-mode model's masks and probabilities at each original size equal the logits
    resized whole, softmaxed and averaged over the models: from the cache and from files."""
    pairs = _pairs(tmp_path, SIZES)
    write_inputs(tmp_path, pairs)
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                      PreprocessSettings(width=48, height=32, mask_values=(0, 255)))
    config = UNetConfig(in_channels=meta["in_channels"], num_classes=2, depth=2, base_width=4)
    nets = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        nets.append(UNet(config).eval())
        nets[-1].head.weight.data.mul_(20.0)
        record = checkpoint.model_record(config.to_dict(), nets[-1].state_dict(), meta, {}, 1,
                                         None, [0.0, 0.0], "test")
        checkpoint.save(tmp_path / f"m{seed}.pt", record)
    models = [tmp_path / "m0.pt", tmp_path / "m1.pt"]
    settings = PredictSettings(batch_size=4, device="cpu", tta=False)
    predict_masks(models, tmp_path / "cache", "test", tmp_path / "pred", settings)
    by_id = {p["id"]: p for p in pairs}
    images, _ = load_split(tmp_path / "cache", "test")
    for k, image_id in enumerate(meta["splits"]["test"]["ids"]):
        w, h = by_id[image_id]["size"]
        x = torch.from_numpy(np.array(images[k : k + 1])).permute(0, 3, 1, 2).float() / 255
        with torch.no_grad():
            expected = sum(_whole(predict_logits(net, x, NO_FLIPS, None)[0], (h, w)).softmax(0)
                           for net in nets) / 2
        probs = np.load(tmp_path / "pred" / "probs" / f"{image_id}.npy")
        np.testing.assert_allclose(probs, expected.numpy(), atol=1e-3)
        mask = np.asarray(Image.open(tmp_path / "pred" / "masks" / f"{image_id}.png"))
        clear = (expected[1] - expected[0]).abs().numpy() > 1e-3
        assert clear.mean() > 0.9
        np.testing.assert_array_equal(mask[clear], (expected.argmax(0).numpy() * 255)[clear])
    file = tmp_path / "i0.png"
    predict_files(models, [file], tmp_path / "files", settings)
    direct = np.asarray(Image.open(tmp_path / "files" / "i0.png"))
    assert direct.shape == tuple(by_id["p0"]["size"])[::-1]


def test_patch_model_at_a_scaled_cache_matches_the_whole_resize(tmp_path):
    """Sliding-window bands at a 0.5 cache, resized band by band, equal the whole resize of
    the cached-size probabilities."""
    pairs, meta = _native(tmp_path, scale=0.5, patch=(16, 16))
    settings = PredictSettings(batch_size=4, device="cpu", tta=False)
    predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "half",
                  settings)
    models, ckpt, dtype = load_ensemble([tmp_path / "model.pt"], settings, 1)
    images, _ = load_split(tmp_path / "cache", "test")
    shapes = cached_shapes(meta, "test")
    by_id = {p["id"]: p for p in pairs}
    for k, image_id in enumerate(meta["splits"]["test"]["ids"]):
        w, h = by_id[image_id]["size"]
        # rows, or columns of a wide image: window_probs puts the bands together either way
        cached = window_probs(models, images[k], window_for(ckpt, settings), NO_FLIPS, dtype)
        assert cached.shape[1:] == tuple(shapes[k])
        expected = _whole(cached, (h, w))
        probs = np.load(tmp_path / "half" / "probs" / f"{image_id}.npy")
        np.testing.assert_allclose(probs, expected.numpy(), atol=1e-3)


@pytest.mark.parametrize("classes", [2, 3, 7])
def test_class_index_is_argmax_with_its_ties(classes):
    from unet.common.argmax import class_index

    torch.manual_seed(classes)
    probs = torch.randint(0, 4, (classes, 33, 65)).float()  # many ties: the first one wins
    index = class_index(probs)
    assert index.dtype == np.uint8
    np.testing.assert_array_equal(index, probs.argmax(0).numpy())
