"""`train_unet`: train on the cache, keep best/last checkpoints, resume after a kill."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from unet import augment, checkpoint, resume
from unet.data import CachedRows, CachedSplit
from unet.device import amp_dtype, pick_device, set_deterministic, set_threads
from unet.fileio import read_json
from unet.folds import fold_rows
from unet.history import write_history
from unet.logs import progress
from unet.losses import DiceCELoss
from unet.masks import IGNORE_INDEX
from unet.model import UNet, UNetConfig
from unet.optim import build_optimizer, build_scheduler, is_per_epoch
from unet.signals import StopSignals
from unet.validate import evaluate_split

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings (config section `train`)."""

    epochs: int = 12
    batch_size: int = 8
    optimizer: str = "adamw"  # adamw | sgd | rmsprop
    lr: float = 2e-3
    momentum: float = 0.9  # sgd (Nesterov) and rmsprop
    weight_decay: float = 1e-4
    schedule: str = "cosine"  # cosine | poly | plateau | constant
    warmup_epochs: int = 1
    grad_clip: float = 0.0  # max gradient norm; 0 = off
    dice_weight: float = 1.0
    class_weights: list[float] = field(default_factory=list)  # cross-entropy weights; [] = equal
    patience: int = 0  # early stopping after this many epochs without a better val Dice; 0 = off
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True  # NHWC: faster convolutions on CUDA and on CPU (oneDNN)
    compile: bool = False  # torch.compile the model (CUDA; slow to start)
    num_workers: int = 0
    augment: dict = field(default_factory=dict)  # AugmentSettings fields
    deterministic: bool | str = "auto"  # auto = on except on CUDA (cudnn autotuning there)
    max_minutes: float = 0.0  # stop cleanly after this long (0 = no limit), before a walltime


class TrainingError(ValueError):
    """The settings cannot work with this data (said before any epoch runs)."""


class Interrupted(SystemExit):
    """SIGTERM/SIGUSR1 arrived: the checkpoint is saved, exit non-zero so the job is retried."""


def _check(settings: TrainSettings, n_train: int, size: list[int], mcfg: UNetConfig) -> None:
    if settings.batch_size > n_train:
        raise TrainingError(
            f"train.batch_size={settings.batch_size} is larger than the training split "
            f"({n_train} images); lower train.batch_size or add images"
        )
    if min(size) < UNet.min_size(mcfg.depth):
        raise TrainingError(
            f"preprocess size {size[0]}x{size[1]} is too small for model.depth={mcfg.depth} "
            f"(needs at least {UNet.min_size(mcfg.depth)} px a side); enlarge preprocess or "
            "lower depth"
        )
    crop = settings.augment.get("crop")
    if crop and (crop[0] > size[0] or crop[1] > size[1] or min(crop) < UNet.min_size(mcfg.depth)):
        raise TrainingError(
            f"train.augment.crop {crop[0]}x{crop[1]} must fit in the preprocess size "
            f"{size[0]}x{size[1]} and be at least {UNet.min_size(mcfg.depth)} px a side "
            f"for model.depth={mcfg.depth}"
        )
    if settings.class_weights and len(settings.class_weights) != mcfg.num_classes:
        raise TrainingError(
            f"train.class_weights has {len(settings.class_weights)} values but the data has "
            f"{mcfg.num_classes} classes; give one weight per class or []"
        )


