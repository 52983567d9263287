"""`train_unet`: train on the cache, keep best/last checkpoints, resume after a kill."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from pathlib import Path

from unet.common.channels import channels_are_bands
from unet.common.device import set_threads, share_cores
from unet.common.fileio import drop_scratch, read_json
from unet.common.labels import mapping_from_meta, shown_names
from unet.model import checkpoint
from unet.model.unet import UNetConfig
from unet.train import augment, resume
from unet.train.budget import fit_budget, time_epoch
from unet.train.classes import trained_classes
from unet.train.collapse import pixel_counts, warn_collapse, warn_stuck
from unet.train.dataset import CachedRows
from unet.train.finetune import (
    file_digest,
    fold_source,
    recorded_encoder,
    source_record,
    source_weights,
)
from unet.train.folds import fold_rows, labelled_rows
from unet.train.history import write_history
from unet.train.loop import (
    Run,
    build_run,
    epoch_row,
    last_record,
    log_unvalidated,
    settings_dict,
    should_stop,
    train_epoch,
    validate_end,
    validate_epoch,
    validation_due,
)
from unet.train.patches import PatchRows
from unet.train.precision import (
    keep_autocast,
    kept_spans,
    note_precision,
    note_threads,
    source_spans,
)
from unet.train.settings import TrainingError, TrainSettings, check_settings, check_val
from unet.train.signals import StopSignals, worker_deaths
from unet.train.source_score import note_source, score_source

log = logging.getLogger(__name__)


def _datasets(cache_dir: str | os.PathLike, meta: dict, settings: TrainSettings, fold: int | None):
    """(training rows, augmented; validation rows): the cached splits, or a fold's rows."""
    patch = settings.patch
    size = patch.hw or (meta["size"][1], meta["size"][0])  # (H, W) of a training sample
    def aug(h: int, w: int):  # the augmentation of training samples of (h, w)
        return augment.build(settings.augment, (h, w), meta["in_channels"],
                             channels_are_bands(meta))
    transform = aug(*size)
    if fold is None:
        train_rows = [("train", k) for k in range(len(meta["splits"]["train"]["ids"]))]
        val_rows = [("val", k) for k in range(len(meta["splits"]["val"]["ids"]))]
    else:
        train_rows, val_rows = fold_rows(meta, fold)
    train_rows = labelled_rows(meta, train_rows)  # all ignored: nothing to learn from
    if patch.size:  # native size or large images: patches, some centred on foreground
        train = PatchRows(cache_dir, train_rows, patch.hw, patch.foreground, patch.per_image,
                          transform, mapping_from_meta(meta).scored_from)
        if settings.num_workers:  # found once here, not by every epoch's new workers
            train.prepare()
    else:
        train = CachedRows(cache_dir, train_rows, transform)
    train.use_border(settings.border_weight, aug)  # the maps made in the DataLoader workers
    return train, CachedRows(cache_dir, val_rows)


def _share_cores(settings: TrainSettings, threads: int) -> tuple[int, TrainSettings]:
    """torch's threads, and the settings with train.num_workers lowered to the cores the job
    has left (one line says so): each worker is a busy process, and more of them than cores
    only queue for those cores (torch also printed a many-line warning about it)."""
    n_threads, workers = share_cores(threads, settings.num_workers)
    if workers < settings.num_workers:
        log.info(
            "train.num_workers %d lowered to %d: this job has %d CPU cores (its threads, at "
            "most --cores and the usable cores; cpus-per-task on SLURM) and training keeps %d",
            settings.num_workers, workers, n_threads + workers, n_threads,
        )
        settings = replace(settings, num_workers=workers)
    return set_threads(n_threads), settings


def _log_start(run: Run, fold: int | None, threads: int) -> None:
    log.info(
        "%s%s on %s (amp %s, %s, %d CPU threads), %d train %s / %d val images, %d steps per epoch",
        run.config, "" if fold is None else f" fold {fold}", run.device, run.dtype,
        # On the CPU the weights depend on the thread count too (how sums are split).
        "deterministic" if run.repeatable else "not deterministic", threads,
        len(run.train_set), "patches" if run.settings.patch.size else "images",
        len(run.val_loader.dataset), run.steps,
    )


def _keep_if_best(state: dict, row: dict, best_path: Path, record: dict) -> None:
    """Save best.pt when this epoch's foreground Dice beats every earlier one, or equals the
    best and its validation loss is lower: Dice ties (0.0 while no foreground is predicted
    yet, 1.0 on a split without any) would otherwise keep the first, least trained epoch."""
    dice, loss = row["val_dice"], row["val_loss"]
    if dice > state["best"] or (dice == state["best"]
                                and loss < state.get("best_loss", float("inf"))):
        state["best"], state["best_loss"], state["stale"] = dice, loss, 0
        checkpoint.save(best_path, record)
    else:  # train.patience counts epochs, those between validations (train.val_every) too
        state["stale"] += row["epoch"] - state.get("validated", row["epoch"] - 1)
    state["validated"] = row["epoch"]


