"""train.border_weight: CPU training steps/s with the map made in the DataLoader workers (today)
against the map made by the training process between steps (before 2026-12-06).

ISBI 2012 sections (../shared/datasets, 512x512, cells class 1) cached at native size, random
256x256 patches, config/config.yaml's model, batch and AdamW step, the map of w0 10, sigma 5,
objects 1; torch on 1 thread, 2 DataLoader workers (the brief's split of a 2-core machine).
Each timing is one new loader (its workers start) and its steps; best of interleaved repeats.

Printed by `python -m benchmarks.bench_border` (--quick: fewer steps)."""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from benchmarks.bench_train import default_settings
from benchmarks.common import Row, absent, machine, row
from benchmarks.fixtures import build_cache, scratch
from unet.common.fileio import read_json
from unet.common.labels import IGNORE_INDEX
from unet.model.unet import UNet, UNetConfig
from unet.train.border import BorderSettings, batch_weights
from unet.train.loop import loader_options
from unet.train.losses import DiceCELoss
from unet.train.patches import PatchRows

DATASETS = os.environ.get("UNET_DATASETS",
                          Path(__file__).resolve().parents[2] / "shared" / "datasets")
ISBI = Path(DATASETS) / "isbi2012-membrane"  # UNET_DATASETS: a clone elsewhere finds them
ON = BorderSettings(w0=10.0, sigma=5.0, objects=1)
PATCH, WORKERS = (256, 256), 2
SIZES = {False: (8, 3), True: (4, 2)}  # (steps, repeats)


def _patches(length: int) -> PatchRows:
    """`length` patches of ISBI sections through the package's cache and PatchRows."""
    pairs = [{"id": f"s{k}", "image": str(ISBI / "image" / f"{k}.png"),
              "mask": str(ISBI / "label" / f"{k}.png"), "size": [512, 512]} for k in range(30)]
    cache = build_cache(scratch() / "border_isbi", pairs, (512, 512), (0, 255), mode="native")
    n = len(read_json(cache / "meta.json")["splits"]["train"]["ids"])
    data = PatchRows(cache, [("train", k) for k in range(n)], PATCH, 0.0, -(-length // n))
    data.epoch_seed = 1
    return data


def _epoch(model, data, settings, steps: int, in_workers: bool) -> float:
    """Seconds of one new loader and `steps` weighted steps."""
    loss_fn, opt = DiceCELoss(2, 1.0, IGNORE_INDEX), torch.optim.AdamW(model.parameters(), 2e-3)
    data.use_border(ON if in_workers else replace(ON, w0=0.0))
    options = loader_options(replace(settings, num_workers=WORKERS), torch.device("cpu"))
    t0 = time.perf_counter()
    batches = iter(DataLoader(data, shuffle=True, drop_last=True, **options))
    for _ in range(steps):
        x, y, *maps = next(batches)
        extra = maps[0] if in_workers else batch_weights(y, ON)  # before: here, between steps
        loss = loss_fn(model(x), y, extra)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - t0
    del batches
    return seconds


def run(quick: bool = False) -> list[Row]:
    """Steps/s with the map in the workers, against the map in the training process."""
    if not ISBI.is_dir():
        return [absent("border: map in workers", f"no {ISBI}")]
    steps, repeats = SIZES[quick]
    model_settings, settings = default_settings(1)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    data = _patches(steps * settings.batch_size)
    model = UNet(UNetConfig(in_channels=1, num_classes=2, **model_settings))
    best = {True: float("inf"), False: float("inf")}
    context = machine()
    _epoch(model, data, settings, 1, True)  # warm-up: oneDNN kernels, page cache
    for _ in range(repeats):
        for in_workers in (False, True):
            best[in_workers] = min(best[in_workers], _epoch(model, data, settings, steps,
                                                            in_workers))
    return [row("border: map in the DataLoader workers", steps / best[True], "steps/s",
                steps / best[False], note=f"baseline: the map in the training process; batch "
                f"{settings.batch_size} of {PATCH[0]}x{PATCH[1]}, 1 thread + {WORKERS} workers, "
                f"best of {repeats}; load {context['loadavg'][0]:.1f}")]


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    print_table(run(ap.parse_args().quick))
