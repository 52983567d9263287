"""Training step overhead of unet.train.train() against a bare loop on in-memory tensors."""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import torch
import yaml

from benchmarks.common import Row, best_of, row
from benchmarks.fixtures import build_cache, scratch, synthetic_pairs
from unet.cache.reader import load_split
from unet.common.device import amp_dtype, pick_device
from unet.common.fileio import read_json
from unet.common.labels import IGNORE_INDEX
from unet.model.unet import UNet, UNetConfig
from unet.train.losses import DiceCELoss
from unet.train.optim import build_optimizer
from unet.train.settings import TrainSettings
from unet.train.train import train_unet

REPO = Path(__file__).resolve().parents[1]
THREADS = 2
SIZES = {False: (160, 4, 3), True: (64, 3, 2)}  # (pairs, epochs, repeats); True: --quick


def default_settings(epochs: int) -> tuple[dict, TrainSettings]:
    """Model and train settings of config/config.yaml (the default run), with `epochs`."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return config["model"], TrainSettings(**{**config["train"], "epochs": epochs})


def _batches(cache: Path, split: str, size: int, drop_last: bool, cl: bool, device) -> list:
    """(images (B, C, H, W) float, masks (B, H, W) long) batches, prepared once."""
    images, masks = load_split(cache, split)
    n = len(images) - len(images) % size if drop_last else len(images)
    fmt = torch.channels_last if cl else torch.contiguous_format
    out = []
    for k in range(0, n, size):
        x = torch.from_numpy(images[k : k + size].copy()).permute(0, 3, 1, 2).float() / 255.0
        y = torch.from_numpy(masks[k : k + size].copy()).long()
        out.append((x.to(device).contiguous(memory_format=fmt), y.to(device)))
    return out


def bare_epoch(cache: Path, mcfg: UNetConfig, s: TrainSettings):
    """A function running one bare epoch: forward/backward/step, then validation forwards."""
    torch.set_num_threads(THREADS)
    device = pick_device(s.device)
    dtype = amp_dtype(device, s.amp)
    torch.backends.cudnn.benchmark = device.type == "cuda"  # as train_unet() sets it
    model = UNet(mcfg).to(device)
    if s.channels_last:
        model = model.to(memory_format=torch.channels_last)
    loss_fn = DiceCELoss(mcfg.num_classes, s.dice_weight, IGNORE_INDEX, s.class_weights or None).to(
        device
    )
    opt = build_optimizer(model.parameters(), s.optimizer, s.lr, s.weight_decay, s.momentum)
    scaler = torch.amp.GradScaler(enabled=dtype == torch.float16)
    train_b = _batches(cache, "train", s.batch_size, True, s.channels_last, device)
    val_b = _batches(cache, "val", s.batch_size, False, s.channels_last, device)

    def epoch() -> None:
        model.train()
        for x, y in train_b:
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        model.eval()
        with torch.no_grad():
            for x, y in val_b:
                with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                    loss_fn(model(x), y)
        if device.type == "cuda":
            torch.cuda.synchronize()

    return epoch


def run(quick: bool = False) -> list[Row]:
    """Per-epoch seconds of train_unet() (epochs 2+, validation included) vs the bare loop."""
    n, epochs, repeats = SIZES[quick]
    pairs = synthetic_pairs(scratch() / "synthetic", n)
    model_settings, settings = default_settings(epochs)
    w, h = 192, 128  # config.yaml's preprocess size
    cache = build_cache(scratch() / "train", pairs, (w, h), (0, 255))
    meta = read_json(cache / "meta.json")
    mcfg = UNetConfig(
        in_channels=meta["in_channels"], num_classes=meta["num_classes"], **model_settings
    )

    epoch = bare_epoch(cache, mcfg, settings)
    epoch()  # warm-up: oneDNN picks its kernels on the first pass
    bare = best_of(repeats, epoch)
    out = scratch() / "train_out"
    t0 = time.perf_counter()
    train_unet(
        cache,
        out / "model.pt",
        out / "history.csv",
        out / "checkpoints",
        model_settings,
        settings,
        threads=THREADS,
    )
    whole = time.perf_counter() - t0
    bare = min(bare, best_of(repeats, epoch))  # before and after: the least disturbed
    with open(out / "history.csv") as f:
        seconds = [float(r["seconds"]) for r in csv.DictReader(f)]
    step = min(seconds[1:])  # epoch 1 pays the warm-up, as the bare loop's first pass did
    steps = len(meta["splits"]["train"]["ids"]) // settings.batch_size
    device = pick_device(settings.device)
    note = (
        f"{steps} steps + val per epoch, {w}x{h}, batch {settings.batch_size}, "
        f"base_width {mcfg.base_width}, {THREADS} threads, {device.type} AMP "
        f"{amp_dtype(device, settings.amp)} channels_last {settings.channels_last}"
    )
    return [
        row(
            "train: epoch time, train_unet() vs bare loop",
            step,
            "s",
            bare,
            goal=("<=", 1.05, "ratio"),
            note=f"{step / bare - 1:+.1%} overhead; {note}",
        ),
        row(
            "train: whole train_unet() call vs bare epochs",
            whole,
            "s",
            bare * epochs,
            note=f"epochs {', '.join(f'{x:.2f}' for x in seconds)} s; + setup, checkpoints",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    print_table(run(ap.parse_args().quick))
