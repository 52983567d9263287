"""The early stop signal the SLURM profile suggests (slurm_extra --signal) lets training save.

SLURM sends a `--signal` (without `B:`) to every process of the job step: the job-step
Snakemake as well as the training under it. When the step's task (that Snakemake) exits,
SLURM kills what is left of the step. No cluster is needed to check this: the test sends the
signal to a local Snakemake's process group, then kills the group as the end of the step does.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO

PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
SNAKEFILE = 'rule train:\n    output: "model.pt"\n    script: "train.py"\n'
# Training's own stop handling (unet.train.signals), with one batch to finish after the signal.
TRAIN = """
import sys, time
from pathlib import Path
from unet.train.signals import StopSignals

with StopSignals() as stops:
    Path("started").touch()
    while stops.signal is None:
        time.sleep(0.05)
    time.sleep(1)  # the batch in flight, then checkpoints/last.pt
    Path("saved").write_text(str(stops.signal))
sys.exit(143)
"""


def _suggested_signal() -> tuple[str, int]:
    """The signal named in the profile's (commented) `slurm_extra: --signal=...` line."""
    found = re.search(r"--signal=(?:B:)?(\w+)@\d+", PROFILE.read_text())
    assert found, f"{PROFILE} no longer suggests a --signal"
    name = found.group(1)
    return name, int(name) if name.isdigit() else getattr(signal, f"SIG{name.removeprefix('SIG')}")


def _run_until_started(wd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--quiet"], cwd=wd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not (wd / "started").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (wd / "started").exists(), proc.communicate()[0]
    return proc


def test_suggested_signal_reaches_training_through_snakemake(tmp_path):
    # --signal=USR1@120 was suggested: SIGUSR1 ends the job-step Snakemake at once (Python's
    # default action), the step ends with it and SLURM kills the training before it saves.
    name, signum = _suggested_signal()
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    (tmp_path / "train.py").write_text(TRAIN)
    proc = _run_until_started(tmp_path)
    try:
        os.killpg(proc.pid, signum)
        out = proc.communicate(timeout=60)[0]
    finally:
        with contextlib.suppress(ProcessLookupError):  # the end of the job step: SIGKILL
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != -signum, f"SIG{name} ended Snakemake itself:\n{out}"
    assert (tmp_path / "saved").exists(), out


def test_readme_suggests_the_profiles_signal():
    name, _ = _suggested_signal()
    assert f"--signal={name}@" in (REPO / "README.md").read_text()
