"""train.val_every: validate every N-th epoch and the last; the epochs between train only."""

from __future__ import annotations

import csv
import logging
import math

import numpy as np
import pytest
import torch

from tests.test_budget import clock  # noqa: F401  (the fixture)
from tests.test_train import _train, cache  # noqa: F401  (the module's fixture)
from unet.model import checkpoint
from unet.report import charts
from unet.report.cross_validation import best_epochs
from unet.train import train as train_module
from unet.train.budget import epoch_costs, epochs_fit
from unet.train.collapse import count_columns, pixel_counts, warn_stuck
from unet.train.history import write_history
from unet.train.loop import Interrupted
from unet.train.optim import plateau_patience


def _history(folder) -> list[dict]:
    with open(folder / "history.csv") as f:
        return list(csv.DictReader(f))


def _validations(monkeypatch) -> list[int]:
    """The epochs validated, in order."""
    seen, real = [], train_module.validate_epoch

    def counted(run, epoch, *args, **kw):
        seen.append(epoch)
        return real(run, epoch, *args, **kw)

    monkeypatch.setattr(train_module, "validate_epoch", counted)
    return seen


def test_every_nth_epoch_and_the_last_are_validated(cache, tmp_path, monkeypatch):  # noqa: F811
    seen = _validations(monkeypatch)
    _train(cache, tmp_path, epochs=5, val_every=2)
    assert seen == [2, 4, 5]
    rows = _history(tmp_path)
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4", "5"]
    for r in rows:  # blank validation columns between, training's filled in
        assert (r["val_loss"] == "") == (r["epoch"] in ("1", "3")) and r["train_loss"] and r["lr"]
        assert (r["val_px_1"] == "") == (r["epoch"] in ("1", "3"))
    assert checkpoint.load(tmp_path / "model.pt")["epoch"] in (2, 4, 5)


def test_val_every_1_writes_the_history_of_every_epoch(cache, tmp_path):  # noqa: F811
    _train(cache, tmp_path / "a", epochs=2)
    _train(cache, tmp_path / "b", epochs=2, val_every=1)
    a, b = _history(tmp_path / "a"), _history(tmp_path / "b")
    assert list(a[0]) == list(b[0]) and all(r["val_loss"] for r in b)
    drop = ("seconds", "images_per_s")
    assert [{k: v for k, v in r.items() if k not in drop} for r in a] == \
           [{k: v for k, v in r.items() if k not in drop} for r in b]


def _flat(monkeypatch):
    real = train_module.validate_epoch

    def flat(*args, **kw):
        return {**real(*args, **kw), "val_dice": 0.5, "val_loss": 1.0}

    monkeypatch.setattr(train_module, "validate_epoch", flat)


def test_patience_counts_epochs_and_stops_at_a_validation(cache, tmp_path, monkeypatch):  # noqa: F811
    _flat(monkeypatch)
    # best at epoch 2; epoch 4 is 2 epochs on, epoch 6 is 4 >= 3: stop there
    _train(cache, tmp_path, epochs=12, val_every=2, patience=3)
    assert [r["epoch"] for r in _history(tmp_path)] == [str(e) for e in range(1, 7)]
    assert checkpoint.load(tmp_path / "model.pt")["epoch"] == 2


def test_a_budget_that_ends_between_validations_validates_its_end(cache, tmp_path,  # noqa: F811
                                                                  clock):  # noqa: F811
    # 20 s an epoch in 60 s: epoch 3 is the last, not a multiple of 5; without it validated
    # there was no best.pt to write model.pt from
    _train(cache, tmp_path, epochs=10, val_every=5, max_minutes=1)
    rows = _history(tmp_path)
    assert [r["epoch"] for r in rows] == ["1", "2", "3"] and rows[-1]["val_loss"]
    assert checkpoint.load(tmp_path / "model.pt")["epoch"] == 3


def test_the_budget_prices_validations_apart_from_training():
    # four 10 s epochs and one of 10 s + 30 s of validation: one mean of 16 s mixed them
    clock_ = [[12.0, True, False], [10.0, False, False], [10.0, False, False],
              [10.0, False, False], [40.0, False, True]]
    assert epoch_costs(clock_) == (10.0, 30.0)
    # after epoch 5, 120 s: epochs 6-10 with 10's validation (80 s), 11 and its own (40 s)
    assert epochs_fit(5, 20, 5, (10.0, 30.0), 120.0) == 11
    assert epochs_fit(5, 20, 5, (10.0, 30.0), 35.0) == 5  # epoch 6 and its validation: 40 s
    assert epoch_costs([[20.0, True, True], [21.0, False, True]]) == (21.0, 0.0)


