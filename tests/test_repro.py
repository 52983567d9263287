"""Reproducibility: what only changes speed (train.num_workers) leaves the result alone."""

from __future__ import annotations

import logging
import os

import pytest
import torch
from torch.utils.data import DataLoader

from tests.test_train import cache  # noqa: F401  (the module's cache fixture)
from unet.common.logs import progress
from unet.train.augment import AugmentSettings, build
from unet.train.dataset import CachedSplit
from unet.train.patches import PatchRows
from unet.train.settings import TrainSettings
from unet.train.train import train_unet


class _Counted(DataLoader):
    """A DataLoader that counts the iterators made of it."""

    made = 0

    def __iter__(self):
        type(self).made += 1
        return super().__iter__()


def test_progress_iterates_a_loader_once():
    # tqdm.auto called iter() on the loader and then iterated it again: a second shuffle and
    # worker seed were drawn from the epoch's generator (so 0 and 2 workers trained on other
    # batches), and workers started prefetching an epoch that was thrown away.
    gen = torch.Generator().manual_seed(1)
    loader = _Counted(list(range(6)), batch_size=2, shuffle=True, generator=gen)
    seen = [b.tolist() for b in progress(loader, "epoch 1", total=3)]
    assert _Counted.made == 1 and sorted(sum(seen, [])) == list(range(6))
    again = torch.Generator().manual_seed(1)
    direct = [b.tolist() for b in DataLoader(list(range(6)), batch_size=2, shuffle=True,
                                             generator=again)]
    assert seen == direct


AUGMENT = {"flip": True, "scale": [0.6, 1.0], "brightness": 0.2, "noise": 0.05}


@pytest.mark.parametrize("patches", [False, True])
def test_a_samples_draws_do_not_depend_on_what_was_drawn_before(cache, patches):  # noqa: F811
    # A DataLoader worker computes only some of the samples: a sample's augmentation (and
    # patch position) must not depend on which samples its process drew before it.
    transform = build(AugmentSettings(**AUGMENT), (16, 16) if patches else (24, 32))
    ds = (PatchRows(cache, [("train", k) for k in range(6)], (16, 16), 0.5, 2, transform)
          if patches else CachedSplit(cache, "train", transform))
    ds.epoch_seed = 7
    order = list(range(len(ds)))
    forward = {i: ds[i] for i in order}
    backward = {i: ds[i] for i in order[::-1]}
    for i, (image, mask) in forward.items():
        assert torch.equal(image, backward[i][0]) and torch.equal(mask, backward[i][1]), i
    ds.epoch_seed = 8  # another epoch draws anew
    assert any(not torch.equal(ds[i][0], forward[i][0]) for i in order)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs a core for a worker")
@pytest.mark.parametrize("patch", [{}, {"size": [16, 16], "per_image": 2}])
def test_num_workers_leaves_the_weights_alone(cache, tmp_path, patch):  # noqa: F811
    # README: num_workers decides how fast training runs, not what an epoch computes (a
    # last.pt is resumed under another value); 0, 1 and 2 workers gave three sets of weights.
    weights = []
    for workers in (0, 2):
        out = tmp_path / f"w{workers}"
        settings = TrainSettings(epochs=2, batch_size=2, device="cpu", deterministic=True,
                                 augment=AUGMENT, num_workers=workers, patch=patch)
        # a core for each worker (else they are lowered) and torch's one thread either way
        best = train_unet(cache, out / "model.pt", out / "history.csv", out / "ck",
                          {"depth": 2, "base_width": 4}, settings, threads=1 + workers)
        assert best["train_settings"]["num_workers"] or not workers  # some worker ran
        weights.append(best["state_dict"])
    for k, v in weights[0].items():
        assert torch.equal(v, weights[1][k]), k


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 usable cores")
def test_resuming_on_another_thread_count_says_the_weights_change(cache, tmp_path, caplog):  # noqa: F811
    # README: the CPU thread count changes the weights; a last.pt is still resumed under
    # another (snakemake --cores), and the result then silently equalled neither run.
    caplog.set_level(logging.INFO)
    out = tmp_path
    settings = {"epochs": 2, "batch_size": 2, "device": "cpu", "deterministic": True}
    args = (cache, out / "model.pt", out / "history.csv", out / "ck", {"depth": 2, "base_width": 4})
    train_unet(*args, TrainSettings(**settings, max_minutes=1e-9), threads=1)  # stops after 1
    train_unet(*args, TrainSettings(**settings), threads=2)
    assert "resuming from" in caplog.text
    assert "resuming 1 epochs trained on 1 CPU threads with 2" in caplog.text
    assert "--cores 1" in caplog.text


def test_deterministic_true_is_auto_on_the_cpu(cache, tmp_path):  # noqa: F811
    # The rules do not retrain when train.deterministic goes from auto to true on the CPU
    # (common.fit_unused): true adds only NaN-filled new memory, which no op reads.
    weights = []
    for mode in ("auto", True):
        out = tmp_path / str(mode)
        settings = TrainSettings(epochs=2, batch_size=2, device="cpu", deterministic=mode,
                                 augment=AUGMENT)
        best = train_unet(cache, out / "model.pt", out / "history.csv", out / "ck",
                          {"depth": 2, "base_width": 4}, settings)
        weights.append(best["state_dict"])
    for k, v in weights[0].items():
        assert torch.equal(v, weights[1][k]), k
