"""history.csv across a resume: rows written by an older version lack newer columns."""

from __future__ import annotations

import math

from unet.report.training import training_verdict
from unet.train.collapse import counts_from_row
from unet.train.history import read_history, write_history


def test_a_history_whose_later_epochs_gained_columns_is_written_whole(tmp_path):
    # epochs 1-2 from a checkpoint of a version without the pixel counts, 3 from this one
    old = [{"epoch": e, "val_dice": 0.5, "val_loss": 1.0} for e in (1, 2)]
    new = {"epoch": 3, "val_dice": 0.6, "val_loss": 0.9, "val_px_0": 10, "val_px_1": 5,
           "val_pred_px_0": 12, "val_pred_px_1": 3, "val_hit_px_0": 10, "val_hit_px_1": 3}
    path = tmp_path / "history.csv"
    write_history(path, [*old, new])
    rows = read_history(path)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[2]["val_px_1"] == 5
    assert math.isnan(rows[0]["val_px_1"])
    assert counts_from_row(rows[0]) is None  # an old epoch is not judged
    assert counts_from_row(rows[2])["hit"] == [10, 3]
    # the old epochs are the kept ones here: no verdict rather than a crash
    write_history(path, [{**old[0], "val_dice": 0.9}, new])
    assert training_verdict([path], 1) == ""
