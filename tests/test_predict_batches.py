"""Many new images predicted in batches (unet.infer.batches): the same masks as one at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unet.common.labels import mapping_from_meta
from unet.infer import forward, upsample
from unet.infer.batches import batch_probs_bands, images_per_band, input_batches
from unet.infer.forward import PredictSettings, load_ensemble, probs_bands
from unet.infer.predict_folder import _model_input, predict_files
from unet.infer.resume import RECORD  # the record beside the masks
from unet.infer.writer import PredictionWriter
from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig

# (w, h), mode: three of one size, two of another, and others alone, grey, colour and RGBA
IMAGES = [((30, 20), "RGB"), ((30, 20), "L"), ((25, 17), "RGBA"), ((30, 20), "RGB"),
          ((25, 17), "RGB"), ((9, 41), "L"), ((30, 20), "RGB")]


def _model(path: Path, mode: str = "resize") -> Path:
    torch.manual_seed(3)
    cfg = UNetConfig(in_channels=3, num_classes=3, depth=2, base_width=4)
    meta = {"class_values": [0, 100, 200], "size": [16, 12] if mode == "resize" else None,
            "in_channels": 3, "num_classes": 3, "mask_bits": 8, "mode": mode}
    net = build_model(cfg, pretrained=False)
    checkpoint.save(path, checkpoint.model_record(cfg.to_dict(), net.state_dict(), meta, {}, 1,
                                                  None, [0.5, 0.5], ""))
    return path


def _images(folder: Path) -> list[Path]:
    folder.mkdir()
    rng = np.random.default_rng(0)
    files = []
    for k, ((w, h), mode) in enumerate(IMAGES):
        shape = (h, w) if mode == "L" else (h, w, len(mode))
        files.append(folder / f"im{k}.png")
        Image.fromarray(rng.integers(0, 255, shape, np.uint8), mode).save(files[-1])
    return files


def _one_at_a_time(model: Path, files: list[Path], out: Path) -> None:
    """What predict_files wrote before batching: each image alone through the network, the
    resize and the softmax."""
    settings = PredictSettings(device="cpu")
    models, ckpt, dtype = load_ensemble([model], settings, 1)
    for path in files:
        x, full = _model_input(path, ckpt, 3)
        x = torch.from_numpy(np.array(x)).permute(2, 0, 1)[None].float().div_(255)
        logits = [one[0] for one in forward.ensemble_logits(models, x, ((),), dtype)]
        with PredictionWriter(out / f"{path.stem}.png", None, mapping_from_meta(ckpt),
                              full[::-1], full[::-1]) as writer:
            for y, band in probs_bands(logits, full[::-1]):
                writer.add(y, band)


@pytest.fixture
def passes(monkeypatch) -> list[int]:
    """The batch size of every forward pass; each image computed alone, so that the batched
    results can be compared bit for bit (oneDNN's convolution kernels for a batch of 1 and of
    8 round differently, by about 3e-8 in the logits)."""
    seen: list[int] = []
    real = forward.predict_logits

    def one_by_one(model, images, flips, dtype):
        seen.append(len(images))
        return torch.cat([real(model, images[k : k + 1], flips, dtype)
                          for k in range(len(images))])

    monkeypatch.setattr(forward, "predict_logits", one_by_one)
    return seen


@pytest.mark.parametrize("mode", ["resize", "native"])
def test_images_of_one_input_size_share_a_forward_pass(tmp_path, passes, mode):
    """predict.batch_size (unet predict --batch-size) was ignored for whole images: 3,000
    small images took 3,000 passes of one image, each with its own resize and softmax."""
    files = _images(tmp_path / "new")
    model = _model(tmp_path / "model.pt", mode)
    predict_files([model], files, tmp_path / "out", PredictSettings(device="cpu", batch_size=3))
    if mode == "resize":  # all at the model's 16x12
        assert passes == [3, 3, 1]
    else:  # each at its own size: 30x20 (four), 25x17 (two), 9x41 (one)
        assert passes == [3, 1, 2, 1]
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != RECORD) == sorted(
        f.name for f in files)


@pytest.mark.parametrize("mode", ["resize", "native"])
def test_batched_masks_are_those_of_one_image_at_a_time(tmp_path, passes, monkeypatch, mode):
    files = _images(tmp_path / "new")
    model = _model(tmp_path / "model.pt", mode)
    (tmp_path / "ref").mkdir()
    _one_at_a_time(model, files, tmp_path / "ref")
    monkeypatch.setattr(upsample, "BAND_BYTES", 3 * 4 * 30 * 7)  # several bands an image
    for batch in (1, 8):
        out = tmp_path / f"b{batch}"
        predict_files([model], files, out, PredictSettings(device="cpu", batch_size=batch))
        for f in files:
            assert (out / f"{f.stem}.png").read_bytes() == (tmp_path / "ref" / f"{f.stem}.png"
                                                            ).read_bytes(), (batch, f.name)


def test_a_real_batched_pass_changes_masks_by_rounding_at_most(tmp_path):
    files = _images(tmp_path / "new")
    model = _model(tmp_path / "model.pt")
    for batch in (1, 8):
        predict_files([model], files, tmp_path / f"b{batch}",
                      PredictSettings(device="cpu", batch_size=batch))
    differ = total = 0
    for f in files:
        one, eight = (np.asarray(Image.open(tmp_path / f"b{b}" / f"{f.stem}.png")) for b in (1, 8))
        differ, total = differ + int((one != eight).sum()), total + one.size
    assert differ <= total * 1e-3


def test_batch_probabilities_equal_each_images_own(monkeypatch):
    monkeypatch.setattr(upsample, "BAND_BYTES", 2 * 4 * 50 * 3)
    torch.manual_seed(0)
    logits = [torch.randn(4, 2, 13, 9) * 5, torch.randn(4, 2, 13, 9)]  # two folds' models
    batched = list(batch_probs_bands(logits, (31, 50)))
    for k in range(4):
        alone = torch.cat([band for _, band in probs_bands([one[k] for one in logits], (31, 50))],
                          1)
        together = torch.cat([band[k] for _, band in batched], 1)
        assert torch.equal(alone, together)


def test_batch_bands_keep_memory_bounded(monkeypatch):
    monkeypatch.setattr(upsample, "BAND_BYTES", 16 << 20)
    assert images_per_band(2, (64, 64)) == 512  # a band each, 32 KiB an image
    assert images_per_band(2, (4096, 4096)) == 1  # several bands each: one image at a time
    assert images_per_band(2, (1024, 1024)) == 2


def test_batches_group_sizes_and_keep_memory_bounded():
    sizes = [(64, 64), (32, 32), (64, 64), (64, 64), (32, 32)]
    assert input_batches(sizes, 2) == [[0, 2], [3], [1, 4]]
    # large inputs: no more pixels a pass than the budget, but at least one image
    assert input_batches(sizes, 8, budget=64 * 64 * 2) == [[0, 2], [3], [1, 4]]
    assert input_batches([(4096, 4096)] * 3, 8) == [[0], [1], [2]]


def test_an_interrupt_mid_batch_leaves_no_partial_file(tmp_path, monkeypatch):
    """Ctrl-C while a batch's masks are half written: the batch's writers all drop their
    temporary files; what is left under a mask's name is whole."""
    files = _images(tmp_path / "new")
    model = _model(tmp_path / "model.pt")
    real, calls = PredictionWriter.add, []

    def add(self, y, band):
        calls.append(y)
        if len(calls) == 5:
            raise KeyboardInterrupt
        real(self, y, band)

    monkeypatch.setattr(PredictionWriter, "add", add)
    with pytest.raises(KeyboardInterrupt):
        predict_files([model], files, tmp_path / "out", PredictSettings(device="cpu"))
    left = {p.name for p in (tmp_path / "out").iterdir() if p.name != RECORD}
    assert left < {f"{f.stem}.png" for f in files}, left  # no temporary files, not all masks
    for name in left:
        (w, h), _ = IMAGES[int(name[2:-4])]
        assert Image.open(tmp_path / "out" / name).size == (w, h)
        np.asarray(Image.open(tmp_path / "out" / name))  # decodes whole
