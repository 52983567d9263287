"""CPU threads: a job's busy processes (torch's threads, DataLoader workers) fit its cores."""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path

import pytest
import torch

from tests.conftest import TINY, copy_workflow, snakemake
from tests.test_train import cache  # noqa: F401  (the module's cache fixture)
from unet.train.settings import TrainSettings
from unet.train.train import train_unet

USABLE = len(os.sched_getaffinity(0))


def _planned_threads(wd: Path, override: str, cores: int) -> dict[str, int]:
    """Each planned rule's threads in a dry run with `override` (YAML) over the tiny config."""
    (wd / "override.yaml").write_text(override)
    out = snakemake(wd, "--cores", str(cores), "--configfile", TINY, "override.yaml", "-n")
    jobs = re.findall(r"^rule (\w+):\n(?:    .*\n)*?    threads: (\d+)$", out.stdout, re.M)
    return {rule: int(n) for rule, n in jobs}


@pytest.mark.workflow
def test_training_asks_a_core_for_each_data_loading_worker(tmp_path):
    # threads: 4 whatever train.num_workers: on SLURM (cpus-per-task = threads) a job with 4
    # workers ran 5 busy processes on 4 cores; locally --cores was oversubscribed.
    wd = copy_workflow(tmp_path)
    assert _planned_threads(wd, "train: {num_workers: 3}\n", 16)["train_unet"] == 7
    assert _planned_threads(wd, "train: {num_workers: 0}\n", 16)["train_unet"] == 4
    assert _planned_threads(wd, "train: {num_workers: 3}\n", 5)["train_unet"] == 5  # --cores
    folds = _planned_threads(wd, "split: {folds: 2}\ntrain: {num_workers: 2}\n", 16)
    assert folds["train_fold"] == 6


@pytest.mark.parametrize(
    ("threads", "usable", "workers", "shared"),
    [
        (6, 8, 2, (4, 2)),  # the rule's 4 + 2: all run
        (4, 8, 2, (2, 2)),  # --cores 4: the workers take theirs from torch's
        (4, 8, 8, (1, 3)),  # more workers than cores: lowered, torch keeps one
        (6, 2, 2, (1, 1)),  # a machine (or SLURM allocation) of 2 cores: what it allows
        (1, 8, 2, (1, 0)),  # one core: the main process loads the batches
    ],
)
def test_workers_and_torch_threads_share_the_jobs_cores(
    monkeypatch, threads, usable, workers, shared
):
    from unet.common import device

    monkeypatch.setattr(device.os, "sched_getaffinity", lambda pid: set(range(usable)))
    assert device.share_cores(threads, workers) == shared


def test_too_many_workers_are_lowered_in_one_line(cache, tmp_path, caplog):  # noqa: F811
    # 8 workers on a 2-core job: torch's "This DataLoader will create 8 worker processes in
    # total. Our suggested max number of worker ..." warning, many lines in the train log.
    caplog.set_level(logging.INFO)
    settings = TrainSettings(epochs=1, batch_size=2, device="cpu", num_workers=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        best = train_unet(
            cache,
            tmp_path / "model.pt",
            tmp_path / "history.csv",
            tmp_path / "ck",
            {"depth": 2, "base_width": 4},
            settings,
            threads=2,
        )
    assert not [w for w in caught if "worker" in str(w.message)], [str(w.message) for w in caught]
    lowered = [r.getMessage() for r in caplog.records if "num_workers" in r.getMessage()]
    cores = min(2, USABLE)
    assert lowered == [
        f"train.num_workers 8 lowered to {cores - 1}: this job has {cores} CPU "
        "cores (its threads, at most --cores and the usable cores; cpus-per-task "
        "on SLURM) and training keeps 1"
    ]
    assert best["train_settings"]["num_workers"] == cores - 1  # what ran
    assert torch.get_num_threads() == 1


def test_resuming_with_other_workers_names_them_in_the_fix(cache, tmp_path, caplog, monkeypatch):  # noqa: F811
    # torch's threads are the job's cores less one per worker: a last.pt of 4 threads resumed
    # under --cores 4 with train.num_workers 2 ran on 2, and the warning's fix was
    # "run with --cores 4", the very count that ran.
    from unet.common import device

    monkeypatch.setattr(device.os, "sched_getaffinity", lambda pid: set(range(8)))
    caplog.set_level(logging.INFO)
    settings = {"epochs": 2, "batch_size": 2, "device": "cpu", "deterministic": True}
    args = (cache, tmp_path / "model.pt", tmp_path / "history.csv", tmp_path / "ck",
            {"depth": 2, "base_width": 4})
    train_unet(*args, TrainSettings(**settings, max_minutes=1e-9), threads=4)  # stops after 1
    train_unet(*args, TrainSettings(**settings, num_workers=2), threads=4)
    assert "resuming 1 epochs trained on 4 CPU threads with 2" in caplog.text
    assert "--cores 4 plus one per train.num_workers" in caplog.text
