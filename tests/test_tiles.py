"""Sliding-window prediction: tile placement, agreement with whole-image prediction, no seams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from unet.infer.forward import predict_logits
from unet.infer.tiles import (
    NO_FLIPS,
    Window,
    gaussian_weights,
    tile_starts,
    window_bands,
    window_probs,
)
from unet.model.unet import UNet, UNetConfig


def _model(depth: int, seed: int = 0) -> UNet:
    torch.manual_seed(seed)
    model = UNet(UNetConfig(in_channels=3, num_classes=2, depth=depth, base_width=4)).eval()
    # A random net's probabilities hardly leave 0.5; a larger head spreads them (0.1 to 0.9)
    # without compounding through the layers.
    model.head.weight.data.mul_(100.0)
    return model


def _whole(model, image: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255
    return predict_logits(model, x, NO_FLIPS, None)[0].softmax(0)


@pytest.mark.parametrize(("length", "tile", "overlap", "align"), [
    (100, 64, 0.5, 4), (64, 64, 0.5, 1), (30, 64, 0.5, 4), (1000, 128, 0.25, 16), (129, 64, 0, 1),
])
def test_tiles_cover_the_image_and_keep_alignment(length, tile, overlap, align):
    starts = tile_starts(length, tile, overlap, align)
    covered = np.zeros(max(length, tile), bool)
    for s in starts:
        covered[s : s + tile] = True
    assert covered[:length].all() and starts[0] == 0
    assert all(s % align == 0 for s in starts[:-1])  # the last one ends at the edge
    assert starts == sorted(set(starts))
    if length > tile:
        assert starts[-1] == length - tile
        assert all(b - a <= tile for a, b in zip(starts, starts[1:], strict=False))


def test_one_tile_image_equals_whole_image_prediction():
    model = _model(2)
    image = np.random.default_rng(0).integers(0, 255, (64, 48, 3), np.uint8)
    tiled = window_probs([model], image, Window((64, 48)), NO_FLIPS, None)
    # Within float rounding: the blend is (logits x w) / w.
    torch.testing.assert_close(tiled, _whole(model, image), atol=1e-4, rtol=0)


def test_sliding_window_matches_whole_image_at_tile_centres():
    # depth 1: a receptive field of about 14 px, so a tile centre (32 px from its edges) sees
    # exactly what the whole image shows it; neighbouring tiles reach it only at their border,
    # where the Gaussian weight is about e^-8.
    model = _model(1)
    image = np.random.default_rng(1).integers(0, 255, (160, 224, 3), np.uint8)
    window = Window((64, 64), overlap=0.5, batch=3, align=2)
    tiled = window_probs([model], image, window, NO_FLIPS, None)
    whole = _whole(model, image)
    assert tiled.shape == whole.shape == (2, 160, 224)
    ys, xs = tile_starts(160, 64, 0.5, 2), tile_starts(224, 64, 0.5, 2)
    centres = [(y + 32, x + 32) for y in ys for x in xs]
    diff = max(
        float((tiled - whole)[:, y - 4 : y + 4, x - 4 : x + 4].abs().max()) for y, x in centres
    )
    assert diff < 1e-3, diff
    # Away from the centres it is a blend, still close (the net sees nearly the same context).
    assert float((tiled - whole).abs().mean()) < 0.05


def _seam_jump(probs: torch.Tensor, starts: list[int], tile: int) -> float:
    """Largest step between neighbouring columns where a tile begins or ends, inside."""
    p = probs[1, 20:-20]  # (rows, W), rows away from the image's own top and bottom
    edges = sorted({s for s in starts[1:]} | {s + tile for s in starts[:-1]})
    return max(float((p[:, e] - p[:, e - 1]).abs().max()) for e in edges)


def test_gaussian_blending_leaves_no_seams_on_a_constant_image(monkeypatch):
    # On a constant image every interior tile sees the same input, so any step in the output
    # comes from tile borders. Zero padding makes a tile's border logits differ from its
    # centre's: uniform averaging shows that as a step where a tile starts or ends, Gaussian
    # weights fade it out.
    model = _model(3, seed=2)
    image = np.full((96, 400, 3), 140, np.uint8)
    window = Window((64, 64), overlap=0.5, batch=8, align=8)
    starts = tile_starts(400, 64, 0.5, 8)
    gaussian = window_probs([model], image, window, NO_FLIPS, None)
    interior = gaussian[1, 20:-20, 40:-40]
    monkeypatch.setattr("unet.infer.tiles.gaussian_weights", lambda h, w: torch.ones(h, w))
    uniform = window_probs([model], image, window, NO_FLIPS, None)
    jump_uniform, jump_gauss = _seam_jump(uniform, starts, 64), _seam_jump(gaussian, starts, 64)
    assert jump_uniform > 0.01, "the test image must show seams without blending"
    assert jump_gauss < jump_uniform / 10, (jump_gauss, jump_uniform)
    # Smooth everywhere, not only at the tile edges: no column steps out of line.
    steps = (interior[:, 1:] - interior[:, :-1]).abs().max()
    assert float(steps) < jump_uniform / 5


def test_gaussian_weights_peak_in_the_centre_and_stay_positive():
    g = gaussian_weights(64, 32)
    assert g.shape == (64, 32) and float(g.max()) == pytest.approx(1.0, abs=1e-3)
    assert float(g.min()) > 0 and float(g[32, 16]) > float(g[0, 0])


def test_bands_cover_every_pixel_once_and_images_smaller_than_a_tile():
    model = _model(2)
    for shape in ((150, 90, 3), (30, 45, 3), (64, 200, 3)):
        image = np.random.default_rng(3).integers(0, 255, shape, np.uint8)
        covered = np.zeros(shape[:2], int)
        for y, x, band in window_bands([model], image, Window((64, 64), 0.25, 2, 4), NO_FLIPS,
                                       None):  # whole rows, or a wide image's whole columns
            assert band.shape[0] == 2 and shape[:2] in ((band.shape[1], shape[1]),
                                                        (shape[0], band.shape[2]))
            covered[y : y + band.shape[1], x : x + band.shape[2]] += 1
            torch.testing.assert_close(band.sum(0), torch.ones(band.shape[1:]))
        assert (covered == 1).all()


def test_an_ensemble_averages_the_models_probabilities():
    a, b = _model(2, seed=4), _model(2, seed=5)
    image = np.random.default_rng(6).integers(0, 255, (100, 80, 3), np.uint8)
    window = Window((64, 64), 0.5, 4, 4)
    both = window_probs([a, b], image, window, NO_FLIPS, None)
    mean = (window_probs([a], image, window, NO_FLIPS, None)
            + window_probs([b], image, window, NO_FLIPS, None)) / 2
    torch.testing.assert_close(both, mean, atol=1e-5, rtol=0)


def test_float_tensor_and_uint8_array_give_the_same_tiles():
    model = _model(2)
    image = np.random.default_rng(7).integers(0, 255, (70, 90, 3), np.uint8)
    tensor = torch.from_numpy(image.copy()).permute(2, 0, 1).float() / 255
    window = Window((48, 48), 0.5, 4, 4)
    torch.testing.assert_close(
        window_probs([model], image, window, NO_FLIPS, None),
        window_probs([model], tensor, window, NO_FLIPS, None),
    )


def test_an_overlap_outside_zero_to_one_is_refused():
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="predict.overlap"):
            Window((64, 64), overlap=bad)


@pytest.mark.parametrize("wide", [False, True])  # bands of rows, or of a wide image's columns
def test_tiled_validation_loss_is_the_whole_images(tmp_path, wide):
    # The batch Dice term was taken band by band: a band without foreground scores about
    # 1/(sum p + 1), so a model at validation Dice 1.0 showed val_loss 0.47 beside train_loss
    # 0.05, curves that read as heavy overfitting.
    from unet.train.losses import DiceCELoss
    from unet.train.validate import evaluate_tiled

    model = _model(2)
    rng = np.random.default_rng(0)
    image = torch.from_numpy(rng.random((3, 96, 32), np.float32))
    mask = torch.zeros(96, 32, dtype=torch.long)
    mask[4:20, 4:20] = 1  # foreground in the first band only
    if wide:
        image, mask = image.transpose(1, 2).contiguous(), mask.T.contiguous()
    window = Window((32, 32), overlap=0.5, batch=4, align=4)
    loss_fn = DiceCELoss(2)
    loss, cm = evaluate_tiled(model, [(image, mask)], loss_fn, torch.device("cpu"), None, 2,
                              window)
    probs = window_probs([model], image, window, NO_FLIPS, None)
    whole = loss_fn(probs.clamp_min(1e-8).log()[None], mask[None]).item()
    assert loss == pytest.approx(whole, rel=1e-4)
    assert cm.sum() == mask.numel() and cm[1].sum() == int(mask.sum())  # every pixel once


def _blended(model, image: np.ndarray, window: Window) -> torch.Tensor:
    """Every tile's logits Gaussian-blended over the whole image at once: the reference."""
    (h, w), (th, tw) = image.shape[:2], window.tile
    padded = np.zeros((max(h, th), max(w, tw), 3), np.uint8)
    padded[:h, :w] = image
    acc, wsum, g = torch.zeros(2, *padded.shape[:2]), torch.zeros(padded.shape[:2]), None
    for y in tile_starts(h, th, window.overlap, window.align):
        for x in tile_starts(w, tw, window.overlap, window.align):
            tile = np.ascontiguousarray(padded[y : y + th, x : x + tw])
            x_t = torch.from_numpy(tile).permute(2, 0, 1)[None].float() / 255
            g = gaussian_weights(th, tw)
            acc[:, y : y + th, x : x + tw] += predict_logits(model, x_t, NO_FLIPS, None)[0] * g
            wsum[y : y + th, x : x + tw] += g
    return (acc / wsum)[:, :h, :w].softmax(0)


