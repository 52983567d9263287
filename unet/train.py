"""`train_unet`: train on the cache, keep best/last checkpoints, resume after a kill."""

from __future__ import annotations

import csv
import logging
import math
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from unet import checkpoint
from unet.data import CachedSplit, random_flips
from unet.device import amp_dtype, pick_device
from unet.fileio import atomic_path, read_json
from unet.logs import progress
from unet.losses import DiceCELoss
from unet.metrics import confusion_matrix, scores_from_confusion
from unet.model import UNet, UNetConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings (config section `train`)."""

    epochs: int = 30
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 1
    dice_weight: float = 1.0
    patience: int = 0  # early stopping after this many epochs without a better val Dice; 0 = off
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True  # NHWC: faster convolutions on CUDA and on CPU (oneDNN)
    num_workers: int = 0
    augment: bool = True
    deterministic: bool = False
    max_minutes: float = 0.0  # stop cleanly after this long (0 = no limit), before a walltime


class TrainingError(ValueError):
    """The settings cannot work with this data (said before any epoch runs)."""


class Interrupted(SystemExit):
    """SIGTERM/SIGUSR1 arrived: the checkpoint is saved, exit non-zero so the job is retried."""


def _check(settings: TrainSettings, n_train: int, size: list[int], depth: int) -> None:
    if settings.batch_size > n_train:
        raise TrainingError(
            f"train.batch_size={settings.batch_size} is larger than the training split "
            f"({n_train} images); lower train.batch_size or add images"
        )
    if min(size) < UNet.min_size(depth):
        raise TrainingError(
            f"preprocess size {size[0]}x{size[1]} is too small for model.depth={depth} "
            f"(needs at least {UNet.min_size(depth)} px a side); enlarge preprocess or lower depth"
        )


def _lr_lambda(settings: TrainSettings, steps_per_epoch: int):
    warm, total = settings.warmup_epochs * steps_per_epoch, settings.epochs * steps_per_epoch

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    return factor


@torch.no_grad()
def evaluate_split(
    model: UNet,
    loader: DataLoader,
    loss_fn,
    device: torch.device,
    dtype: torch.dtype | None,
    num_classes: int,
) -> tuple[float, np.ndarray]:
    """Validation loss and per-class Dice from counts summed over the whole split."""
    model.eval()
    cm, total, n = np.zeros((num_classes, num_classes), np.int64), 0.0, 0
    for images, masks in loader:
        images, masks = images.to(device), masks.to(device)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(images)
        total += loss_fn(logits, masks).item() * len(images)
        n += len(images)
        cm += confusion_matrix(logits.argmax(1).cpu().numpy(), masks.cpu().numpy(), num_classes)
    return total / n, scores_from_confusion(cm)["dice"]


def train(
    cache_dir: str | os.PathLike,
    model_out: str | os.PathLike,
    history_out: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    model_settings: dict,
    settings: TrainSettings,
    threads: int = 1,
) -> dict:
    """Train a UNet on the cached train split, select on val; returns the best checkpoint."""
    meta = read_json(Path(cache_dir) / "meta.json")
    mcfg = UNetConfig(
        in_channels=meta["in_channels"], num_classes=meta["num_classes"], **model_settings
    )
    train_set, val_set = CachedSplit(cache_dir, "train"), CachedSplit(cache_dir, "val")
    _check(settings, len(train_set), meta["size"], mcfg.depth)
    torch.set_num_threads(max(1, threads))
    device = pick_device(settings.device)
    dtype = amp_dtype(device, settings.amp)
    if settings.deterministic:
        torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = device.type == "cuda" and not settings.deterministic
    torch.manual_seed(settings.seed)
    model = UNet(mcfg).to(device)
    if settings.channels_last:
        model = model.to(memory_format=torch.channels_last)
    loss_fn = DiceCELoss(mcfg.num_classes, settings.dice_weight).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    loader_kw = dict(
        batch_size=settings.batch_size,
        num_workers=settings.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=settings.num_workers > 0,
    )
    val_loader = DataLoader(val_set, shuffle=False, **loader_kw)
    steps = len(train_set) // settings.batch_size  # drop_last: BatchNorm needs > 1 sample
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(settings, steps))
    scaler = torch.amp.GradScaler(enabled=dtype == torch.float16)

    ckdir = Path(checkpoint_dir)
    chash = checkpoint.config_hash(mcfg.to_dict(), asdict(settings), meta)
    state = {"epoch": 0, "best": -1.0, "stale": 0, "history": []}
    last = ckdir / "last.pt"
    if last.exists():
        ck = checkpoint.load(last, device)
        if ck.get("config_hash") == chash:
            model.load_state_dict(ck["state_dict"])
            opt.load_state_dict(ck["optimizer"])
            sched.load_state_dict(ck["scheduler"])
            scaler.load_state_dict(ck["scaler"])
            state = ck["state"]
            log.info("resuming from %s at epoch %d", last, state["epoch"])
        else:
            log.info("ignoring %s: written for other settings", last)

    def best_payload(epoch: int, dice: np.ndarray) -> dict:
        return {
            "model_config": mcfg.to_dict(),
            "state_dict": model.state_dict(),
            "class_values": meta["class_values"],
            "size": meta["size"],
            "in_channels": mcfg.in_channels,
            "num_classes": mcfg.num_classes,
            "mask_threshold": meta.get("mask_threshold"),
            "train_settings": asdict(settings),
            "epoch": epoch,
            "val_dice": dice.tolist(),
            "config_hash": chash,
        }

    def save_last() -> None:
        checkpoint.save(
            last,
            {
                "config_hash": chash,
                "state_dict": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "scaler": scaler.state_dict(),
                "state": state,
            },
        )

    stop = {"signal": None}

    def on_signal(signum, _frame):  # SLURM sends SIGUSR1/SIGTERM before the walltime
        stop["signal"] = signum

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGUSR1)}
    started = time.monotonic()
    try:
        for epoch in range(state["epoch"] + 1, settings.epochs + 1):
            # Per-epoch seeds: a resumed run draws the same batches and flips as an unbroken one.
            torch.manual_seed(settings.seed * 100_003 + epoch)
            gen = torch.Generator().manual_seed(settings.seed * 100_003 + epoch)
            train_loader = DataLoader(
                train_set, shuffle=True, drop_last=True, generator=gen, **loader_kw
            )
            model.train()
            t0, seen, total = time.perf_counter(), 0, 0.0
            for images, masks in progress(train_loader, f"epoch {epoch}", total=steps):
                images = images.to(device, non_blocking=True)
                masks = masks.to(device, non_blocking=True)
                if settings.augment:
                    images, masks = random_flips(images, masks, gen)
                if settings.channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                    loss = loss_fn(model(images), masks)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                sched.step()
                total += loss.item() * len(images)
                seen += len(images)
                if stop["signal"]:
                    break
            if stop["signal"]:
                log.warning(
                    "signal %d: leaving the checkpoint of epoch %d", stop["signal"], state["epoch"]
                )
                raise Interrupted(128 + stop["signal"])
            val_loss, dice = evaluate_split(
                model, val_loader, loss_fn, device, dtype, mcfg.num_classes
            )
            secs = time.perf_counter() - t0
            fg = float(dice[1:].mean())
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
                checkpoint.save(ckdir / "best.pt", best_payload(epoch, dice))
            else:
                state["stale"] += 1
            save_last()
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
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    best = checkpoint.load(ckdir / "best.pt")
    checkpoint.save(model_out, best)
    write_history(history_out, state["history"])
    log.info("best val Dice %.4f at epoch %d", state["best"], best["epoch"])
    return best


def write_history(path: str | os.PathLike, rows: list[dict]) -> None:
    """Per-epoch history as CSV, atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["epoch"])
        writer.writeheader()
        writer.writerows(rows)
