"""GPU training at Carvana scale 0.5 (AMP, channels_last): images/s and time waiting for data."""

from __future__ import annotations

import argparse
import itertools
import os
import time
from collections.abc import Iterator
from pathlib import Path

import torch
import yaml
from torch.utils.data import DataLoader

from benchmarks.common import Row, absent, row
from benchmarks.fixtures import build_cache, carvana_like, scratch
from unet.common.device import amp_dtype
from unet.model.unet import UNet, UNetConfig
from unet.train import augment
from unet.train.dataset import CachedSplit
from unet.train.loop import loader_options
from unet.train.losses import DiceCELoss
from unet.train.settings import TrainSettings

REPO = Path(__file__).resolve().parents[1]
SIZES = {False: (128, 48), True: (32, 8)}  # (pairs, timed steps); True: --quick
NAMES = ("gpu: train images/s, loader vs resident batch", "gpu: fraction of time waiting for data")


def carvana_settings() -> tuple[dict, TrainSettings]:
    """Model and train settings of config/carvana.yaml over config/config.yaml, as a Carvana
    run gets them: AMP, channels_last, batch size and loader workers follow the project."""
    base, over = (
        yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text())
        for name in ("config", "carvana")
    )
    model = {**base["model"], **over.get("model", {})}
    return model, TrainSettings(**{**base["train"], **over.get("train", {})})


def train_step(model: torch.nn.Module, dtype: torch.dtype | None):
    """One optimiser step on (x, y) as train() takes it (AMP, a scaler for fp16); the loss is not
    read back, as train() reads its sum once an epoch (a .item() a step is a sync a step)."""
    dev = next(model.parameters()).device
    loss_fn, opt = DiceCELoss(2).to(dev), torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(enabled=dtype == torch.float16)

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    return step


def epochs(dataset, s: TrainSettings, dev: torch.device) -> Iterator[tuple[torch.Tensor, ...]]:
    """Batches on `dev`, endlessly, from a new DataLoader per epoch as train() builds them
    (train()'s loader options: batch size, workers, pinned memory on CUDA; channels_last)."""
    while True:
        loader = DataLoader(dataset, shuffle=True, drop_last=True, **loader_options(s, dev))
        for x, y in loader:
            x = x.to(dev, non_blocking=True)
            if s.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            yield x, y.to(dev, non_blocking=True)


def timed_steps(step, batches: Iterator, steps: int, dev: torch.device) -> tuple[float, float]:
    """(seconds, seconds blocked on `batches`) of `steps` steps, the device synchronised."""
    waited, t0 = 0.0, time.perf_counter()
    for _ in range(steps):
        t_wait = time.perf_counter()
        x, y = next(batches)
        waited += time.perf_counter() - t_wait
        step(x, y)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, waited


def warm_up(step, batches: Iterator, dev: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Five steps on one batch (cudnn.benchmark picks its kernels); returns that batch."""
    x, y = next(batches)
    timed_steps(step, itertools.repeat((x, y)), 5, dev)
    return x, y


def run(quick: bool = False, device: str | None = None) -> list[Row]:
    """Steps through the real loader (as train() builds it) vs one batch resident on the device;
    `device='cpu'` is a smoke test of this code on a machine without CUDA."""
    if device is None and not torch.cuda.is_available():
        return [absent(name, "no CUDA device") for name in NAMES]
    dev = torch.device(device or "cuda")
    size = (960, 640) if dev.type == "cuda" else (96, 64)
    n, steps = SIZES[quick]
    model_settings, s = carvana_settings()
    cache = build_cache(scratch() / "gpu_cache", carvana_like(scratch() / "gpu_raw", n, size),
                        size, (0, 1), processes=os.cpu_count() or 1)
    torch.backends.cudnn.benchmark = dev.type == "cuda"  # as train() sets it
    model = UNet(UNetConfig(in_channels=3, num_classes=2, **model_settings)).to(dev)  # RGB, binary
    if s.channels_last:
        model = model.to(memory_format=torch.channels_last)
    dtype = amp_dtype(dev, s.amp)
    transform = augment.build(augment.AugmentSettings(flip=True), (size[1], size[0]))
    step, batches = train_step(model, dtype), epochs(CachedSplit(cache, "train", transform), s, dev)
    resident_batch = warm_up(step, batches, dev)
    resident, _ = timed_steps(step, itertools.repeat(resident_batch), steps, dev)
    total, waited = timed_steps(step, batches, steps, dev)
    note = (
        f"{size[0]}x{size[1]}, batch {s.batch_size}, depth {model_settings['depth']}, base_width "
        f"{model_settings['base_width']}, AMP {dtype}, channels_last {s.channels_last}, "
        f"{s.num_workers} workers, "
        f"{torch.cuda.get_device_name(dev) if dev.type == 'cuda' else dev}"
    )
    n_images = steps * s.batch_size
    return [
        row(NAMES[0], n_images / total, "images/s", n_images / resident, note=note),
        row(NAMES[1], waited / total, "fraction", note="time blocked on the next batch"),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", help="e.g. cpu: smoke-test the code without a GPU")
    args = ap.parse_args()
    print_table(run(args.quick, args.device))
