"""GPU training at Carvana scale 0.5 (AMP, channels_last): images/s and time waiting for data."""

from __future__ import annotations

import argparse
import functools
import os
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader

from benchmarks.common import Row, absent, row
from benchmarks.fixtures import scratch
from unet.common.device import amp_dtype
from unet.common.parallel import parallel_map
from unet.dataset.synthetic import generate_pair
from unet.model.unet import UNet, UNetConfig
from unet.train import augment
from unet.train.dataset import CachedSplit
from unet.train.losses import DiceCELoss
from unet.train.settings import TrainSettings

REPO = Path(__file__).resolve().parents[1]
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
    model_settings, s = carvana_settings()
    batch, workers, fmt = s.batch_size, s.num_workers, torch.channels_last
    cache = write_cache(scratch() / "gpu_cache", n, size)
    torch.backends.cudnn.benchmark = dev.type == "cuda"  # as train() sets it
    model = UNet(UNetConfig(**model_settings)).to(dev)
    if s.channels_last:
        model = model.to(memory_format=fmt)
    loss_fn = DiceCELoss(2).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    dtype = amp_dtype(dev, s.amp)
    scaler = torch.amp.GradScaler(enabled=dtype == torch.float16)
    transform = augment.build(augment.AugmentSettings(flip=True), (size[1], size[0]))
    dataset = CachedSplit(cache, "train", transform)

    def loader() -> DataLoader:
        # As train() does: a new DataLoader per epoch, pinned memory, train.num_workers.
        return DataLoader(
            dataset,
            batch_size=batch,
            shuffle=True,
            drop_last=True,
            num_workers=workers,
            pin_memory=dev.type == "cuda",
            persistent_workers=workers > 0,
        )

    def to_device(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.to(dev, non_blocking=True)
        if s.channels_last:
            x = x.contiguous(memory_format=fmt)
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
    resident = steps * batch / (time.perf_counter() - t0)

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
        f"{size[0]}x{size[1]}, batch {batch}, depth {model_settings['depth']}, base_width "
        f"{model_settings['base_width']}, AMP {dtype}, channels_last {s.channels_last}, "
        f"{workers} workers, {torch.cuda.get_device_name(dev) if dev.type == 'cuda' else dev}"
    )
    return [
        row(NAMES[0], steps * batch / total, "images/s", resident, note=note),
        row(NAMES[1], waited / total, "fraction", note="time blocked on the next batch"),
    ]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", help="e.g. cpu: smoke-test the code without a GPU")
    args = ap.parse_args()
    print_table(run(args.quick, args.device))