@pytest.mark.parametrize("shape", [(40, 600, 3), (600, 40, 3), (1, 300, 3), (90, 91, 3)])
def test_bands_do_not_grow_with_the_longer_side(shape):
    # A wide image (a line scan, a panorama) was swept a row of tiles at a time, each row as
    # wide as the image: a 256 x 65536 one held 16.7 Mpx of blend buffers, so `unet predict`
    # peaked at 1478 MB where the same image turned upright took 721 MB.
    model, window = _model(2), Window((32, 48), 0.5, 3, 4)
    image = np.random.default_rng(8).integers(0, 255, shape, np.uint8)
    covered = np.zeros(shape[:2], int)
    for *where, band in window_bands([model], image, window, NO_FLIPS, None):
        y, x = (where[0], 0) if len(where) == 1 else where
        assert band.shape[1] * band.shape[2] <= max(window.tile) * min(shape[:2])
        covered[y : y + band.shape[1], x : x + band.shape[2]] += 1
    assert (covered == 1).all()
    torch.testing.assert_close(window_probs([model], image, window, NO_FLIPS, None),
                               _blended(model, image, window), atol=1e-5, rtol=0)


def test_the_gaussian_is_built_once_for_many_images_of_a_tile_size(monkeypatch):
    import unet.infer.tiles as tiles

    calls = []

    def counted(h: int, w: int) -> torch.Tensor:
        calls.append((h, w))
        return gaussian_weights(h, w)

    monkeypatch.setattr(tiles, "gaussian_weights", counted)
    model, window = _model(2), Window((32, 32), overlap=0.5, batch=4, align=4)
    rng = np.random.default_rng(0)
    for shape in ((70, 50, 3), (50, 70, 3), (70, 50, 3), (40, 40, 3)):  # tall, wide (turned)
        list(window_bands([model], rng.integers(0, 255, shape, np.uint8), window, NO_FLIPS, None))
    assert calls == [(32, 32)]  # it was rebuilt for every image (2 ms each at 128x128)


