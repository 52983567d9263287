"""train.max_minutes: the learning-rate decay ends at the last epoch that fits the budget."""

from __future__ import annotations

import csv
import logging
import time

import pytest

from tests.test_train import _train, cache  # noqa: F401  (the module's fixture)
from unet.model import checkpoint
from unet.train import train as train_module

LR = 1e-3


@pytest.fixture
def clock(monkeypatch):
    """A monotonic clock that moves only by the seconds each training epoch is said to take:
    `clock["epochs"]` in turn, the last one repeated."""
    now = {"t": 1000.0, "epochs": [20.0]}
    monkeypatch.setattr(time, "monotonic", lambda: now["t"])
    real = train_module.train_epoch

    def timed_epoch(*args, **kw):
        durations = now["epochs"]
        now["t"] += durations.pop(0) if len(durations) > 1 else durations[0]
        return real(*args, **kw)

    monkeypatch.setattr(train_module, "train_epoch", timed_epoch)
    return now


def _history(folder) -> list[dict]:
    with open(folder / "history.csv") as f:
        return list(csv.DictReader(f))


def test_budget_plans_the_epochs_that_fit_and_anneals_them(cache, tmp_path, clock, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    # 20 s an epoch in a 60 s budget: 3 of the 10 epochs fit.
    _train(cache, tmp_path, epochs=10, max_minutes=1, lr=LR)
    rows = _history(tmp_path)
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert "3 of 10 epochs fit at 20.0 s each" in caplog.text
    assert "stopping after epoch 3, the last that fits" in caplog.text
    # The cosine reached its end: the last epoch finished at rate 0, not at epoch 3 of 10's.
    assert float(rows[-1]["lr"]) < LR * 1e-6
    assert float(rows[1]["lr"]) == pytest.approx(LR * 0.5, rel=1e-6)  # half-way after warm-up
    assert checkpoint.load(tmp_path / "ck" / "last.pt")["state"]["horizon"] == 3


def test_a_slower_machine_shortens_the_plan(cache, tmp_path, clock, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    # 6 of 10 fit after epoch 1, then the epochs slow down to 20 s: planned from the epochs
    # after the first, a third fits (the mean of all, 15 s, planned a fourth, ending at 65 s)
    clock["epochs"] = [10.0, 20.0]
    _train(cache, tmp_path, epochs=10, max_minutes=1, lr=LR)
    assert "6 of 10 epochs fit at 10.0 s each" in caplog.text
    assert "3 of 10 epochs fit at 20.0 s each" in caplog.text
    rows = _history(tmp_path)
    assert len(rows) == 3 and float(rows[-1]["lr"]) < LR * 1e-6


def test_budget_that_fits_every_epoch_changes_nothing(cache, tmp_path, clock):  # noqa: F811
    clock["epochs"] = [1.0]
    _train(cache, tmp_path / "budget", epochs=3, max_minutes=1, lr=LR)
    _train(cache, tmp_path / "free", epochs=3, lr=LR)
    budget, free = _history(tmp_path / "budget"), _history(tmp_path / "free")
    keys = ("epoch", "train_loss", "val_loss", "val_dice", "lr")
    assert [[r[k] for k in keys] for r in budget] == [[r[k] for k in keys] for r in free]


def test_resumed_without_budget_follows_the_full_schedule(cache, tmp_path, clock, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path / "free", epochs=4, lr=LR)
    clock["epochs"] = [1.0, 59.0]  # the budget is spent after epoch 2: it ends the plan there
    _train(cache, tmp_path / "cut", epochs=4, max_minutes=1, lr=LR)
    assert [r["epoch"] for r in _history(tmp_path / "cut")] == ["1", "2"]
    assert checkpoint.load(tmp_path / "cut" / "ck" / "last.pt")["state"]["horizon"] == 2
    _train(cache, tmp_path / "cut", epochs=4, lr=LR)  # resumed with no budget
    assert "schedule ended at epoch 2 to fit train.max_minutes" in caplog.text
    free, cut = _history(tmp_path / "free"), _history(tmp_path / "cut")
    keys = ("epoch", "train_loss", "val_loss", "val_dice", "lr")
    assert [[r[k] for k in keys] for r in cut] == [[r[k] for k in keys] for r in free]


def test_budget_shorter_than_the_warm_up_still_anneals(cache, tmp_path, clock, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    # 3 of 10 epochs fit, warm-up 5 epochs: the rate rose to 0.6 x lr and training stopped
    # there, never at its peak nor annealed. The warm-up now takes at most half the plan.
    _train(cache, tmp_path, epochs=10, max_minutes=1, lr=LR, warmup_epochs=5)
    rows = _history(tmp_path)
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert float(rows[-1]["lr"]) < LR * 1e-6
    assert float(rows[1]["lr"]) < LR  # decaying after the shortened warm-up


def test_a_slow_first_epoch_does_not_shorten_the_plan(cache, tmp_path, clock, caplog):  # noqa: F811
    """The first epoch carries one-off costs (workers starting, the allocator warming up,
    torch.compile, cuDNN's search): 60 s, then 10 s an epoch, in a 120 s budget. Planned from
    the mean of all epochs (35 s after two, 18.3 s after six) training stopped after epoch 6
    with a whole epoch's time left; planned from the epochs after the first, 7 fit."""
    caplog.set_level(logging.INFO)
    clock["epochs"] = [60.0, 10.0]
    _train(cache, tmp_path, epochs=10, max_minutes=2, lr=LR)
    rows = _history(tmp_path)
    assert [r["epoch"] for r in rows] == [str(e) for e in range(1, 8)]
    assert "7 of 10 epochs fit at 10.0 s each" in caplog.text
    assert float(rows[-1]["lr"]) < LR * 1e-6


@pytest.mark.parametrize("schedule", ["plateau", "constant"])
def test_a_schedule_without_a_decay_to_end_says_stop(schedule, cache, tmp_path, clock, caplog):  # noqa: F811
    """Reduce-on-plateau has no end to move, a constant rate no decay to end: the log said
    their schedule "now ends" at epoch 3."""
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path, epochs=10, max_minutes=1, lr=LR, schedule=schedule)
    assert "3 of 10 epochs fit at 20.0 s each; training stops after epoch 3" in caplog.text
    assert "schedule now ends" not in caplog.text
    assert len(_history(tmp_path)) == 3
