"""Training: checkpoint contents, clear errors, and resume after SIGTERM with equal weights."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from unet import checkpoint
from unet.fileio import write_json
from unet.preprocess import PreprocessSettings, preprocess
from unet.sources import prepare_dataset
from unet.split import make_split
from unet.train import TrainingError, TrainSettings, train

MODEL = {"depth": 2, "base_width": 4}


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    manifest = prepare_dataset(
        root / "manifest.json",
        "synthetic",
        {"count": 10, "width": 48, "height": 32, "seed": 3, "classes": 1},
    )
    split = make_split([p["id"] for p in manifest["pairs"]], 0, 0.2, 0.2)
    write_json(root / "split.json", split)
    preprocess(
        root / "manifest.json",
        root / "split.json",
        root / "cache",
        PreprocessSettings(width=32, height=24),
    )
    return root / "cache"


def _train(cache: Path, out: Path, model: dict = MODEL, **kw) -> dict:
    return train(cache, out / "model.pt", out / "history.csv", out / "ck", model, _settings(**kw))


def _settings(**kw) -> TrainSettings:
    return TrainSettings(
        **{"epochs": 2, "batch_size": 2, "device": "cpu", "deterministic": True, **kw}
    )


def test_checkpoint_rebuilds_model(cache, tmp_path):
    _train(cache, tmp_path)
    model, ckpt = checkpoint.load_model(tmp_path / "model.pt")
    assert ckpt["class_values"] == [0, 255] and ckpt["in_channels"] == 3
    assert model(torch.zeros(1, 3, 24, 32)).shape == (1, 2, 24, 32)
    history = (tmp_path / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,train_loss,val_loss,val_dice") and len(history) == 3


def test_batch_larger_than_training_set(cache, tmp_path):
    with pytest.raises(TrainingError, match="train.batch_size=64"):
        _train(cache, tmp_path, batch_size=64)


def test_input_too_small_for_depth(cache, tmp_path):
    with pytest.raises(TrainingError, match="model.depth=6"):
        _train(cache, tmp_path, {"depth": 6, "base_width": 2})


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_requested_without_gpu(cache, tmp_path):
    from unet.device import DeviceError

    with pytest.raises(DeviceError, match="train.device"):
        _train(cache, tmp_path, device="cuda")


RUN = """
import sys, time
from unet.logs import setup_logging
from unet.train import TrainSettings, train
setup_logging()
from unet import train as t
orig = t.evaluate_split
def slow(*a, **k):  # slow epochs down so the test can signal between them
    time.sleep(float(sys.argv[2]))
    return orig(*a, **k)
t.evaluate_split = slow
out = sys.argv[1]
train(sys.argv[3], out + "/model.pt", out + "/history.csv", out + "/ck",
      {"depth": 2, "base_width": 4},
      TrainSettings(epochs=5, batch_size=2, device="cpu", deterministic=True), threads=1)
"""


def _run(out: Path, cache: Path, pause: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUN, str(out), str(pause), str(cache)],
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_then_resume_gives_the_same_weights(cache, tmp_path):
    ref, cut = tmp_path / "ref", tmp_path / "cut"
    assert _run(ref, cache, 0).wait(timeout=300) == 0
    proc = _run(cut, cache, 0.5)
    last = cut / "ck" / "last.pt"
    deadline = time.time() + 120
    while time.time() < deadline:  # wait for epoch 2's checkpoint, then stop mid-way
        if last.exists() and checkpoint.load(last)["state"]["epoch"] >= 2:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0, "an interrupted run must exit non-zero so it is retried"
    stopped_at = checkpoint.load(last)["state"]["epoch"]
    assert 2 <= stopped_at < 5 and not (cut / "model.pt").exists()
    resumed = _run(cut, cache, 0)
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"resuming from {last} at epoch {stopped_at}" in err
    a, b = checkpoint.load(ref / "ck" / "last.pt"), checkpoint.load(last)
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    assert read_json_history(ref) == read_json_history(cut)


def read_json_history(folder: Path) -> list[str]:
    """History rows without the timing columns."""
    rows = (folder / "history.csv").read_text().splitlines()
    return [",".join(r.split(",")[:-3]) for r in rows]
