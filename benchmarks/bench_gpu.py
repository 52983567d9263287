"""GPU training at Carvana scale 0.5 (AMP, channels_last): images/s and time waiting for data."""

from __future__ import annotations

import argparse
import functools
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from benchmarks.common import Row, absent, row
from benchmarks.fixtures import scratch
from unet import augment
from unet.data import CachedSplit
from unet.device import amp_dtype
from unet.losses import DiceCELoss
from unet.model import UNet, UNetConfig
from unet.parallel import parallel_map
from unet.synthetic import generate_pair

BATCH = 8
WORKERS = 4  # config/carvana.yaml's train.num_workers
NAMES = ("gpu: train images/s, loader vs resident batch", "gpu: fraction of time waiting for data")


def _pair(i: int, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    img, mask = generate_pair(i, w, h, seed=5, classes=1)
    return img, (mask > 0).astype(np.uint8)


def write_cache(folder: Path, n: int, size: tuple[int, int]) -> Path:
    """A train split of `n` synthetic pairs at `size` (w, h), as preprocess() lays it out."""
    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    images = np.lib.format.open_memmap(folder / "train_images.npy", "w+", np.uint8, (n, h, w, 3))
    masks = np.lib.format.open_memmap(folder / "train_masks.npy", "w+", np.uint8, (n, h, w))
    work = functools.partial(_pair, w=w, h=h)
    for k, (img, mask) in enumerate(parallel_map(work, range(n), os.cpu_count() or 1, "gpu data")):
        images[k], masks[k] = img, mask
    images.flush()
    masks.flush()
    return folder


def run(quick: bool = False, device: str | None = None) -> list[Row]:
    """Steps through the real loader (as train() builds it) vs one batch resident on the device;
    `device='cpu'` is a smoke test of this code on a machine without CUDA."""
    if device is None and not torch.cuda.is_available():
        return [absent(name, "no CUDA device") for name in NAMES]
    dev = torch.device(device or "cuda")
    size = (960, 640) if dev.type == "cuda" else (96, 64)
    n, steps = (32, 8) if quick else (128, 48)
    cache = write_cache(scratch() / "gpu_cache", n, size)
    torch.backends.cudnn.benchmark = dev.type == "cuda"
    model = UNet(UNetConfig(depth=4, base_width=32)).to(dev, memory_format=torch.channels_last)
    loss_fn = DiceCELoss(2).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    dtype = amp_dtype(dev, True)
    scaler = torch.amp.GradScaler(enabled=dtype == torch.float16)
    transform = augment.build(augment.AugmentSettings(flip=True), (size[1], size[0]))
    dataset = CachedSplit(cache, "train", transform)

    def loader() -> DataLoader:
        # As train() does: a new DataLoader per epoch, pinned memory, WORKERS processes.
        return DataLoader(
            dataset,
            batch_size=BATCH,
            shuffle=True,
            drop_last=True,
            num_workers=WORKERS,
            pin_memory=dev.type == "cuda",
            persistent_workers=True,
        )

    def to_device(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.to(dev, non_blocking=True).contiguous(memory_format=torch.channels_last)
        return x, y.to(dev, non_blocking=True)

    def step(x: torch.Tensor, y: torch.Tensor) -> float:
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss.item()  # train() reads the loss every step: a sync point, kept here

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    x0, y0 = to_device(*next(iter(loader())))
    for _ in range(5):  # warm-up: cudnn.benchmark picks its kernels
        step(x0, y0)
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step(x0, y0)
    sync()
    resident = steps * BATCH / (time.perf_counter() - t0)

    waited, done = 0.0, 0
    t0 = time.perf_counter()
    while done < steps:
        batches = iter(loader())
        while done < steps:
            t_wait = time.perf_counter()
            try:
                x, y = to_device(*next(batches))
            except StopIteration:
                break
            waited += time.perf_counter() - t_wait
            step(x, y)
            done += 1
    sync()
    total = time.perf_counter() - t0
    note = (
        f"{size[0]}x{size[1]}, batch {BATCH}, base_width 32, AMP {dtype}, channels_last, "
        f"{WORKERS} workers, {torch.cuda.get_device_name(dev) if dev.type == 'cuda' else dev}"
    )
    return [
        row(NAMES[0], steps * BATCH / total, "images/s", resident, note=note),
        row(NAMES[1], waited / total, "fraction", note="time blocked on the next batch"),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", help="e.g. cpu: smoke-test the code without a GPU")
    args = ap.parse_args()
    print_table(run(args.quick, args.device))
