"""Training: checkpoint contents, clear errors, and resume after SIGTERM with equal weights."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from unet.common import device
from unet.model import checkpoint
from unet.train.settings import TrainingError, TrainSettings
from unet.train.train import train_unet

MODEL = {"depth": 2, "base_width": 4}


@pytest.fixture(scope="module")
def cache(synthetic_cache) -> Path:
    """10 synthetic 48x32 pairs cached at 32x24 (test_checkpoint.py imports this fixture)."""
    return synthetic_cache("data", {"count": 10, "width": 48, "height": 32, "seed": 3}, (32, 24))


def _train(cache: Path, out: Path, model: dict = MODEL, **kw) -> dict:
    return train_unet(
        cache, out / "model.pt", out / "history.csv", out / "ck", model, _settings(**kw)
    )


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
    from unet.common.device import DeviceError

    with pytest.raises(DeviceError, match="train.device"):
        _train(cache, tmp_path, device="cuda")


RUN = """
import sys, time
from unet.common.logs import setup_logging
from unet.train.settings import TrainSettings
from unet.train.train import train_unet
setup_logging()
from unet.train import loop as t
orig = t.evaluate_split
def slow(*a, **k):  # slow epochs down so the test can signal between them
    time.sleep(float(sys.argv[2]))
    return orig(*a, **k)
t.evaluate_split = slow
out = sys.argv[1]
train_unet(sys.argv[3], out + "/model.pt", out + "/history.csv", out + "/ck",
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
    """History rows without the timing columns (the pixel counts come after them)."""
    rows = [r.split(",") for r in (folder / "history.csv").read_text().splitlines()]
    keep = [k for k, name in enumerate(rows[0]) if name not in ("seconds", "images_per_s")]
    return [",".join(r[k] for k in keep) for r in rows]


def _rows(folder: Path) -> list[str]:
    """history.csv lines, timing columns included: a row recomputed would differ in them."""
    return (folder / "history.csv").read_text().splitlines()


def test_more_epochs_continue_from_last_checkpoint(cache, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path)
    two = _rows(tmp_path)
    _train(cache, tmp_path, epochs=3)
    three = _rows(tmp_path)
    assert [r.split(",")[0] for r in three[1:]] == ["1", "2", "3"]
    assert three[:3] == two, "epochs 1-2 were trained again instead of resumed"
    last = tmp_path / "ck" / "last.pt"
    assert f"resuming from {last} at epoch 2" in caplog.text
    # Cosine over 2 epochs ends at lr 0; over 3 (1 warm-up) epoch 3 starts half-way down.
    assert "re-planned over 3 epochs from epoch 3 on (lr 0.000e+00 -> 1.000e-03)" in caplog.text
    assert checkpoint.load(last)["epochs"] == 3


@pytest.mark.parametrize(
    "change",
    [
        {"num_workers": 1},
        {"max_minutes": 30.0},
        {"patience": 4},
        {"deterministic": False},
        {"channels_last": False},
        pytest.param(
            {"device": "auto"},
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="auto is the CPU only here"),
        ),
    ],
)
def test_settings_that_keep_the_maths_keep_the_checkpoint(cache, tmp_path, caplog, change):
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path)
    before = _rows(tmp_path)
    _train(cache, tmp_path, **change)
    assert f"resuming from {tmp_path / 'ck' / 'last.pt'} at epoch 2" in caplog.text
    assert _rows(tmp_path) == before


def test_other_learning_rate_starts_again(cache, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path)
    before = _rows(tmp_path)
    _train(cache, tmp_path, lr=1e-3)
    assert "written for other settings" in caplog.text and "resuming" not in caplog.text
    assert _rows(tmp_path)[1:] != before[1:] and len(_rows(tmp_path)) == 3


def test_fewer_epochs_than_done_start_again(cache, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path, epochs=3)
    _train(cache, tmp_path, epochs=2)
    assert "it has done 3 epochs, more than train.epochs=2; starting again" in caplog.text
    assert "resuming" not in caplog.text and len(_rows(tmp_path)) == 3
    assert checkpoint.load(tmp_path / "ck" / "last.pt")["epochs"] == 2


def test_default_cpu_training_is_repeatable(cache, tmp_path):
    # The defaults (deterministic: auto, device: auto) on a CPU machine, twice, same threads.
    settings = TrainSettings(epochs=2, batch_size=2)
    a, b = (
        train_unet(cache, d / "model.pt", d / "h.csv", d / "ck", MODEL, settings, threads=2)
        for d in (tmp_path / "a", tmp_path / "b")
    )
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key


def test_deterministic_auto_is_on_for_cpu_and_off_for_cuda():
    from unet.common.device import set_deterministic

    assert TrainSettings().deterministic == "auto"
    try:
        assert set_deterministic("auto", torch.device("cpu")) is True
        assert torch.are_deterministic_algorithms_enabled()
        # NaN-filling new memory: PyTorch's default with `true`, left out by `auto` (its cost).
        assert not torch.utils.deterministic.fill_uninitialized_memory
        assert set_deterministic(True, torch.device("cpu")) is True
        assert torch.utils.deterministic.fill_uninitialized_memory
        assert set_deterministic("auto", torch.device("cuda")) is False  # sets flags only
        assert not torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.benchmark
        with pytest.raises(ValueError, match="train.deterministic: 'yes'; use auto, true or false"):
            set_deterministic("yes", torch.device("cpu"))
    finally:
        set_deterministic(False, torch.device("cpu"))


