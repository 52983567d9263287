"""A step stopped by SIGTERM (a SLURM walltime, scancel, a preemption) or killed outright leaves
no scratch files behind, and its pool's workers do not outlive it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.conftest import REPO
from unet.common.fileio import atomic_dir

STEP = """
import os, signal, sys, time
from pathlib import Path
from unet.common.fileio import atomic_dir
from unet.common.logs import setup_logging
from unet.common.parallel import parallel_map
from tests.test_interrupt import _slow

setup_logging(sys.argv[1] + "/step.log")
with atomic_dir(sys.argv[1] + "/cache") as tmp:
    (tmp / "train_images.npy").write_bytes(b"x" * 1000)
    for _ in parallel_map(_slow, range(4), 2, "cache"):
        pass
"""


def _slow(x: int) -> int:
    time.sleep(60)
    return x


def _workers(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout
    return [int(p) for p in out.split()]


def _step_with_workers(tmp_path) -> tuple[subprocess.Popen, list[int]]:
    """A preprocess step (STEP) started, once its pool's two workers run: it and their pids."""
    proc = subprocess.Popen([sys.executable, "-c", STEP, str(tmp_path)], cwd=REPO)
    deadline = time.monotonic() + 30
    while len(_workers(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = _workers(proc.pid)
    assert len(workers) >= 2
    return proc, workers


def test_sigterm_removes_scratch_and_stops_workers(tmp_path):
    # Python's default SIGTERM ends the process at once, no `finally` run: a preprocess stopped
    # so left its whole scratch cache (376 MB for 40 images at 1920x1280), and its pool's
    # workers went on waiting, orphaned, for ever.
    proc, workers = _step_with_workers(tmp_path)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".cache")]
    time.sleep(0.5)
    alive = [p for p in workers if subprocess.run(["kill", "-0", str(p)]).returncode == 0]
    for p in alive:
        subprocess.run(["kill", "-9", str(p)])
    assert not alive, "pool workers outlived the step"
    assert "stopped by signal 15" in (tmp_path / "step.log").read_text()


def test_a_killed_runs_scratch_folder_is_removed_by_the_next(tmp_path):
    # SIGKILL (a lost node, the OOM killer) runs no handler: the next run clears what it left.
    stale = tmp_path / ".cache.0a1b2c3d.part"
    stale.mkdir()
    (stale / "train_images.npy").write_bytes(b"x" * 1000)
    other = tmp_path / ".cached.0a1b2c3d.part"  # another output's scratch: not ours
    other.mkdir()
    with atomic_dir(tmp_path / "cache") as tmp:
        (tmp / "meta.json").write_text("{}")
    assert not stale.exists() and other.exists()
    assert (tmp_path / "cache" / "meta.json").is_file()


def test_a_killed_checkpoint_writes_scratch_is_removed_by_the_next_run(synthetic_cache, tmp_path):
    # A job killed while torch.save wrote last.pt left .last.pt.<hex>.part (model, optimiser
    # and scheduler: several times the model's size) in checkpoints/, kept for ever.
    from unet.train.settings import TrainSettings
    from unet.train.train import train_unet

    cache = synthetic_cache("ck", {"count": 10, "width": 48, "height": 32, "seed": 3}, (32, 24))
    ck = tmp_path / "ck"
    ck.mkdir()
    for name in (".last.pt.0a1b2c3d.part", ".best.pt.deadbeef.part"):
        (ck / name).write_bytes(b"x" * 1000)
    settings = TrainSettings(epochs=1, batch_size=2, device="cpu")
    train_unet(cache, tmp_path / "model.pt", tmp_path / "history.csv", ck,
               {"depth": 2, "base_width": 4}, settings)
    assert sorted(p.name for p in ck.iterdir()) == ["best.pt", "last.pt"]


def test_a_killed_steps_pool_workers_do_not_outlive_it(tmp_path):
    # kill -9 of a preprocess job (or the OOM killer taking it) left its pool's workers
    # waiting for work for ever, orphaned, each holding its memory and the scratch cache it
    # had mapped (whose disk space no removal frees while a map is open).
    proc, workers = _step_with_workers(tmp_path)
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in workers if subprocess.run(["kill", "-0", str(p)]).returncode == 0]
    for p in alive:
        subprocess.run(["kill", "-9", str(p)])
    assert not alive, "pool workers outlived the killed step"