def _final_model(best_path: Path, run, names: list | None, trained: list[int],
                 source_sha: str | None, state: dict) -> dict:
    """best.pt as model.pt, with this run's training settings, class names and trained
    classes: a resumed run's best epoch may predate a change of epochs or device, or of the
    names, or the record of the classes (a best.pt of an older version); `source_sha`: the
    fine-tuning source file's sha256, which its path alone does not tell once replaced; the
    precision its epochs up to the kept one computed in, from `state`."""
    best = checkpoint.load(best_path)
    best["init_sha256"] = source_sha
    best["train_settings"] = settings_dict(run)
    best["class_names"] = names
    best["trained_classes"] = trained
    best["trained_precision"] = kept_spans(state, best["epoch"])  # device, autocast dtype
    note_source(best, state)  # its score before fine-tuning; a warning when the kept is lower
    return best


def _read_source(settings: TrainSettings, config: UNetConfig, meta: dict, fold: int | None,
                 model_out: str | os.PathLike) -> tuple[str, dict] | None:
    """Fine-tuning (train.init_from; {fold}: this fold's own source): the source file's path
    and contents, checked against this run, read before the network is built from its record."""
    if not settings.init_from:
        return None
    source = fold_source(settings.init_from, fold)
    try:
        return source, source_record(source, config, meta, fold, settings.reinit_head)
    except (checkpoint.CheckpointError, TrainingError) as err:  # which run, in a workflow log
        raise type(err)(f"{err} (training {model_out})") from None


def _start_from_source(run: Run, start: tuple[str, dict] | None, config: UNetConfig,
                       data: dict) -> None:
    """The source's weights, and its digest in what the resume check compares. A resumed
    last.pt overrides them."""
    if start is None:
        return
    source, ckpt = start
    run.model.load_state_dict(source_weights(source, config, {}, model=run.model, ckpt=ckpt,
                                             new_head=run.settings.reinit_head))
    data["init_sha256"] = file_digest(source)


def train_unet(
    cache_dir: str | os.PathLike,
    model_out: str | os.PathLike,
    history_out: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    model_settings: dict,
    settings: TrainSettings,
    threads: int = 1,
    fold: int | None = None,
    class_names: list[str] | None = None,
) -> dict:
    """Train a UNet on the cached train split, select on val; returns the best checkpoint.
    With `fold` (cross-validation), train on the other folds and select on this one.
    `class_names` (masks.names; else the data's) label the classes in model.pt."""
    meta = read_json(Path(cache_dir) / "meta.json")
    config = UNetConfig(
        in_channels=meta["in_channels"], num_classes=meta["num_classes"], **model_settings
    )
    # refused before an epoch: a rename leaves the cache, which checked the count, alone
    names = shown_names(class_names, meta)
    n_threads, settings = _share_cores(settings, threads)
    train_set, val_set = _datasets(cache_dir, meta, settings, fold)
    check_val(len(val_set), fold)
    check_settings(settings, len(train_set), meta["size"], config)
    start = _read_source(settings, config, meta, fold, model_out)
    run = build_run(settings, config, train_set, val_set, mapping_from_meta(meta).scored_from,
                    recorded_encoder(start and start[1]))
    # What the epochs done depend on; the classes' names (masks.names) only label them
    data = {**meta, "fold": fold, "code": resume.code_digest(), "class_names": None}
    _start_from_source(run, start, config, data)
    trained = _trained(cache_dir, train_set, config, settings, fold, meta, run)
    ckdir = Path(checkpoint_dir)
    drop_scratch(ckdir / "last.pt", ckdir / "best.pt")  # what a job killed saving them left
    chash = resume.settings_hash(config.to_dict(), settings_dict(run), data, run.device.type)
    state = _resume(run, ckdir / "last.pt", chash, n_threads)
    state["source_precision"] = source_spans(start and start[1])  # its weights began as these
    _log_start(run, fold, n_threads)
    score_source(run, state)  # fine-tuning: the source on this validation, epoch 0
    marks = [time.monotonic()]  # the start, then each epoch's end: time_epoch's clock
    with StopSignals() as stop, worker_deaths():
        first = state["epoch"] + 1
        for epoch in range(first, resume.last_epoch(settings.epochs, settings.patience, state) + 1):
            t0 = time.perf_counter()
            loss, seen = train_epoch(run, epoch, stop, state["epoch"])
            secs = time.perf_counter() - t0
            due = validation_due(settings, state, epoch)
            row = (validate_epoch if due else epoch_row)(run, epoch, loss, seen, secs)
            _add_epoch(run, state, row, first > 1 and epoch == first, due)
            state["epoch"] = epoch
            if due:
                _keep(run, state, row, ckdir, meta, fold, chash, trained)
            time_epoch(state, marks, due)
            fit_budget(run, state)
            checkpoint.save(ckdir / "last.pt", last_record(run, chash, state))
            if should_stop(settings, state):
                break
        if validate_end(run, state):  # model.pt needs a validated epoch, a best.pt
            _keep(run, state, state["history"][-1], ckdir, meta, fold, chash, trained)
            checkpoint.save(ckdir / "last.pt", last_record(run, chash, state))
    return _finish(run, state, names, ckdir, model_out, history_out, trained, data)


