"""Fine-tuning (train.init_from): the source model scored on this run's validation split before
the first step, as history.csv's epoch 0, and a warning when the kept model scores below it."""

from __future__ import annotations

import logging
import time

from unet.train.loop import Run, epoch_row, score_validation

log = logging.getLogger(__name__)


def score_source(run: Run, state: dict) -> None:
    """Validate the loaded source (run.model: the moving average of train.ema is still the
    random initialisation) on this run's validation rows and keep it as the epoch-0 row and
    in `state` (last.pt keeps both: a resumed run does not score it again). Not with
    train.reinit_head: its output layer is new, so the network scored is not the source."""
    s = run.settings
    if not s.init_from or state["epoch"] or "source_dice" in state:
        return
    if s.reinit_head:
        log.info("source model not scored on this run's validation: train.reinit_head gives "
                 "it a new output layer")
        return
    t0 = time.perf_counter()
    _, scores = score_validation(run, run.model)
    secs = time.perf_counter() - t0
    # No training loss, rate or throughput: it trained on nothing of this run
    row = {**epoch_row(run, 0, 0.0, 0, secs), **scores,
           "train_loss": None, "lr": None, "images_per_s": None}
    state["history"].append(row)
    dice = [row[f"val_dice_{c}"] for c in range(run.config.num_classes)]
    state["source_dice"], state["source_dice_per_class"] = row["val_dice"], dice
    log.info("source model: val Dice %.4f on this run's validation (class %s; val_loss %.4f, "
             "epoch 0 in history.csv)", row["val_dice"],
             " ".join(f"{c}: {d:.4f}" for c, d in enumerate(dice)), row["val_loss"])


def note_source(best: dict, state: dict) -> None:
    """The source's validation Dice per class into model.pt's record (`unet info` shows it),
    and a warning when the kept model scores below it."""
    source = state.get("source_dice")
    best["source_val_dice"] = state.get("source_dice_per_class")
    if source is None or not state["best"] < source:
        return
    log.warning(
        "the kept model (epoch %d) scores val Dice %.4f, below its fine-tuning source's %.4f "
        "on this run's validation (epoch 0 in history.csv): fine-tune longer (train.epochs) or "
        "at a lower train.lr, or start from a source trained longer: a young source's "
        "BatchNorm running statistics move in the first steps, even at lr 0 (README "
        "\"Fine-tuning\"); the source file itself is the better model on these images",
        best["epoch"], state["best"], source)
