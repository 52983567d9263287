"""The SLURM profile's resources on a retry (`attempt` 2): what failed for memory gets more.

SLURM ends a job over its `--mem` as OUT_OF_MEMORY; the profile's `retries` submit it again
with `attempt` one higher. A dry run with `--attempt N` plans every job as its Nth try, so no
cluster is needed to see the sbatch requests.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, TINY, copy_workflow, snakemake

pytestmark = pytest.mark.slurm
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
SLURM = ("--profile", "profiles/slurm", "--workflow-profile", "none")
# The heavy rules of each kind: CPU (defaults), GPU training and prediction, and CRF.
RULES = ("split_dataset", "train_unet", "predict_masks", "tune_crf", "refine_crf", "finalize_masks")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        reason = "snakemake-executor-plugin-slurm missing: pip install -e '.[test,slurm]'"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    return copy_workflow(tmp_path_factory.mktemp("wf"))


def planned(wd: Path, attempt: int, *args: str) -> dict[str, dict[str, str]]:
    """Each planned rule's resources, as name -> value, in a dry run of try `attempt`."""
    # --cores: a dry run otherwise caps every rule's threads (so cpus_per_task) at 1
    run = ("--configfile", TINY, "-n", "--cores", "16", "--attempt", str(attempt), *args)
    out = snakemake(wd, *SLURM, *run).stdout
    found = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out):
        rule = re.match(r"(?:local)?rule (\w+):", block)
        res = re.search(r"^\s+resources: (.*)$", block, re.M)
        if rule and res:
            found[rule.group(1)] = dict(kv.split("=", 1) for kv in res.group(1).split(", "))
    return found


@pytest.fixture(scope="module")
def tries(workdir) -> list[dict[str, dict[str, str]]]:
    """The profile's plan of the first, second and third try (retries: 2)."""
    return [planned(workdir, attempt) for attempt in (1, 2, 3)]


def test_memory_grows_with_each_attempt(tries):
    # The same --mem again fails the same way: a retry of a job killed for memory was wasted.
    for rule in RULES:
        mem = [int(t[rule]["mem_mb"]) for t in tries]
        assert mem == [mem[0], 2 * mem[0], 3 * mem[0]], (rule, mem)
    assert int(tries[0]["refine_crf"]["mem_mb"]) == 9000  # the first try asks what it did


def test_training_keeps_its_walltime_and_resumes(tries):
    # Training's runtime is set at the partition's MaxTime: more would be refused by sbatch
    # (or pend forever), and a retry resumes from checkpoints/last.pt instead.
    first, second = tries[:2]
    assert first["train_unet"]["runtime"] == second["train_unet"]["runtime"]
    # The others start over (Snakemake removes a failed job's outputs): a retry needs longer.
    for rule in ("split_dataset", "predict_masks", "refine_crf", "tune_crf"):
        assert int(second[rule]["runtime"]) == 2 * int(first[rule]["runtime"]), rule


def test_profile_values_are_first_try_values(tries):
    # Users edit the numbers in the file: each stays the first try's request, as before.
    train = yaml.safe_load(PROFILE.read_text())["set-resources"]["train_unet"]
    first = tries[0]["train_unet"]
    assert first["mem_mb"] == re.match(r"\d+", str(train["mem_mb"]))[0], first
    assert first["cpus_per_task"] == "4", first  # threads: 4 + the tests' 0 workers
    assert first["gpu"] == "1" and first["slurm_partition"] == "gpu", first


def test_a_users_set_resources_still_wins(workdir):
    # A command-line override is taken as given, fixed or growing, on every try.
    fixed = planned(workdir, 2, "--set-resources", "train_unet:mem_mb=20000")
    assert fixed["train_unet"]["mem_mb"] == "20000"
    growing = planned(workdir, 2, "--set-resources", "train_unet:mem_mb=20000*attempt")
    assert growing["train_unet"]["mem_mb"] == "40000"
