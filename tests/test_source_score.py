"""Fine-tuning scores its source on the run's validation before the first step (history.csv's
epoch 0, model.pt's record, the log) and warns when the kept model scores below it."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest

from unet.model import checkpoint
from unet.model.describe import describe_model
from unet.report.charts import plot_curves
from unet.report.cross_validation import best_epochs
from unet.train.collapse import STREAK, count_columns, pixel_counts, warn_stuck
from unet.train.history import read_history
from unet.train.settings import TrainSettings
from unet.train.train import train_unet

MODEL = {"depth": 2, "base_width": 8}


@pytest.fixture(scope="module")
def cache(synthetic_cache) -> Path:
    return synthetic_cache("src", {"count": 40, "width": 48, "height": 32, "seed": 5}, (48, 32))


@pytest.fixture(scope="module")
def source(cache, tmp_path_factory) -> Path:
    """A source that tells the classes apart (6 epochs at lr 0.01)."""
    out = tmp_path_factory.mktemp("source")
    _train(cache, out, epochs=6, lr=0.01)
    return out / "model.pt"


def _train(cache: Path, out: Path, **kw) -> dict:
    settings = TrainSettings(**{"batch_size": 4, "device": "cpu", **kw})
    train_unet(cache, out / "model.pt", out / "history.csv", out / "ck", MODEL, settings)
    return checkpoint.load(out / "model.pt")


def test_the_source_is_epoch_0_of_the_history_the_log_and_model_pt(cache, source, tmp_path,
                                                                   caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    figures = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                        lambda fig, *a, **k: figures.append(fig))
    theirs = checkpoint.load(source)
    tuned = _train(cache, tmp_path, epochs=1, lr=1e-4, init_from=str(source))
    rows = read_history(tmp_path / "history.csv")
    assert [r["epoch"] for r in rows] == [0, 1]
    # the loaded source scores its own validation Dice (the same split, the same code path)
    assert rows[0]["val_dice"] == pytest.approx(theirs["val_dice"][1], abs=1e-12)
    assert rows[0]["train_loss"] != rows[0]["train_loss"]  # blank: it trained on nothing
    assert f"source model: val Dice {rows[0]['val_dice']:.4f} on this run's validation" \
        in caplog.text
    assert tuned["source_val_dice"] == pytest.approx([rows[0]["val_dice_0"],
                                                      rows[0]["val_dice_1"]])
    assert f"source     validation Dice per class 0: {rows[0]['val_dice_0']:.4f}" \
        in describe_model(tmp_path / "model.pt")
    plot_curves([tmp_path / "history.csv"], tmp_path / "curves.png")
    # every line draws: the one trained epoch's loss and rate (epoch 0 has none) get a dot
    for line in (line for ax in figures[0].axes for line in ax.get_lines()):
        points = np.isfinite(np.asarray(line.get_ydata(), float)).sum()
        assert points > 1 or line.get_marker() not in (None, "None", ""), line.get_label()


def test_a_kept_model_below_its_source_is_warned_of(cache, source, tmp_path, caplog):
    # lr 1 with adamw moves every weight by about 1 a step: the kept epoch has collapsed
    tuned = _train(cache, tmp_path, epochs=1, lr=1.0, warmup_epochs=0, init_from=str(source))
    rows = read_history(tmp_path / "history.csv")
    assert rows[0]["val_dice"] > rows[1]["val_dice"], rows
    warned = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"scores val Dice {rows[1]['val_dice']:.4f}, below its fine-tuning source's "
               f"{rows[0]['val_dice']:.4f}" in m and "fine-tune longer" in m for m in warned)
    # the source is not a candidate: model.pt, the report and cross-validation keep epoch 1
    assert tuned["epoch"] == 1 and best_epochs([tmp_path / "history.csv"])[0]["epoch"] == 1


def test_a_run_without_init_from_has_no_epoch_0(cache, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    trained = _train(cache, tmp_path, epochs=1)
    assert [r["epoch"] for r in read_history(tmp_path / "history.csv")] == [1]
    assert trained["source_val_dice"] is None and "source model" not in caplog.text
    assert "source " not in describe_model(tmp_path / "model.pt")


def test_a_resumed_run_does_not_score_the_source_again(cache, source, tmp_path, caplog):
    _train(cache, tmp_path, epochs=1, lr=1e-4, init_from=str(source))
    caplog.clear()
    caplog.set_level(logging.INFO)
    _train(cache, tmp_path, epochs=2, lr=1e-4, init_from=str(source))  # epochs: resumed
    assert "resuming from" in caplog.text and "source model" not in caplog.text
    assert [r["epoch"] for r in read_history(tmp_path / "history.csv")] == [0, 1, 2]


def test_a_source_that_predicts_one_class_starts_no_streak(caplog):
    # the streak of epochs predicting one class alone counts trained epochs, not the source
    stuck = count_columns(pixel_counts(np.array([[90, 0], [10, 0]])))  # class 0 alone
    history = []
    for epoch in range(STREAK + 1):
        history.append({"epoch": epoch, "val_loss": 0.5, **stuck})
        with caplog.at_level(logging.WARNING):
            warn_stuck(history)
    told = [r.getMessage() for r in caplog.records if "alone" in r.getMessage()]
    assert len(told) == 1 and told[0].startswith(f"epochs 1-{STREAK} "), told