BF16_CPU = torch.ops.mkldnn._is_mkldnn_bf16_supported()


@pytest.mark.skipif(not BF16_CPU, reason="this CPU has no bf16 support in oneDNN")
def test_amp_cpu_trains_in_bf16_repeatably(cache, tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(device, "cpu_bf16_speedup", lambda threads: 1.8)  # auto: bf16 too
    a, b = (_train(cache, tmp_path / d, amp_cpu=mode) for d, mode in (("a", True), ("b", "auto")))
    assert "amp torch.bfloat16" in caplog.text
    for key, value in a["state_dict"].items():
        assert value.dtype != torch.bfloat16  # the weights stay float32
        assert torch.equal(value, b["state_dict"][key]), key
    full = _train(cache, tmp_path / "fp32")
    assert any(not torch.equal(v, full["state_dict"][k]) for k, v in a["state_dict"].items())


def test_amp_cpu_is_refused_without_bf16_kernels(monkeypatch):
    from unet.common.device import DeviceError, amp_dtype

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    with pytest.raises(DeviceError, match="amp_cpu"):
        amp_dtype(torch.device("cpu"), True, cpu=True)
    assert amp_dtype(torch.device("cpu"), True, cpu=False) is None
    assert amp_dtype(torch.device("cpu"), True, cpu="auto") is None  # float32 there


def test_amp_cpu_auto_takes_bf16_where_it_measured_faster(monkeypatch):
    # The AVX512-BF16 flag does not tell: a Xeon without AMX trained 14 % slower in bf16, an AMD
    # EPYC without AMX 1.8x faster (0.30 s vs 0.54 s a step).
    from unet.common.device import MIN_BF16_SPEEDUP, amp_dtype

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    cpu = torch.device("cpu")
    for speedup, expected in ((0.88, None), (MIN_BF16_SPEEDUP - 0.01, None),
                              (MIN_BF16_SPEEDUP, torch.bfloat16), (1.8, torch.bfloat16)):
        monkeypatch.setattr(device, "cpu_bf16_speedup", lambda threads, s=speedup: s)
        assert amp_dtype(cpu, True, cpu="auto") is expected, speedup
        assert amp_dtype(cpu, True, cpu=True) is torch.bfloat16  # asked for: given


def test_resumed_auto_run_keeps_the_precision_it_started_in(cache, tmp_path, caplog, monkeypatch):
    # amp_cpu auto times bf16 once per process: on a shared 2-core EPYC the ratio ran from 1.12
    # to 2.87 in 14 runs, and one ISBI run resumed its bf16 epochs in float32.
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    monkeypatch.setattr(device, "cpu_bf16_speedup", lambda threads: 1.8)
    unbroken = _train(cache, tmp_path / "a", amp_cpu="auto")
    _train(cache, tmp_path / "b", amp_cpu="auto", max_minutes=1e-9)  # stops after epoch 1
    assert checkpoint.load(tmp_path / "b/ck/last.pt")["state"]["epoch"] == 1
    monkeypatch.setattr(device, "cpu_bf16_speedup", lambda threads: 1.0)  # now float32 here
    resumed = _train(cache, tmp_path / "b", amp_cpu="auto")
    assert "keeping bfloat16, chosen when this run started" in caplog.text
    assert resumed["epoch"] == unbroken["epoch"]
    # last.pt: epoch 2's weights (best.pt may be epoch 1's, the same in both runs)
    a, b = (checkpoint.load(tmp_path / d / "ck/last.pt")["state_dict"] for d in "ab")
    for k, v in a.items():
        assert torch.equal(v, b[k]), k
    _train(cache, tmp_path / "c", amp_cpu="auto")  # a new run decides anew: float32
    c = checkpoint.load(tmp_path / "c/ck/last.pt")["state_dict"]
    assert any(not torch.equal(v, c[k]) for k, v in a.items())


def test_cpu_bf16_speedup_measures_again_below_the_bar(monkeypatch):
    # One round of 9 pairs is short (about 0.3 s): a round below MIN_BF16_SPEEDUP is measured
    # again, up to BF16_ROUNDS, and the best round counts.
    rounds = iter([1.1, 1.7, 0.5])
    monkeypatch.setattr(device, "_bf16_round", lambda threads: next(rounds))
    assert device.cpu_bf16_speedup.__wrapped__(2) == 1.7
    assert next(rounds) == 0.5  # stopped at the round that reached the bar
    slow = iter([0.86, 0.9, 0.8, 5.0])
    monkeypatch.setattr(device, "_bf16_round", lambda threads: next(slow))
    assert device.cpu_bf16_speedup.__wrapped__(2) == 0.9  # three rounds, all below: float32
    assert next(slow) == 5.0


def test_cpu_bf16_speedup_measures_without_touching_the_global_rng():
    before = torch.get_rng_state()
    speedup = device.cpu_bf16_speedup.__wrapped__(1)  # uncached: a real measurement
    assert 0.05 < speedup < 50  # a ratio of two measured times, finite and positive
    assert torch.equal(torch.get_rng_state(), before)  # training's seeded draws are unchanged
