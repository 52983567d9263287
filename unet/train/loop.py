"""The parts of a training run: its setup, one epoch, the epoch's record, the stop rule."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, Dataset

from unet.common.device import amp_dtype, pick_device, set_deterministic
from unet.common.labels import IGNORE_INDEX
from unet.common.logs import progress
from unet.common.schema import default
from unet.evaluate.metrics import class_dice, foreground_dice
from unet.infer.tiles import Window
from unet.model.build import build_model, size_multiple
from unet.model.unet import UNetConfig
from unet.train.border import batch_weights
from unet.train.collapse import count_columns, pixel_counts
from unet.train.divergence import LossWatch, check_val_loss, check_weights
from unet.train.losses import DiceCELoss
from unet.train.optim import build_optimizer, build_scheduler, is_per_epoch, plateau_patience
from unet.train.settings import TrainSettings
from unet.train.signals import StopSignals, leave_stops_to_training
from unet.train.validate import evaluate_split, evaluate_tiled

log = logging.getLogger(__name__)
VAL_OVERLAP = default("predict", "overlap")  # validation tiles overlap as prediction's do


class Interrupted(SystemExit):
    """SIGTERM/SIGUSR1 arrived: the checkpoint is saved, exit non-zero so the job is retried."""


@dataclass
class Run:
    """Everything one training run holds: the model and its optimiser, the data, the device."""

    settings: TrainSettings
    config: UNetConfig
    device: torch.device
    dtype: torch.dtype | None  # autocast dtype; None = full precision
    repeatable: bool  # deterministic algorithms are on
    model: torch.nn.Module  # UNet, or EncoderUNet (arch smp)
    step_model: torch.nn.Module  # the model, or its torch.compile wrapper
    loss_fn: DiceCELoss
    opt: torch.optim.Optimizer
    sched: object  # LambdaLR or ReduceLROnPlateau
    scaler: torch.amp.GradScaler
    train_set: Dataset
    val_loader: DataLoader
    steps: int  # optimiser steps per epoch
    ema: AveragedModel | None = None  # train.ema: the weights' moving average
    scored_from: int = 1  # the first class val_dice averages: 0 without a background class
    val_cm: object = None  # the last validation's (C, C) confusion matrix (collapse check)
    held: list[int] | None = None  # classes the training rows hold (collapse advice)

    @property
    def eval_model(self) -> torch.nn.Module:
        """The weights that are validated and saved: the moving average when there is one."""
        return self.ema.module if self.ema is not None else self.model


def loader_options(settings: TrainSettings, device: torch.device) -> dict:
    """DataLoader keywords shared by the training and validation loaders."""
    return dict(
        batch_size=settings.batch_size,
        num_workers=settings.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=settings.num_workers > 0,
        worker_init_fn=leave_stops_to_training if settings.num_workers > 0 else None,
    )


def build_run(
    settings: TrainSettings,
    config: UNetConfig,
    train_set: Dataset,
    val_set: Dataset,
    scored_from: int = 1,
    encoder_source: dict | None = None,
) -> Run:
    """Device, model, loss, optimiser and schedule of a fresh run (seeded); `scored_from`: the
    first class the loss's Dice and val_dice count (0 when class 0 is no background);
    `encoder_source`: a fine-tuning source file's record of its timm folder or Hub encoder."""
    device = pick_device(settings.device)
    dtype = amp_dtype(device, settings.amp, settings.amp_cpu)
    repeatable = set_deterministic(settings.deterministic, device)
    torch.manual_seed(settings.seed)
    # fine-tuning: the source's weights (and input normalisation) replace the encoder's
    # pretrained ones, so none are downloaded, and its record of a timm folder or Hub encoder
    # builds the network, so neither is read
    model = build_model(config, pretrained=not settings.init_from,
                        source=encoder_source if settings.init_from else None).to(device)
    if settings.channels_last:
        model = model.to(memory_format=torch.channels_last)
    weights = settings.class_weights or None
    loss_fn = DiceCELoss(config.num_classes, settings.dice_weight, IGNORE_INDEX, weights,
                         scored_from)
    opt = build_optimizer(
        model.parameters(), settings.optimizer, settings.lr, settings.weight_decay,
        settings.momentum,
    )
    steps = len(train_set) // settings.batch_size  # drop_last: BatchNorm needs > 1 sample
    sched = build_scheduler(opt, settings.schedule, settings.epochs, steps, settings.warmup_epochs,
                            plateau_patience(settings.val_every))
    val_loader = DataLoader(val_set, shuffle=False, **loader_options(settings, device))
    # BatchNorm statistics are averaged too, so the average's buffers match its weights.
    ema = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(settings.ema), use_buffers=True)
           if settings.ema else None)
    return Run(
        settings, config, device, dtype, repeatable, model,
        torch.compile(model) if settings.compile else model, loss_fn.to(device), opt, sched,
        torch.amp.GradScaler(enabled=dtype == torch.float16), train_set, val_loader, steps, ema,
        scored_from,
    )


