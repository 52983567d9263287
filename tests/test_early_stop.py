"""A run that stopped early (train.patience) and is started again, for a changed setting that
does not shape the computation (num_workers, device, a raised max_minutes) or after a kill
between its last checkpoint and model.pt, stays stopped: it went on training from last.pt,
and a better later epoch replaced the model an unbroken run wrote."""

from __future__ import annotations

import csv
import logging

from tests.test_train import _train, cache  # noqa: F401  (the module's fixture)
from unet.model import checkpoint
from unet.train import train as train_module


def _flat_scores(monkeypatch):
    """Every epoch scores the same validation Dice and loss: epoch 1 stays the best."""
    real = train_module.validate_epoch

    def flat(*args, **kw):
        row = real(*args, **kw)
        return {**row, "val_dice": 0.5, "val_loss": 1.0}

    monkeypatch.setattr(train_module, "validate_epoch", flat)


def _epochs(folder) -> list[str]:
    with open(folder / "history.csv") as f:
        return [r["epoch"] for r in csv.DictReader(f)]


def test_an_early_stopped_run_started_again_stays_stopped(cache, tmp_path, monkeypatch,  # noqa: F811
                                                          caplog):
    caplog.set_level(logging.INFO)
    _flat_scores(monkeypatch)
    _train(cache, tmp_path, epochs=6, patience=2)
    assert _epochs(tmp_path) == ["1", "2", "3"]
    first = checkpoint.load(tmp_path / "model.pt")
    _train(cache, tmp_path, epochs=6, patience=2, num_workers=1)  # unhashed: resumes
    assert _epochs(tmp_path) == ["1", "2", "3"]
    assert "stopped early after epoch 3" in caplog.text
    again = checkpoint.load(tmp_path / "model.pt")
    assert again["epoch"] == first["epoch"] == 1
    # a raised patience is what continues such a run
    _train(cache, tmp_path, epochs=6, patience=3)
    assert _epochs(tmp_path) == ["1", "2", "3", "4"]