def _keep(run: Run, state: dict, row: dict, ckdir: Path, meta: dict, fold: int | None,
          chash: str, trained: list[int]) -> None:
    """A validated epoch: best.pt when it is the best yet, and the kept epoch's pixel counts."""
    dice = [row[f"val_dice_{c}"] for c in range(run.config.num_classes)]
    record = checkpoint.model_record(
        run.config.to_dict(), run.eval_model.state_dict(), meta, settings_dict(run),
        row["epoch"], fold, dice, chash, trained_classes=trained,
        encoder_source=getattr(run.model, "source", None),
    )
    record["trained_precision"] = kept_spans(state, row["epoch"])  # best.pt tells it too
    _keep_if_best(state, row, ckdir / "best.pt", record)
    state["best_pixels"] = _best_pixels(run, state)


def _resume(run: Run, last: Path, chash: str, threads: int) -> dict:
    """The state of the epochs done: last.pt's when this run continues it, its learning-rate
    plan ended in the time budget that is left, its precision kept, its thread count noted."""
    s = run.settings
    state = resume.restore(last, chash, s.epochs, run.device, run.model, run.opt, run.sched,
                           run.scaler, run.ema, s.max_minutes)
    fit_budget(run, state)  # the epochs done count: the budget is the whole run's
    keep_autocast(run, state)
    note_precision(run, state)  # after keep_autocast: the dtype these epochs compute in
    note_threads(run, state, threads)
    return state


def _add_epoch(run: Run, state: dict, row: dict, resumed: bool, validated: bool) -> None:
    """The epoch's row into the history, and a warning once it has predicted one class alone
    for too long (`resumed`: the first epoch of a job resumed from last.pt; an epoch not
    validated only logs its line, or the streak its validations made would be told again)."""
    state["history"].append(row)
    if not validated:
        log_unvalidated(run, row)
    if validated or resumed:
        warn_stuck(state["history"], resumed, run.held)


def _trained(cache_dir, train_set, config: UNetConfig, settings: TrainSettings,
             fold: int | None, meta: dict, run: Run | None = None) -> list[int]:
    """What prediction may give: the classes with a pixel in this run's training rows (one
    without is unknown to the model) and those its fine-tuning source trained on (not with
    train.reinit_head: the source's output layer, and what it knew, is not kept). The rows'
    own go to `run.held`: fine-tuning on rows without a class unlearns it, so the advice for
    a class not learnt is the split's, whether the source knew it or not."""
    held = trained_classes(cache_dir, train_set.rows, config.num_classes, None, meta, fold)
    if run is not None:
        run.held = held
    if not settings.init_from or settings.reinit_head:
        return held
    source = fold_source(settings.init_from, fold)
    return trained_classes(cache_dir, train_set.rows, config.num_classes, source, meta, fold)


def _best_pixels(run: Run, state: dict) -> dict | None:
    """The kept epoch's validation pixel counts per class: this epoch's when it was kept."""
    kept = state["stale"] == 0 and run.val_cm is not None
    return pixel_counts(run.val_cm) if kept else state.get("best_pixels")


def _finish(run: Run, state: dict, names: list | None, ckdir: Path, model_out,
            history_out, trained: list[int], data: dict) -> dict:
    """Write model.pt (best.pt in `ckdir`; `data`: what the resume check compares, the source
    file's digest with it) and history.csv, log the kept epoch, and warn if it learnt nothing."""
    best = _final_model(ckdir / "best.pt", run, names, trained, data.get("init_sha256"), state)
    checkpoint.save(model_out, best)
    write_history(history_out, state["history"])
    log.info("best val Dice %.4f at epoch %d", state["best"], best["epoch"])
    warn_collapse(state.get("best_pixels"), run.scored_from, best["epoch"], run.held, names)
    return best
