"""Training crops and augmentations are drawn per sample from (epoch seed, index): the same
seed gives the same samples whatever train.num_workers is."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from unet.train import loop
from unet.train.augment import AugmentSettings, build
from unet.train.dataset import CachedRows
from unet.train.patches import PatchRows
from unet.train.settings import TrainSettings

H, W = 40, 56


def _arrays(split: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Four random (H, W, 3) images with a one-pixel foreground object each."""
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (H, W, 3), np.uint8) for _ in range(4)]
    masks = [np.zeros((H, W), np.uint8) for _ in range(4)]
    for k, m in enumerate(masks):
        m[5 + 7 * k, 9 + 9 * k] = 1
    return images, masks


def _dataset(kind: str):
    transform = build(AugmentSettings(flip=True, scale=(0.5, 1.0), noise=0.05), (16, 16))
    rows = [("train", k) for k in range(4)]
    if kind == "patches":
        data = PatchRows("unused", rows, (16, 16), 0.5, per_image=2, transform=transform)
    else:
        transform = build(AugmentSettings(flip=True, crop=(16, 16), brightness=0.3), (H, W))
        data = CachedRows("unused", rows, transform)
    data._open = _arrays  # (images, masks) of a cached split, without a cache on disk
    return data


def _epoch(kind: str, workers: int, epoch: int = 3) -> list[torch.Tensor]:
    """The batches train_epoch's loader yields for epoch `epoch`, seed 0."""
    settings = TrainSettings(batch_size=2, num_workers=workers, seed=0)
    run = SimpleNamespace(settings=settings, device=torch.device("cpu"), train_set=_dataset(kind))
    loader = loop.epoch_loader(run, epoch)
    return [torch.cat([images.flatten(), masks.flatten().float()]) for images, masks in loader]


@pytest.mark.parametrize("kind", ["patches", "whole"])
def test_worker_count_does_not_change_the_samples(kind):
    # Each DataLoader worker seeds its own torch RNG, and samples land in workers in turn, so
    # with num_workers 2 every patch position, flip, zoom and noise differed from a run with
    # num_workers 0 (a setting a resumed run may change, as if it did not shape the weights).
    alone = _epoch(kind, 0)
    assert len(alone) >= 2
    assert all(torch.equal(a, b) for a, b in zip(alone, _epoch(kind, 2), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(alone, _epoch(kind, 0), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(alone, _epoch(kind, 0, epoch=4), strict=True))


def test_a_samples_draws_leave_the_gpu_generators_alone(monkeypatch):
    # Each sample was seeded with torch.manual_seed, which seeds every device's generator too
    # and fork_rng(devices=[]) restores only the CPU's: with num_workers 0 on a GPU the
    # training process's CUDA generator (Dropout2d's masks) was re-seeded by every sample,
    # while in a worker it was not, so num_workers changed the weights of a dropout model.
    seeded = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", seeded.append)
    data = _dataset("whole")
    data.epoch_seed = 7
    first = data[1]
    assert seeded == []
    assert all(torch.equal(a, b) for a, b in zip(first, data[1], strict=True))
