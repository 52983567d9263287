"""train.max_minutes is the run's total: a budgeted run killed and resumed counts the epochs it
had done, keeps its learning-rate plan, and trains what an unbroken run trains."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.test_budget import _history, clock  # noqa: F401  (the module's fixture)
from tests.test_train import _train, cache  # noqa: F401  (the module's fixture)
from unet.model import checkpoint
from unet.train import train as train_module
from unet.train.loop import Interrupted

LR = 1e-3
KEYS = ("epoch", "train_loss", "val_loss", "val_dice", "lr")


def _kill_in(monkeypatch, clock, epoch: int) -> None:  # noqa: F811
    """SIGTERM during `epoch`: the clock runs on for the part done, last.pt keeps the epoch
    before (as train_epoch leaves it on a stop signal)."""
    timed = train_module.train_epoch

    def killed(run, e, *args, **kw):
        if e == epoch:
            clock["t"] += 5.0
            raise Interrupted(143)
        return timed(run, e, *args, **kw)

    monkeypatch.setattr(train_module, "train_epoch", killed)


def _rows(folder) -> list[list[str]]:
    return [[r[k] for k in KEYS] for r in _history(folder)]


def test_a_killed_budgeted_run_resumes_its_plan(cache, tmp_path, clock, monkeypatch,  # noqa: F811
                                                caplog):
    """20 s, then 10 s an epoch in a 60 s budget: 3 fit after epoch 1, 5 from epoch 2 on. Killed
    in epoch 4, the resumed run re-planned the schedule over all 10 epochs (the rate jumped back
    up) and gave itself the whole minute again: 8 epochs instead of 5."""
    caplog.set_level(logging.INFO)
    settings = dict(epochs=10, max_minutes=1, lr=LR, ema=0.7, patience=6)
    clock["epochs"] = [20.0, 10.0]
    _train(cache, tmp_path / "unbroken", **settings)
    clock["epochs"] = [20.0, 10.0]
    with monkeypatch.context() as m:
        _kill_in(m, clock, 4)
        with pytest.raises(SystemExit):
            _train(cache, tmp_path / "killed", **settings)
    assert checkpoint.load(tmp_path / "killed" / "ck" / "last.pt")["state"]["epoch"] == 3
    clock["epochs"] = [10.0]  # the same 10 s an epoch after the restart
    resumed = _train(cache, tmp_path / "killed", **settings)
    unbroken, again = _rows(tmp_path / "unbroken"), _rows(tmp_path / "killed")
    assert [r[0] for r in unbroken] == ["1", "2", "3", "4", "5"]
    assert again == unbroken  # same epochs, losses and rate curve
    assert float(again[-1][4]) < LR * 1e-6  # annealed at the budget's last epoch
    a, b = (checkpoint.load(tmp_path / d / "ck" / "last.pt") for d in ("unbroken", "killed"))
    assert a["state"]["horizon"] == b["state"]["horizon"] == 5
    assert a["state"]["stale"] == b["state"]["stale"] and a["state"]["best"] == b["state"]["best"]
    assert a["scheduler"] == b["scheduler"]
    for k, v in a["ema"].items():  # the weights' moving average, n_averaged included
        assert torch.equal(v, b["ema"][k]), k
    assert resumed["epoch"] == checkpoint.load(tmp_path / "unbroken" / "model.pt")["epoch"]


def test_a_budget_spent_run_started_again_stays_stopped(cache, tmp_path, clock, caplog):  # noqa: F811
    """A run the budget stopped, started again for an unhashed setting (num_workers) or a kill
    before model.pt, trained a fresh budget's epochs on top of the spent one."""
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path, epochs=10, max_minutes=1, lr=LR)
    assert len(_history(tmp_path)) == 3
    first = checkpoint.load(tmp_path / "model.pt")
    _train(cache, tmp_path, epochs=10, max_minutes=1, lr=LR, num_workers=1)
    assert [r["epoch"] for r in _history(tmp_path)] == ["1", "2", "3"]
    assert "train.max_minutes=1 is spent after epoch 3" in caplog.text
    assert checkpoint.load(tmp_path / "model.pt")["epoch"] == first["epoch"]


def test_a_budget_added_on_resuming_counts_the_epochs_done(cache, tmp_path, clock, caplog):  # noqa: F811
    """Two unbudgeted 20 s epochs, then resumed with a 1-minute budget: 40 s are spent, one
    more epoch fits, not three."""
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path, epochs=2, lr=LR)
    _train(cache, tmp_path, epochs=10, max_minutes=1, lr=LR)
    assert [r["epoch"] for r in _history(tmp_path)] == ["1", "2", "3"]
    assert float(_history(tmp_path)[-1]["lr"]) < LR * 1e-6