def _step(run: Run, images: torch.Tensor, masks: torch.Tensor,
          extra: torch.Tensor | None = None) -> torch.Tensor:
    """One optimiser step; returns the batch's loss on the device, unread (.item() waits).
    `extra`: the batch's border maps (B, H, W), made by the DataLoader workers."""
    s = run.settings
    images = images.to(run.device, non_blocking=True)
    if extra is None:  # a batch made without them (train.border_weight on): from the CPU masks
        extra = batch_weights(masks, s.border_weight)
    if extra is not None:
        extra = extra.to(run.device, non_blocking=True)
    masks = masks.to(run.device, non_blocking=True)
    if s.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    with torch.autocast(run.device.type, dtype=run.dtype, enabled=run.dtype is not None):
        loss = run.loss_fn(run.step_model(images), masks, extra)
    run.opt.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    if s.grad_clip:
        run.scaler.unscale_(run.opt)
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), s.grad_clip)
    run.scaler.step(run.opt)
    run.scaler.update()
    if not is_per_epoch(run.sched):
        run.sched.step()
    if run.ema is not None:
        run.ema.update_parameters(run.model)
    return loss.detach()


def epoch_loader(run: Run, epoch: int) -> DataLoader:
    """The shuffled training batches of `epoch`, drawn from seeds of (train.seed, epoch)."""
    seed = run.settings.seed * 100_003 + epoch
    torch.manual_seed(seed)
    if hasattr(run.train_set, "epoch_seed"):  # crops and augmentations seeded per sample
        run.train_set.epoch_seed = seed
    gen = torch.Generator().manual_seed(seed)
    options = loader_options(run.settings, run.device)
    return DataLoader(run.train_set, shuffle=True, drop_last=True, generator=gen, **options)


def train_epoch(run: Run, epoch: int, stop: StopSignals, done: int) -> tuple[float, int]:
    """One pass over the training rows; returns (mean loss, images seen). A stop signal ends
    the run here, keeping the checkpoint of epoch `done`."""
    # Per-epoch seeds instead of saved RNG states: a resumed run draws the same batches and
    # augmentations as an unbroken one.
    loader = epoch_loader(run, epoch)
    run.step_model.train()
    seen, watch = 0, LossWatch(run.device)
    for images, masks, *maps in progress(loader, f"epoch {epoch}", total=run.steps):
        watch.add(_step(run, images, masks, *maps), len(images))  # maps: train.border_weight
        seen += len(images)
        watch.check(run.model, epoch, done)  # a loss gone NaN stops the run now, not at the end
        if stop.signal:
            log.warning("signal %d: leaving the checkpoint of epoch %d", stop.signal, done)
            raise Interrupted(128 + stop.signal)
    watch.check(run.model, epoch, done, wait=True)  # the last steps' losses
    check_weights(run.model, epoch, done)
    check_weights(run.eval_model, epoch, done)  # the moving average too, when there is one
    return watch.mean(epoch, run.scaler.is_enabled()), seen


def validation_due(settings: TrainSettings, state: dict, epoch: int) -> bool:
    """Whether `epoch` is validated (train.val_every): every N-th, and the last one planned
    (train.epochs, or the end train.max_minutes planned), which model.pt must be chosen with."""
    last = min(settings.epochs, state.get("horizon", settings.epochs))
    return epoch % settings.val_every == 0 or epoch >= last


def score_validation(run: Run, model: torch.nn.Module) -> tuple[np.ndarray, dict]:
    """`model` on the validation rows: the confusion matrix and a history row's validation
    columns (an epoch's, and the fine-tuning source's before the first step)."""
    if run.settings.patch.size:  # patches: validate as prediction will run, tile by tile
        window = Window(run.settings.patch.hw, VAL_OVERLAP, run.settings.batch_size,
                        size_multiple(run.config))
        val_loss, cm = evaluate_tiled(model, run.val_loader.dataset, run.loss_fn, run.device,
                                      run.dtype, run.config.num_classes, window)
    else:
        val_loss, cm = evaluate_split(model, run.val_loader, run.loss_fn, run.device, run.dtype,
                                      run.config.num_classes)
    dice = class_dice(cm)  # NaN for a class neither the split nor the prediction holds
    fg = foreground_dice(cm, run.scored_from)  # the classes the split or prediction holds
    return cm, {"val_loss": val_loss, "val_dice": fg,
                **{f"val_dice_{c}": float(d) for c, d in enumerate(dice)},
                **count_columns(pixel_counts(cm))}  # the report's check of the kept epoch


