"""CPU training: how a job's cores are best split between torch's threads and DataLoader workers.

A small UNet (config/config.yaml's model, batch and optimiser step) trains on the CPU for a fixed
number of steps on a synthetic cache, through train()'s loader options, in resize mode (whole
192x128 images) and native mode (192x128 patches of 384x256 images), without augmentation and
with a heavy one (flips, zoom, elastic, colour, noise). Each split (torch threads, workers) of
this machine's cores is timed in turn, repeatedly (the machine is shared), and the best of the
repeats kept; the baseline is what share_cores gives a job of this machine's cores with
`train.num_workers: 1` (1 thread and 1 worker on 2 cores, 15 and 1 on 16). Each timing is one
epoch's new DataLoader (its workers start, as train() starts them every epoch) and its steps.

Figures are printed by `python -m benchmarks.bench_threads` (--quick: fewer steps).

Measured on this project's shared 2-core x86-64 machine, 2026-12-06 (16fdb9b, load average
4-5 from other sessions' tests throughout), best of 3 interleaved repeats of 10 steps, resize
mode, steps/s: no augmentation (2, 0) 0.54, (1, 0) 2.08, (1, 1) 2.00, (2, 1) 0.82; heavy
augmentation (2, 0) 0.47, (1, 0) 1.82, (1, 1) 1.71 (waiting 2 % of the time, 13-19 % without
a worker), (2, 1) 0.66. A `--quick` run of every split gave the same order in native mode too
((1, 1) 2.08 and 1.44, (2, 0) 0.48 and 0.35, (2, 2) 1.39 and 0.37). Today's split (1, 1) was
the fastest of the two a 2-core job can get ((2, 0) without workers) and within 6 % of torch
alone on one thread: torch on both cores, with or without workers, was 1.5-4.3x slower, most
likely as its threads wait at every op for a sibling that other processes keep off a core. So
share_cores stays as it is; a quiet machine, where two threads are not descheduled, was not
available to measure.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

import torch
from torch.utils.data import DataLoader

from benchmarks.bench_train import default_settings
from benchmarks.common import Row, machine, row
from benchmarks.fixtures import build_cache, scratch, synthetic_pairs
from unet.common.fileio import read_json
from unet.common.labels import IGNORE_INDEX
from unet.model.unet import UNet, UNetConfig
from unet.train import augment
from unet.train.dataset import CachedRows
from unet.train.loop import loader_options
from unet.train.losses import DiceCELoss
from unet.train.patches import PatchRows

CPU = torch.device("cpu")
SIZE = (128, 192)  # (h, w): the resize cache, and the native patches
SIZES = {False: (10, 3), True: (4, 2)}  # (steps, repeats); True: --quick
PAIRS = 48  # synthetic pairs cached
HEAVY = augment.AugmentSettings(flip=True, scale=(0.6, 1.0), brightness=0.2, contrast=0.2,
                                noise=0.03, elastic=50.0, elastic_p=0.5)
AUGMENTS = {"none": augment.AugmentSettings(flip=False), "heavy": HEAVY}


def splits(cores: int) -> list[tuple[int, int]]:
    """(torch threads, workers) to time: each split of `cores`, torch on 1 thread alone (which
    tells a thread's effect from a worker's), then torch on all of them with 1 and 2 workers
    beside (oversubscribed)."""
    exact = [(cores - w, w) for w in range(cores)]
    return exact + [(1, 0)] * (cores > 1) + [(cores, 1), (cores, 2)]


def baseline(cores: int) -> tuple[int, int]:
    """share_cores' split of `cores` with one worker asked for: the ratios' baseline (a fixed
    (1, 1) is timed only on 1 or 2 cores, and left every ratio empty on more)."""
    kept = min(1, cores - 1)
    return cores - kept, kept


def _datasets(n: int, length: int) -> dict[str, object]:
    """`length` samples of each mode (rows repeated), seeded per sample as train() seeds them."""
    pairs = synthetic_pairs(scratch() / "threads_raw", n)
    resize = build_cache(scratch() / "threads_resize", pairs, (SIZE[1], SIZE[0]), (0, 255))
    native = build_cache(scratch() / "threads_native", pairs, (SIZE[1], SIZE[0]), (0, 255),
                         mode="native")
    n_train = len(read_json(resize / "meta.json")["splits"]["train"]["ids"])
    rows = [("train", k % n_train) for k in range(length)]
    out = {}
    for aug, settings in AUGMENTS.items():
        tf = augment.build(settings, SIZE)
        out[f"resize, aug {aug}"] = CachedRows(resize, rows, tf)
        patches = PatchRows(native, rows[:n_train], SIZE, 0.33, -(-length // n_train), tf)
        patches.prepare()  # as train() does before its workers start
        out[f"native, aug {aug}"] = patches
    for data in out.values():
        data.epoch_seed = 1  # per-sample generators, as in training
    return out


def train_step(model: torch.nn.Module):
    """One float32 AdamW step on (x, y), as train() takes it on the CPU; elastic deformation's
    pulled-in border is IGNORE_INDEX in the mask, which the loss skips."""
    loss_fn, opt = DiceCELoss(2, 1.0, IGNORE_INDEX), torch.optim.AdamW(model.parameters(), 2e-3)

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def _epoch(step, data, settings, threads: int, workers: int, steps: int) -> tuple[float, float]:
    """(seconds, seconds blocked on the loader) of one epoch's new loader and `steps` steps."""
    torch.set_num_threads(threads)
    options = loader_options(replace(settings, num_workers=workers), CPU)
    waited, t0 = 0.0, time.perf_counter()
    batches = iter(DataLoader(data, shuffle=True, drop_last=True, **options))
    for _ in range(steps):
        t_wait = time.perf_counter()
        x, y = next(batches)
        waited += time.perf_counter() - t_wait
        step(x.contiguous(memory_format=torch.channels_last), y)
    seconds = time.perf_counter() - t0
    del batches  # its workers end here, not during the next timing
    return seconds, waited


