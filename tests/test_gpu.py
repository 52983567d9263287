"""CUDA paths: AMP (bf16; fp16 with GradScaler), channels_last, torch.compile, resume after
SIGTERM, and CUDA predictions that agree with the CPU's. Skipped without a GPU."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unet.cache.reader import load_split
from unet.infer.predict import PredictSettings, predict_masks
from unet.model import checkpoint
from unet.train import loop as train_module
from unet.train.loop import Interrupted
from unet.train.settings import TrainSettings
from unet.train.train import train_unet

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]
MODEL = {"depth": 3, "base_width": 16}
SETTINGS = dict(epochs=12, batch_size=8, device="cuda", amp=True, channels_last=True)
# 128 synthetic 64x64 images (76 train / 26 val / 26 test), batch 8, 12 epochs: fp32 CPU training
# ends at val foreground Dice 0.80-0.81; predicting all foreground scores 0.39, all background 0.
MIN_DICE = 0.65


@pytest.fixture(scope="module")
def cache(synthetic_cache) -> Path:
    shapes = {"count": 128, "width": 64, "height": 64, "seed": 1}
    return synthetic_cache("gpu_data", shapes, (64, 64))


def _train(cache: Path, out: Path, **kw) -> list[dict]:
    """train_unet() on CUDA with AMP and channels_last; returns the history rows of last.pt."""
    settings = TrainSettings(**{**SETTINGS, **kw})
    train_unet(cache, out / "model.pt", out / "history.csv", out / "ck", MODEL, settings)
    return checkpoint.load(out / "ck" / "last.pt")["state"]["history"]


@pytest.fixture(scope="module")
def reference(cache, tmp_path_factory) -> tuple[Path, list[dict]]:
    """One eager run with the defaults (bf16 on Ampere and later) that other tests compare with."""
    out = tmp_path_factory.mktemp("reference")
    return out, _train(cache, out)


def test_amp_channels_last_learns_and_model_predicts(cache, reference):
    out, history = reference
    assert history[-1]["val_dice"] > MIN_DICE, history[-1]
    model, ckpt = checkpoint.load_model(out / "model.pt", "cuda")
    conv = next(w for w in ckpt["state_dict"].values() if w.ndim == 4 and w.shape[-1] == 3)
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    images, masks = (torch.from_numpy(np.array(a)) for a in load_split(cache, "val"))
    with torch.no_grad():  # fp32 inference of the saved weights, no autocast
        pred = model(images.permute(0, 3, 1, 2).float().div(255).cuda()).argmax(1).cpu() == 1
    truth = masks == 1
    dice = float(2 * (pred & truth).sum() / (pred.sum() + truth.sum()))
    assert dice > MIN_DICE, dice


def test_fp16_with_grad_scaler(cache, tmp_path, monkeypatch, caplog):
    # A bf16 GPU never takes the fp16 path: answer as a T4 or V100 would, all else is real.
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    caplog.set_level(logging.INFO, logger="unet.train.train")
    history = _train(cache, tmp_path)
    assert "(amp torch.float16)" in caplog.text
    last = checkpoint.load(tmp_path / "ck" / "last.pt")
    assert last["scaler"]["scale"] > 0  # a disabled GradScaler saves {}
    assert all(v.isfinite().all() for v in last["state_dict"].values() if v.is_floating_point())
    assert history[-1]["val_dice"] > MIN_DICE, history[-1]


def test_compile_matches_eager(cache, reference, tmp_path):
    if importlib.util.find_spec("triton") is None:
        pytest.skip("triton is not installed: torch.compile has no CUDA backend here")
    if not (os.environ.get("CC") or shutil.which("gcc") or shutil.which("clang")):
        pytest.skip("no C compiler (CC, gcc or clang) for Triton to build its launcher with")
    try:
        history = _train(cache, tmp_path, compile=True)
    except Exception as err:  # only a missing toolchain is a skip; anything else fails
        if "C compiler" in str(err) or "Python.h" in str(err):
            pytest.skip(f"torch.compile needs a C toolchain: {str(err)[:200]}")
        raise
    eager = reference[1]
    # Same seed and batches; fused bf16 kernels round differently, and the gap grows with steps.
    assert history[0]["train_loss"] == pytest.approx(eager[0]["train_loss"], rel=0.05)
    assert history[-1]["train_loss"] == pytest.approx(eager[-1]["train_loss"], rel=0.25)
    assert history[-1]["val_dice"] > MIN_DICE, history[-1]


def test_cuda_prediction_matches_cpu(cache, reference, tmp_path):
    model = reference[0] / "model.pt"
    for device in ("cuda", "cpu"):
        settings = PredictSettings(device=device, amp=True)  # autocast on CUDA only
        assert predict_masks([model], cache, "test", tmp_path / device, settings) == 26
    names = sorted(p.stem for p in (tmp_path / "cuda" / "masks").glob("*.png"))
    gpu, cpu = (
        (
            np.stack([np.asarray(Image.open(tmp_path / d / "masks" / f"{n}.png")) for n in names]),
            np.stack([np.load(tmp_path / d / "probs" / f"{n}.npy") for n in names]),
        )
        for d in ("cuda", "cpu")
    )
    assert (gpu[0] == cpu[0]).mean() >= 0.99  # bf16 logits flip only pixels near 0.5
    diff = np.abs(gpu[1].astype(np.float32) - cpu[1])
    assert diff.mean() < 0.01 and diff.max() < 0.2, (diff.mean(), diff.max())


def test_resume_after_sigterm(cache, reference, tmp_path, monkeypatch, caplog):
    evaluate, calls = train_module.evaluate_split, []

    def evaluate_then_sigterm(*args, **kw):
        calls.append(1)
        if len(calls) == 2:  # during epoch 2, as SLURM does before the walltime
            os.kill(os.getpid(), signal.SIGTERM)
        return evaluate(*args, **kw)

    with monkeypatch.context() as m:
        m.setattr(train_module, "evaluate_split", evaluate_then_sigterm)
        with pytest.raises(Interrupted) as stop:
            _train(cache, tmp_path)
    assert stop.value.code == 128 + signal.SIGTERM
    cut = checkpoint.load(tmp_path / "ck" / "last.pt")
    assert cut["state"]["epoch"] == 2 and not (tmp_path / "model.pt").exists()
    caplog.set_level(logging.INFO, logger="unet.train.train")
    history = _train(cache, tmp_path)
    assert f"resuming from {tmp_path / 'ck' / 'last.pt'} at epoch 2" in caplog.text
    assert [r["epoch"] for r in history] == list(range(1, 13))
    assert history[:2] == cut["state"]["history"]  # kept, not trained again
    # CUDA kernels are not all deterministic: the same end, within run-to-run noise.
    eager = reference[1]
    assert history[-1]["train_loss"] == pytest.approx(eager[-1]["train_loss"], rel=0.25)
    assert history[-1]["val_dice"] > MIN_DICE, history[-1]


def test_deterministic_mode_runs_on_cuda(cache, tmp_path, caplog):
    # Some CUDA kernels have no deterministic version: train_unet() warns instead of failing.
    caplog.set_level(logging.WARNING, logger="unet.common.device")
    try:
        history = _train(cache, tmp_path, epochs=2, deterministic=True)
    finally:
        torch.use_deterministic_algorithms(False)
    assert "train.deterministic on CUDA" in caplog.text
    assert len(history) == 2 and np.isfinite(history[-1]["train_loss"])


def test_sliding_window_on_cuda_matches_the_cpu():
    from unet.infer.tiles import ALL_FLIPS, NO_FLIPS, Window, window_probs
    from unet.model.unet import UNet, UNetConfig

    torch.manual_seed(0)
    model = UNet(UNetConfig(in_channels=3, num_classes=2, depth=3, base_width=8)).eval()
    model.head.weight.data.mul_(50.0)  # probabilities spread away from 0.5
    image = np.random.default_rng(0).integers(0, 255, (300, 410, 3), np.uint8)
    window = Window((128, 128), 0.5, 4, 8)
    cpu = window_probs([model], image, window, NO_FLIPS, None)
    cpu_tta = window_probs([model], image, window, ALL_FLIPS, None)
    gpu = window_probs([model.cuda()], image, window, NO_FLIPS, None)  # fp32 on the GPU
    assert gpu.device.type == "cpu" and gpu.shape == (2, 300, 410)
    assert float((cpu - gpu).abs().max()) < 1e-3
    half = window_probs([model], image, window, ALL_FLIPS, torch.bfloat16)  # AMP with flip TTA
    assert (half.argmax(0) == cpu_tta.argmax(0)).float().mean() > 0.98


def test_amp_dtype_and_device_choice_on_this_gpu():
    # What tests/test_cuda_paths.py checks against faked answers, asked of the real GPU: bf16
    # only from compute capability 8.0 (a V100 or T4 emulates it), and cuda:N made current.
    from unet.common.device import amp_dtype, pick_device

    last = torch.cuda.device_count() - 1
    for index in range(last + 1):
        native = torch.cuda.get_device_capability(index) >= (8, 0)
        expected = torch.bfloat16 if native else torch.float16
        assert amp_dtype(torch.device(f"cuda:{index}"), True) is expected, index
    before = torch.cuda.current_device()
    try:
        assert pick_device(f"cuda:{last}") == torch.device("cuda", last)
        assert torch.cuda.current_device() == last
    finally:
        torch.cuda.set_device(before)