def validate_epoch(run: Run, epoch: int, train_loss: float, seen: int, secs: float) -> dict:
    """Score the validation rows, step a plateau schedule, and log the epoch's history row."""
    cm, scores = score_validation(run, run.eval_model)
    check_val_loss(scores["val_loss"], epoch, epoch - 1)  # the checkpoint before stays
    run.val_cm = cm
    if is_per_epoch(run.sched):
        run.sched.step(scores["val_dice"])
    row = {**epoch_row(run, epoch, train_loss, seen, secs), **scores}
    dice = [row[f"val_dice_{c}"] for c in range(run.config.num_classes)]
    log.info(
        "epoch %d/%d train_loss %.4f val_loss %.4f val_dice %.4f (class %s) lr %.2e %.1fs "
        "%.1f img/s", epoch, run.settings.epochs, train_loss, row["val_loss"], row["val_dice"],
        " ".join(f"{c}: {d:.4f}" for c, d in enumerate(dice)), row["lr"], secs, row["images_per_s"])
    return row


def validate_end(run: Run, state: dict) -> bool:
    """Validate the epoch training ends on when it was not (train.val_every): a budget's end
    between validations, or a resumed last.pt that a lower train.epochs or train.max_minutes
    ends at once, before any validation; without it no best.pt existed to write model.pt from.
    Its history row gets the validation columns; returns whether it validated."""
    row = state["history"][-1] if state["history"] else None
    if row is None or state.get("validated") == row["epoch"]:
        return False
    log.info("training ends after epoch %d, not validated (train.val_every=%d): validating it",
             row["epoch"], run.settings.val_every)
    done = validate_epoch(run, row["epoch"], row["train_loss"],
                          row["images_per_s"] * row["seconds"], row["seconds"])
    keep = ("train_loss", "lr", "seconds", "images_per_s")  # the epoch's, not this moment's
    state["history"][-1] = {**done, **{k: row[k] for k in keep}}
    return True


def epoch_row(run: Run, epoch: int, train_loss: float, seen: int, secs: float) -> dict:
    """The history row of an epoch not validated (train.val_every): its validation columns
    None, blank in history.csv, in the order a validated row has them."""
    c = run.config.num_classes
    val = ["val_loss", "val_dice", *(f"val_dice_{k}" for k in range(c)), "lr", "seconds",
           "images_per_s", *count_columns(pixel_counts(np.zeros((c, c), np.int64)))]
    row = {"epoch": epoch, "train_loss": train_loss, **dict.fromkeys(val)}
    row.update(lr=run.opt.param_groups[0]["lr"], seconds=secs, images_per_s=seen / secs)
    return row


def log_unvalidated(run: Run, row: dict) -> None:
    """The one line of an epoch not validated."""
    log.info("epoch %d/%d train_loss %.4f (not validated: train.val_every=%d) lr %.2e %.1fs "
             "%.1f img/s", row["epoch"], run.settings.epochs, row["train_loss"],
             run.settings.val_every, row["lr"], row["seconds"], row["images_per_s"])


def should_stop(settings: TrainSettings, state: dict) -> bool:
    """Early stopping (patience) or the time budget (max_minutes; budget.fit_budget ends its
    plan at the current epoch once the budget is spent) ends training cleanly."""
    if settings.patience and state["stale"] >= settings.patience:
        log.info("early stop: no better val Dice in %d epochs", settings.patience)
        return True
    if budget_spent(settings, state):
        log.info("train.max_minutes=%s: stopping after epoch %d, the last that fits",
                 settings.max_minutes, state["epoch"])
        return True
    return False


def budget_spent(settings: TrainSettings, state: dict) -> bool:
    """train.max_minutes: the epoch done is the last its plan fits."""
    return bool(settings.max_minutes) and state["epoch"] >= state.get("horizon", settings.epochs)


def last_record(run: Run, settings_hash: str, state: dict) -> dict:
    """checkpoints/last.pt: everything a killed job needs to continue where it stopped."""
    return {
        "config_hash": settings_hash,
        "epochs": run.settings.epochs,  # as planned now: a longer run re-plans from it
        "state_dict": run.model.state_dict(),
        "optimizer": run.opt.state_dict(),
        "scheduler": run.sched.state_dict(),
        "scaler": run.scaler.state_dict(),
        "ema": run.ema.state_dict() if run.ema is not None else None,
        "state": state,
    }


def settings_dict(run: Run) -> dict:
    """The training settings as plain data (for checkpoints and hashes)."""
    return asdict(run.settings)