def run(quick: bool = False) -> list[Row]:
    """Steps/s and the share of time waiting for data of each split, vs baseline(cores)."""
    steps, repeats = SIZES[quick]
    cores = len(os.sched_getaffinity(0))
    model_settings, settings = default_settings(1)
    datasets = _datasets(PAIRS, steps * settings.batch_size)
    torch.manual_seed(0)
    model = UNet(UNetConfig(in_channels=3, num_classes=2, **model_settings))
    model = model.to(memory_format=torch.channels_last)
    step = train_step(model)
    for threads in sorted({t for t, _ in splits(cores)}):  # oneDNN builds its kernels per count
        _epoch(step, next(iter(datasets.values())), settings, threads, 0, 3)
    best: dict[tuple, tuple[float, float]] = {}
    context = machine()
    for _ in range(repeats):  # interleaved: a burst of other load skews every split alike
        for name, data in datasets.items():
            for split in splits(cores):
                t = _epoch(step, data, settings, *split, steps)
                best[name, split] = min(best.get((name, split), t), t)
    return _rows(best, cores, steps, settings.batch_size, context, repeats)


def _rows(best: dict, cores: int, steps: int, batch: int, context: dict, repeats: int) -> list:
    """One row per mode and split: steps/s against the baseline split's."""
    out = []
    for (name, split), (seconds, waited) in best.items():
        base = best.get((name, baseline(cores)), (None,))[0]
        out.append(row(
            f"threads: {name}, {split[0]} torch threads + {split[1]} workers", steps / seconds,
            "steps/s", base and steps / base,
            note=f"{waited / seconds:.0%} waiting for data; {steps} steps of batch {batch}, "
                 f"{cores} cores, best of {repeats}; load {context['loadavg'][0]:.1f}"))
    return out


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    print_table(run(ap.parse_args().quick))