def test_plateau_waits_epochs_not_validations():
    assert [plateau_patience(n) for n in (1, 2, 3, 4, 5)] == [3, 1, 1, 0, 0]


def _stuck_row(epoch: int) -> dict:
    counts = pixel_counts(np.array([[90, 0], [10, 0]]))  # class 0 alone, masks hold both
    return {"epoch": epoch, "val_loss": 0.5, **count_columns(counts)}


def test_a_streak_of_validations_is_told_across_the_epochs_between(caplog):
    history = []
    for e in range(1, 11):
        history.append(_stuck_row(e) if e % 2 == 0 else {"epoch": e, "val_loss": None})
        with caplog.at_level(logging.WARNING):
            warn_stuck(history)
    stuck = [r.getMessage() for r in caplog.records if "alone" in r.getMessage()]
    assert len(stuck) == 1 and stuck[0].startswith("epochs 2-10 ")


def _rows(n: int) -> list[dict]:
    rows = []
    for e in range(1, n + 1):
        val = e % 3 == 0 or e == n
        rows.append({"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.0 / e if val else None,
                     "val_dice": e / 10 if val else None,
                     **{f"val_dice_{c}": e / 10 if val else None for c in range(2)},
                     "lr": 1e-3})
    return rows


def test_the_report_keeps_a_validated_epoch_and_draws_its_curves(tmp_path, monkeypatch):
    write_history(tmp_path / "h.csv", _rows(7))
    # max over rows whose first was blank kept that blank epoch 1 (NaN compares false)
    best = best_epochs([tmp_path / "h.csv"])[0]
    assert best["epoch"] == 7 and not math.isnan(best["val_dice"])
    figures = []
    monkeypatch.setattr(charts, "save_figure", lambda fig, out: figures.append(fig))
    charts.plot_curves([tmp_path / "h.csv"], tmp_path / "c.png")
    dice = figures[0].axes[1].get_lines()
    assert dice and all(list(line.get_xdata()) == [3, 6, 7] for line in dice)


def test_a_run_killed_between_validations_resumes_as_unbroken(cache, tmp_path,  # noqa: F811
                                                              monkeypatch):
    _train(cache, tmp_path / "whole", epochs=5, val_every=2)
    real = train_module.train_epoch

    def killed(run, e, *args, **kw):
        if e == 4:
            raise Interrupted(143)
        return real(run, e, *args, **kw)

    monkeypatch.setattr(train_module, "train_epoch", killed)
    with pytest.raises(SystemExit):
        _train(cache, tmp_path / "cut", epochs=5, val_every=2)
    monkeypatch.setattr(train_module, "train_epoch", real)
    _train(cache, tmp_path / "cut", epochs=5, val_every=2)
    keys = ("epoch", "train_loss", "val_loss", "val_dice", "lr")
    whole, cut = _history(tmp_path / "whole"), _history(tmp_path / "cut")
    assert [[r[k] for k in keys] for r in whole] == [[r[k] for k in keys] for r in cut]
    a, b = (checkpoint.load(tmp_path / d / "model.pt") for d in ("whole", "cut"))
    assert a["epoch"] == b["epoch"]
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])


@pytest.mark.parametrize("lowered", [{"epochs": 2}, {"max_minutes": 0.5}])
def test_a_resumed_run_ending_on_an_epoch_not_validated_keeps_a_model(
        cache, tmp_path, monkeypatch, clock, lowered):  # noqa: F811
    # killed in epoch 3 of 6 (val_every 5): last.pt holds epochs 1-2, none validated, no
    # best.pt; a lower train.epochs, or a budget the 40 s done overspend, ends it there
    real = train_module.train_epoch

    def killed(run, e, *args, **kw):
        if e == 3:
            raise Interrupted(143)
        return real(run, e, *args, **kw)

    monkeypatch.setattr(train_module, "train_epoch", killed)
    with pytest.raises(SystemExit):
        _train(cache, tmp_path, epochs=6, val_every=5)
    assert not (tmp_path / "ck" / "best.pt").exists()
    _train(cache, tmp_path, **{"epochs": 6, "val_every": 5, **lowered})
    rows = _history(tmp_path)
    assert [r["epoch"] for r in rows] == ["1", "2"] and rows[-1]["val_loss"]
    assert not rows[0]["val_loss"] and rows[-1]["train_loss"]
    assert checkpoint.load(tmp_path / "model.pt")["epoch"] == 2
    last = checkpoint.load(tmp_path / "ck" / "last.pt")["state"]
    assert last["validated"] == 2 and last["history"][-1]["val_loss"] is not None