def test_tiled_validation_of_the_cache_reads_bands_not_a_whole_float_copy(tmp_path):
    # Validation took each cached image as a whole float32 tensor and its mask as int64: a
    # 5000x5000 Inria tile held about 600 MB beyond its 100 MB of cached bytes (746 MB above
    # the interpreter against 343 MB at 3000x3000). It now reads the cache's uint8 views.
    import json
    import tracemalloc

    from unet.train.dataset import CachedRows
    from unet.train.losses import DiceCELoss
    from unet.train.validate import evaluate_tiled

    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (1024, 64, 3), np.uint8)  # tall: bands of few pixels
    mask = (rng.random((1024, 64)) < 0.3).astype(np.uint8)
    np.save(tmp_path / "val_images.npy", image.reshape(-1))
    np.save(tmp_path / "val_masks.npy", mask.reshape(-1))
    meta = {"mode": "native", "in_channels": 3, "splits": {"val": {"shapes": [[1024, 64]]}}}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    model, window = torch.nn.Conv2d(3, 2, 1), Window((32, 32), overlap=0.5, batch=8, align=4)
    loss_fn, cpu = DiceCELoss(2), torch.device("cpu")
    whole = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    ref_loss, ref_cm = evaluate_tiled(model, [(whole, torch.from_numpy(mask).long())], loss_fn,
                                      cpu, None, 2, window)
    tracemalloc.start()  # numpy allocations: a whole image copy is 197 kB, its mask 66 kB
    loss, cm = evaluate_tiled(model, CachedRows(tmp_path, [("val", 0)]), loss_fn, cpu, None, 2,
                              window)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < image.nbytes, f"validation held {peak} bytes of a {image.nbytes} image"
    assert loss == pytest.approx(ref_loss, rel=1e-6) and (cm == ref_cm).all()
