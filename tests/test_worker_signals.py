"""Training with DataLoader workers (train.num_workers > 0) stopped by a SIGTERM sent to every
process of the job, as SLURM sends it at the walltime or on scancel: the training process
stops at the next batch (status 143), keeps its last epoch's checkpoint, leaves no worker
behind, and a resumed run ends with the weights of an unbroken one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO
from unet.model import checkpoint

RUN = """
import sys, time
from unet.common.logs import setup_logging
from unet.train.settings import TrainSettings
from unet.train.train import train_unet
from unet.train import loop
setup_logging(sys.argv[5] if len(sys.argv) > 5 else None)
step = loop._step
def slow(*a, **k):  # slow the steps down so the signal lands inside an epoch
    time.sleep(float(sys.argv[2]))
    return step(*a, **k)
loop._step = slow
out = sys.argv[1]
train_unet(sys.argv[3], out + "/model.pt", out + "/history.csv", out + "/ck",
           {"depth": 2, "base_width": 4},
           TrainSettings(epochs=3, batch_size=2, device="cpu", num_workers=int(sys.argv[4])),
           threads=1 + int(sys.argv[4]))  # a core for each worker: else it is lowered to 0
"""


@pytest.fixture(scope="module")
def cache(synthetic_cache) -> Path:
    return synthetic_cache("data", {"count": 10, "width": 48, "height": 32, "seed": 3}, (32, 24))


def _run(out: Path, cache: Path, pause: float, workers: int, *log: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUN, str(out), str(pause), str(cache), str(workers), *log],
        stderr=subprocess.PIPE, text=True, cwd=REPO, start_new_session=True,  # its own group
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def _after_epoch_one(last: Path) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:  # epoch 1's checkpoint, then stop inside epoch 2
        if last.exists() and checkpoint.load(last)["state"]["epoch"] >= 1:
            break
        time.sleep(0.1)
    time.sleep(0.5)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if entry.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


# A worker needs a core beside training's (unet.common.device.share_cores lowers them else)
needs_two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores")


@needs_two_cores
def test_sigterm_to_the_whole_job_stops_training_with_workers_cleanly(cache, tmp_path):
    # Each worker died of the SIGTERM at once (torch's handler ends it unless its parent sent
    # it), so the training process failed with 'DataLoader worker (pid(s) ...) exited
    # unexpectedly', status 1 and a traceback (a logging error too), where num_workers 0
    # stops at the next batch with status 143.
    ref, cut = tmp_path / "ref", tmp_path / "cut"
    proc = _run(cut, cache, 0.3, 2)
    last = cut / "ck" / "last.pt"
    _after_epoch_one(last)
    assert _children(proc.pid), "no DataLoader worker ran: the test would prove nothing"
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "signal 15: leaving the checkpoint of epoch" in err, err
    assert "Traceback" not in err and "exited unexpectedly" not in err, err
    deadline = time.time() + 15
    while not _group_gone(proc.pid) and time.time() < deadline:
        time.sleep(0.1)
    assert _group_gone(proc.pid), "a DataLoader worker outlived the training process"
    assert 1 <= checkpoint.load(last)["state"]["epoch"] < 3 and not (cut / "model.pt").exists()
    resumed = _run(cut, cache, 0, 2)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    assert _run(ref, cache, 0, 0).wait(timeout=300) == 0
    a, b = checkpoint.load(ref / "model.pt"), checkpoint.load(cut / "model.pt")
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key


@needs_two_cores
def test_a_worker_killed_by_the_system_reads_as_a_training_error(cache, tmp_path):
    # The kernel's OOM killer (or a bus error from a full /dev/shm) ends a worker with no
    # Python error: torch's RuntimeError 'DataLoader worker (pid(s) ...) exited unexpectedly'
    # showed two tracebacks, read as a bug, and named neither the cause nor the fix.
    out, log = tmp_path / "run", tmp_path / "train.log"
    proc = _run(out, cache, 0.3, 2, str(log))
    _after_epoch_one(out / "ck" / "last.pt")
    workers = _children(proc.pid)
    assert workers
    os.kill(workers[-1], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert "TrainingError: a data-loading worker of training (train.num_workers) died" in err
    assert "(signal: Killed)" in err and "--shm-size" in err and str(log) in err, err
    assert checkpoint.load(out / "ck" / "last.pt")["state"]["epoch"] >= 1
    deadline = time.time() + 15
    while not _group_gone(proc.pid) and time.time() < deadline:
        time.sleep(0.1)
    assert _group_gone(proc.pid), "a DataLoader worker outlived the training process"
