"""Which epoch best.pt (and so model.pt) keeps: the highest validation Dice; among epochs of
equal Dice, the lowest validation loss. A tie kept the first epoch: a model that predicted
no foreground for all 12 epochs (Dice 0.0 each time) or a validation split without
foreground (1.0 each time) was written as epoch 1's, the least trained, whatever its loss."""

from __future__ import annotations

import math

from unet.train.resume import fresh_state
from unet.train.train import _keep_if_best


def _epochs(tmp_path, rows: list[tuple[float, float]], monkeypatch) -> tuple[list[int], dict]:
    kept = []
    monkeypatch.setattr("unet.model.checkpoint.save", lambda path, record: kept.append(record))
    state = fresh_state()
    for epoch, (dice, loss) in enumerate(rows, 1):
        _keep_if_best(state, {"epoch": epoch, "val_dice": dice, "val_loss": loss},
                      tmp_path / "best.pt", epoch)
    return kept, state


def test_equal_dice_keeps_the_epoch_of_lower_validation_loss(tmp_path, monkeypatch):
    kept, state = _epochs(tmp_path, [(0.0, 1.8), (0.0, 1.7), (0.0, 1.75), (0.0, 1.6)],
                          monkeypatch)
    assert kept == [1, 2, 4]
    assert state["best"] == 0.0 and state["best_loss"] == 1.6
    assert state["stale"] == 0  # epoch 4 was better: patience counts from it


def test_higher_dice_wins_over_a_lower_loss(tmp_path, monkeypatch):
    kept, state = _epochs(tmp_path, [(0.5, 1.0), (0.4, 0.5), (0.5, 1.2), (0.6, 2.0)],
                          monkeypatch)
    assert kept == [1, 4]
    assert state["stale"] == 0 and state["best"] == 0.6 and math.isclose(state["best_loss"], 2)
    kept, state = _epochs(tmp_path, [(0.5, 1.0), (0.4, 0.5), (0.5, 1.2)], monkeypatch)
    assert kept == [1] and state["stale"] == 2
