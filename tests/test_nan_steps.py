"""A training loss gone NaN or inf within an epoch: the run stops a few steps later with the
epoch-end check's error and checkpoints, not at the end of an epoch of wasted steps; isolated
inf losses that a GradScaler skips (fp16) neither stop a run nor make its train_loss NaN."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from unet.model import checkpoint
from unet.train import loop, train
from unet.train.divergence import NONFINITE_RUN
from unet.train.history import read_history
from unet.train.losses import DiceCELoss
from unet.train.settings import TrainingError, TrainSettings
from unet.train.train import train_unet

STEPS = 15  # training steps per epoch: 30 training images, batch 2


@pytest.fixture(scope="module")
def cache(synthetic_cache) -> Path:
    """50 synthetic pairs cached at 32x24: 30 train, 10 val."""
    return synthetic_cache("nan", {"count": 50, "width": 48, "height": 32, "seed": 5}, (32, 24))


def _poison(monkeypatch, bad) -> list[int]:
    """The training loss times inf at the training steps (1-based, over the run) `bad` holds;
    returns the list of steps taken so far (its length)."""
    taken: list[int] = []

    class Poisoned(DiceCELoss):
        def forward(self, logits, target, extra=None):
            loss = super().forward(logits, target, extra)
            if not torch.is_grad_enabled():  # validation: left alone
                return loss
            taken.append(len(taken) + 1)
            return loss * math.inf if bad(len(taken)) else loss  # gradients inf/NaN too

    monkeypatch.setattr(loop, "DiceCELoss", Poisoned)
    return taken


def _with_scaler(monkeypatch) -> None:
    """fp16 AMP's GradScaler, on the CPU: it skips each step whose gradients are not finite."""
    real = train.build_run

    def build(*a, **k):
        run = real(*a, **k)
        run.scaler = torch.amp.GradScaler("cpu")
        return run

    monkeypatch.setattr(train, "build_run", build)


def _train(cache: Path, out: Path, **kw) -> dict:
    settings = TrainSettings(**{"epochs": 3, "batch_size": 2, "device": "cpu",
                                "deterministic": True, "schedule": "constant", **kw})
    return train_unet(cache, out / "model.pt", out / "history.csv", out / "ck",
                      {"depth": 2, "base_width": 4}, settings)


def _kept(out: Path, epoch: int) -> None:
    """last.pt and best.pt hold epoch `epoch`'s finite weights."""
    last = checkpoint.load(out / "ck" / "last.pt")
    assert last["state"]["epoch"] == epoch
    assert all(torch.isfinite(t).all() for t in last["state_dict"].values())
    assert checkpoint.load(out / "ck" / "best.pt")["epoch"] == epoch


def test_nan_weights_stop_the_run_within_the_epoch(cache, tmp_path, monkeypatch):
    # fp32: an inf loss at step 3 of epoch 2 made every weight NaN, and the 12 steps after it
    # (hours on Carvana) ran before the epoch's end found them
    taken = _poison(monkeypatch, lambda step: step == STEPS + 3)
    with pytest.raises(TrainingError, match=r"NaN or inf.*step 3 of epoch 2.*train\.lr.*"
                                            r"epoch 1 is kept") as err:
        _train(cache, tmp_path)
    assert len(taken) == STEPS + 3, "stopped at the step whose loss was not finite"
    assert "weights" in str(err.value)
    _kept(tmp_path, 1)
    assert not (tmp_path / "model.pt").exists()


def test_a_skipped_inf_loss_neither_stops_nor_poisons_train_loss(cache, tmp_path, monkeypatch,
                                                                  caplog):
    # fp16 with a GradScaler: an inf loss is a skipped step, weights untouched; the epoch's
    # train_loss was inf (the sum took the inf), in history.csv and the report's plot
    taken = _poison(monkeypatch, lambda step: step in (4, STEPS + 1, STEPS + 9, 2 * STEPS))
    _with_scaler(monkeypatch)
    best = _train(cache, tmp_path)
    assert len(taken) == 3 * STEPS and best["epoch"] >= 1
    rows = read_history(tmp_path / "history.csv")
    assert len(rows) == 3 and all(math.isfinite(r["train_loss"]) for r in rows)
    assert "3 of 15 steps of epoch 2" in caplog.text


def test_a_run_of_skipped_losses_stops_the_run(cache, tmp_path, monkeypatch):
    # fp16: the scaler skips every step from step 2 of epoch 2 (outputs overflow), the weights
    # stay finite and nothing is learnt; the run went on to the last epoch
    taken = _poison(monkeypatch, lambda step: step > STEPS + 1)
    _with_scaler(monkeypatch)
    with pytest.raises(TrainingError, match=r"training loss was NaN or inf for 10 steps in a "
                                            r"row.*epoch 2.*epoch 1 is kept"):
        _train(cache, tmp_path)
    assert len(taken) == STEPS + 1 + NONFINITE_RUN
    _kept(tmp_path, 1)


def test_a_huge_learning_rate_stops_in_the_first_epoch(cache, tmp_path, monkeypatch):
    # no injection: SGD at lr 1e12 overflows the weights within a few steps; the epoch ran on
    taken = _poison(monkeypatch, lambda step: False)
    with pytest.raises(TrainingError, match=r"of epoch 1: .*no checkpoint was written"):
        _train(cache, tmp_path, optimizer="sgd", lr=1e12, epochs=1)
    assert len(taken) < STEPS // 2
    assert not (tmp_path / "ck" / "last.pt").exists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_watch_reads_nothing_the_gpu_has_not_finished():
    # a read a step (.item(), bool()) would wait for the GPU's queue to drain at every step
    from unet.train.divergence import LossWatch

    model = torch.nn.Conv2d(1, 1, 1).cuda()
    watch = LossWatch(torch.device("cuda"))
    torch.cuda.set_sync_debug_mode("error")  # any synchronising call raises
    try:
        for _ in range(50):
            watch.add(torch.rand((), device="cuda"), 2)
            watch.check(model, 1, 0)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    with pytest.raises(TrainingError, match="10 steps in a row"):
        for _ in range(100):  # the copies lag a step or more behind
            watch.add(torch.tensor(math.inf, device="cuda"), 2)
            watch.check(model, 1, 0)
            torch.cuda.synchronize()
    assert watch.mean(1, True) < 1.0
