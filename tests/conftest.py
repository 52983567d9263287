"""Shared fixtures: the repository root, real data, and a scratch copy of the workflow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"
WORKFLOW_FILES = (
    "Snakefile", "rules", "scripts", "envs", "config", "profiles", "report", "unet",
    "tests/configs",
)


def copy_workflow(dest: Path) -> Path:
    """Copy what Snakemake needs into `dest`, so tests never touch the repo's results/."""
    for name in WORKFLOW_FILES:
        src = REPO / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, target)
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run Snakemake from this interpreter's environment in `workdir`, capturing output."""
    exe = Path(sys.executable).with_name("snakemake")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([str(exe), *args], cwd=workdir, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


TINY = "tests/configs/tiny.yaml"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A workflow copy on which the tiny pipeline has run once (shared: tests must not change
    its outputs, and must restore any file they touch)."""
    wd = copy_workflow(tmp_path_factory.mktemp("wf"))
    snakemake(wd, "--cores", "2", "--resources", "gpu=1", "--configfile", TINY)
    return wd


def real_data(name: str) -> Path:
    """Path of a real data set under ../shared/datasets; skip outside CI when it is absent."""
    path = DATASETS / name
    if not path.is_dir():
        if os.environ.get("CI"):
            raise AssertionError(f"{path} is missing; CI must provide ../shared/datasets")
        pytest.skip(f"{path} not present")
    return path