def train(
    cache_dir: str | os.PathLike,
    model_out: str | os.PathLike,
    history_out: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    model_settings: dict,
    settings: TrainSettings,
    threads: int = 1,
    fold: int | None = None,
) -> dict:
    """Train a UNet on the cached train split, select on val; returns the best checkpoint.

    With `fold` (cross-validation), train on the other folds and select on this one.
    """
    meta = read_json(Path(cache_dir) / "meta.json")
    mcfg = UNetConfig(
        in_channels=meta["in_channels"], num_classes=meta["num_classes"], **model_settings
    )
    transform = augment.build(
        augment.AugmentSettings(**settings.augment), (meta["size"][1], meta["size"][0])
    )
    if fold is None:
        train_set, val_set = (
            CachedSplit(cache_dir, "train", transform),
            CachedSplit(cache_dir, "val"),
        )
    else:
        train_rows, val_rows = fold_rows(meta, fold)
        train_set, val_set = (
            CachedRows(cache_dir, train_rows, transform),
            CachedRows(cache_dir, val_rows),
        )
    _check(settings, len(train_set), meta["size"], mcfg)
    n_threads = set_threads(threads)
    device = pick_device(settings.device)
    dtype = amp_dtype(device, settings.amp)
    repeatable = set_deterministic(settings.deterministic, device)
    torch.manual_seed(settings.seed)
    model = UNet(mcfg).to(device)
    if settings.channels_last:
        model = model.to(memory_format=torch.channels_last)
    step_model = torch.compile(model) if settings.compile else model
    loss_fn = DiceCELoss(
        mcfg.num_classes, settings.dice_weight, IGNORE_INDEX, settings.class_weights or None
    ).to(device)
    opt = build_optimizer(
        model.parameters(),
        settings.optimizer,
        settings.lr,
        settings.weight_decay,
        settings.momentum,
    )
    loader_kw = dict(
        batch_size=settings.batch_size,
        num_workers=settings.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=settings.num_workers > 0,
    )
    val_loader = DataLoader(val_set, shuffle=False, **loader_kw)
    steps = len(train_set) // settings.batch_size  # drop_last: BatchNorm needs > 1 sample
    sched = build_scheduler(opt, settings.schedule, settings.epochs, steps, settings.warmup_epochs)
    scaler = torch.amp.GradScaler(enabled=dtype == torch.float16)

    ckdir = Path(checkpoint_dir)
    last = ckdir / "last.pt"
    chash = resume.settings_hash(mcfg.to_dict(), asdict(settings), {**meta, "fold": fold})
    state = resume.restore(last, chash, settings.epochs, device, model, opt, sched, scaler)
    log.info(
        "%s%s on %s (amp %s, %s, %d CPU threads), %d train / %d val images, %d steps per epoch",
        mcfg,
        "" if fold is None else f" fold {fold}",
        device,
        dtype,
        # On the CPU the weights depend on the thread count too (how sums are split).
        "deterministic" if repeatable else "not deterministic",
        n_threads,
        len(train_set),
        len(val_set),
        steps,
    )

    started = time.monotonic()
    with StopSignals() as stop:
        for epoch in range(state["epoch"] + 1, settings.epochs + 1):
            # Per-epoch seeds instead of saved RNG states: a resumed run draws the same
            # batches and augmentations as an unbroken one.
            torch.manual_seed(settings.seed * 100_003 + epoch)
            gen = torch.Generator().manual_seed(settings.seed * 100_003 + epoch)
            loader = DataLoader(train_set, shuffle=True, drop_last=True, generator=gen, **loader_kw)
            step_model.train()
            t0, seen, total = time.perf_counter(), 0, 0.0
            for images, masks in progress(loader, f"epoch {epoch}", total=steps):
                images = images.to(device, non_blocking=True)
                masks = masks.to(device, non_blocking=True)
                if settings.channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                    loss = loss_fn(step_model(images), masks)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if settings.grad_clip:
                    scaler.unscale_(opt)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
                scaler.step(opt)
                scaler.update()
                if not is_per_epoch(sched):
                    sched.step()
                total += loss.item() * len(images)
                seen += len(images)
                if stop.signal:
                    log.warning(
                        "signal %d: leaving the checkpoint of epoch %d", stop.signal, state["epoch"]
                    )
                    raise Interrupted(128 + stop.signal)
            val_loss, dice = evaluate_split(
                model, val_loader, loss_fn, device, dtype, mcfg.num_classes
            )
            fg = float(dice[1:].mean())
            if is_per_epoch(sched):
                sched.step(fg)
            secs = time.perf_counter() - t0
            row = {
                "epoch": epoch,
                "train_loss": total / seen,
                "val_loss": val_loss,
                "val_dice": fg,
                **{f"val_dice_{c}": float(d) for c, d in enumerate(dice)},
                "lr": opt.param_groups[0]["lr"],
                "seconds": secs,
                "images_per_s": seen / secs,
            }
            state["history"].append(row)
            log.info(
                "epoch %d/%d train_loss %.4f val_loss %.4f val_dice %s lr %.2e %.1fs %.1f img/s",
                epoch,
                settings.epochs,
                row["train_loss"],
                val_loss,
                " ".join(f"{d:.4f}" for d in dice),
                row["lr"],
                secs,
                row["images_per_s"],
            )
            state["epoch"] = epoch
            if fg > state["best"]:
                state["best"], state["stale"] = fg, 0
                checkpoint.save(
                    ckdir / "best.pt",
                    {
                        "model_config": mcfg.to_dict(),
                        "state_dict": model.state_dict(),
                        "class_values": meta["class_values"],
                        "size": meta["size"],
                        "in_channels": mcfg.in_channels,
                        "num_classes": mcfg.num_classes,
                        "mask_threshold": meta.get("mask_threshold"),
                        "ignore_value": meta.get("ignore_value"),
                        "mask_rgb": meta.get("mask_rgb", False),
                        "train_settings": asdict(settings),
                        "epoch": epoch,
                        "fold": fold,
                        "val_dice": dice.tolist(),
                        "config_hash": chash,
                    },
                )
            else:
                state["stale"] += 1
            checkpoint.save(
                last,
                {
                    "config_hash": chash,
                    "epochs": settings.epochs,  # as planned now: a longer run re-plans from it
                    "state_dict": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "scaler": scaler.state_dict(),
                    "state": state,
                },
            )
            if settings.patience and state["stale"] >= settings.patience:
                log.info("early stop: no better val Dice in %d epochs", settings.patience)
                break
            if settings.max_minutes and time.monotonic() - started > settings.max_minutes * 60:
                log.info(
                    "train.max_minutes=%s reached: stopping after epoch %d",
                    settings.max_minutes,
                    epoch,
                )
                break
    best = checkpoint.load(ckdir / "best.pt")
    # A resumed run's best epoch may predate a change of epochs or device: record this run's.
    best["train_settings"] = asdict(settings)
    checkpoint.save(model_out, best)
    write_history(history_out, state["history"])
    log.info("best val Dice %.4f at epoch %d", state["best"], best["epoch"])
    return best
