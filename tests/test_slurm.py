"""The SLURM profile on a real one-node SLURM cluster that these tests start (root only).

Outside CI, without the slurm packages, the plugin or root, the tests skip and say why; in CI
(`CI` set) they install the Debian packages if needed and must run.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests import slurm_cluster
from tests.conftest import REPO, TINY, copy_workflow, snakemake

# One worker under pytest-xdist (--dist loadgroup): the module's cluster starts once, and a
# second worker's would wait for the first's /etc/slurm lock, then start again.
pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("slurm")]
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
# The README's cluster command: `--workflow-profile none` keeps profiles/default (local
# settings) out of cluster runs.
SLURM = ("--profile", "profiles/slurm", "--workflow-profile", "none")
# Test-cluster settings, not site ones: without slurmdbd there is no sacct, so status comes
# from squeue; and the plugin's default 40 s before the first status check would dominate a
# tiny run.
CLUSTER_FLAGS = (
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "2",
)
# Fewer, larger jobs: each SLURM job costs seconds of start-up and status polling. The GPU
# rules stay single jobs, as a user runs them.
GROUPS = (
    "--groups",
    "split_dataset=data",
    "preprocess=data",
    "refine_crf=post",
    "finalize_masks=post",  # between refine_crf and evaluate_masks: in the same group
    "evaluate_masks=post",
    "plot_results=post",
)
# "... submitted with SLURM jobid 7 (log: .../slurm_logs/rule_train_unet/baseline/7.log)"
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/([^/]+)/")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the SLURM tests")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def plugin() -> None:
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        _unavailable("snakemake-executor-plugin-slurm missing: pip install -e '.[test,slurm]'")


def _mem_mb(value: int | str, attempt: int) -> int:
    """A profile's mem_mb, N or `N * attempt`, at try `attempt`."""
    n, grows = re.fullmatch(r"(\d+)(\s*\*\s*attempt)?", str(value).strip()).groups()
    return int(n) * (attempt if grows else 1)


def _node_size() -> tuple[int, int]:
    """The largest cpus_per_task and mem_mb the profile asks for: the test node must fit them."""
    profile = yaml.safe_load(PROFILE.read_text())
    requests = [profile["default-resources"], *profile["set-resources"].values()]
    cpus = [r["cpus_per_task"] for r in requests if isinstance(r.get("cpus_per_task"), int)]
    # cpus_per_task `threads`: the rules' most, 4 (training with the tests' num_workers 0, CRF)
    # mem_mb: at the tests' last try (--retries 1), as a node too small leaves a retry pending
    return max([*cpus, 4]), max(_mem_mb(r.get("mem_mb", 0), 2) for r in requests)


@pytest.fixture(scope="module")
def cluster(plugin, tmp_path_factory):
    """A running one-node cluster; the Debian packages are installed first in CI."""
    root = os.geteuid() == 0
    ci = bool(os.environ.get("CI"))
    if ci and root and shutil.which("apt-get") and slurm_cluster.missing_binaries():
        slurm_cluster.install_packages()
    missing = slurm_cluster.missing_binaries()
    if missing:
        packages = " ".join(slurm_cluster.PACKAGES)
        _unavailable(f"{', '.join(missing)} not found (Debian: apt-get install {packages})")
    if not root:
        _unavailable("the test cluster runs as root (SlurmUser, /etc/slurm/slurm.conf)")
    cpus, mem_mb = _node_size()
    with slurm_cluster.SlurmCluster(tmp_path_factory.mktemp("slurm"), cpus, mem_mb) as c:
        yield c


def _sbatch_record(job_id: str) -> str:
    out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True)
    return out.stdout


def test_profile_sets_no_global_gpu_cap(plugin, tmp_path):
    # A rule asking for 2 GPUs must get 2: a global `resources: gpu=1` would shrink it to 1.
    wd = copy_workflow(tmp_path)
    args = ("--configfile", TINY, "-n", "--set-resources", "train_unet:gpu=2")
    out = snakemake(wd, *SLURM, *args).stdout
    train = out[out.index("rule train_unet:") :]
    assert re.search(r"resources: .*\bgpu=2\b", train), train[:2000]


@pytest.fixture(scope="module")
def done(cluster, tmp_path_factory) -> tuple[Path, str]:
    """The tiny pipeline run once through the SLURM profile: (workdir, Snakemake's output)."""
    wd = copy_workflow(tmp_path_factory.mktemp("wf"))
    # --retries 0: a broken job fails the test at once instead of three times.
    out = snakemake(wd, *SLURM, *CLUSTER_FLAGS, *GROUPS, "--configfile", TINY, "--retries", "0")
    return wd, out.stdout + out.stderr


def _experiment_dir(wd: Path, name: str = "baseline") -> Path:
    """Where an experiment's outputs live (results/[<dataset>/]<name>): found, not assumed."""
    return next(wd.glob("results/**/baseline/model.pt")).parent.with_name(name)


def test_pipeline_completes_on_slurm(done):
    wd, _ = done
    assert (_experiment_dir(wd) / "metrics/summary.json").is_file()


def test_gpu_rules_are_submitted_with_gpus(done):
    _, log = done
    # Log folders are rule_<rule> or group_<group>_<rules>.
    jobs = {folder.split("_", 1)[1]: job_id for job_id, folder in SUBMITTED.findall(log)}
    assert {"train_unet", "predict_masks"} <= set(jobs), log[-3000:]
    for rule in ("train_unet", "predict_masks"):
        record = _sbatch_record(jobs[rule])
        # sbatch --gpus=1 is recorded as TresPerJob (--gres would be TresPerNode).
        assert re.search(r"TresPerJob=gres[:/]gpu:1\b", record), record
        assert "Partition=gpu " in record and "JobState=COMPLETED" in record, record
    # The download needs the network, which compute nodes often lack: never submitted.
    assert not any("download_dataset" in name for name in jobs), sorted(jobs)
    assert "localrule download_dataset:" in log, log[:3000]
    data = next(job_id for name, job_id in jobs.items() if name.startswith("data_"))
    record = _sbatch_record(data)
    assert "gpu" not in record.replace("Partition=cpu", ""), record


def test_cancelled_training_resumes_from_checkpoint(done):
    wd, _ = done
    # Many epochs, so training is still running when we cancel it; max_minutes ends the
    # retry cleanly after a few seconds instead of a thousand epochs.
    (wd / "slow.yaml").write_text(
        "experiments: {slow: {train: {epochs: 1000, max_minutes: 0.1}}}\n"
    )
    exe = Path(sys.executable).with_name("snakemake")
    slow = _experiment_dir(wd, "slow")
    args = [*SLURM, *CLUSTER_FLAGS, "--configfile", TINY, "slow.yaml", "--retries", "1"]
    proc = subprocess.Popen(
        [str(exe), *args, str((slow / "model.pt").relative_to(wd))],
        cwd=wd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        last = slow / "checkpoints/last.pt"
        deadline = time.monotonic() + 150
        while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert last.exists(), f"no checkpoint before the job ended:\n{proc.communicate()[0]}"
        jobs = subprocess.run(
            ["squeue", "-h", "-t", "running", "-o", "%i %k"], capture_output=True, text=True
        ).stdout.splitlines()
        train = [line.split()[0] for line in jobs if "train_unet" in line]
        assert len(train) == 1, jobs
        subprocess.run(["scancel", train[0]], check=True)
        log, _ = proc.communicate(timeout=200)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, log
    assert re.search(rf"SLURM-job '{train[0]}' failed, SLURM status is: 'CANCELLED'", log), log
    # The retry asks for twice the memory (the same --mem fails again after OUT_OF_MEMORY) and
    # the same walltime (set at the partition's MaxTime; training resumes instead).
    retry = [j for j, name in SUBMITTED.findall(log) if name == "rule_train_unet" and j != train[0]]
    first, second = (_sbatch_record(job) for job in (train[0], retry[0]))
    mem = [int(re.search(r"MinMemoryNode=(\d+)M", r).group(1)) for r in (first, second)]
    assert mem[1] == 2 * mem[0], (first, second)
    assert re.findall(r"TimeLimit=\S+", first) == re.findall(r"TimeLimit=\S+", second), second
    train_log = (slow / "logs/train_unet.log").read_text()
    resumed = re.search(r"resuming from \S+last\.pt at epoch (\d+)", train_log)
    assert resumed and int(resumed.group(1)) >= 1, train_log
    assert (slow / "model.pt").is_file()


def _planned_resources(out: str) -> dict[str, str]:
    """Each planned rule's `resources:` line in a dry run's output."""
    found = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out):
        rule = re.match(r"(?:local)?rule (\w+):", block)
        res = re.search(r"^\s+resources: (.*)$", block, re.M)
        if rule and res:
            found[rule.group(1)] = res.group(1)
    return found


def test_every_gpu_rule_gets_the_gpu_partition_and_its_resources(plugin, tmp_path):
    # set-resources is keyed by rule name: train_fold (cross-validation, `use rule train_unet`)
    # got the CPU defaults (partition cpu, 4000 MB, 60 min) with --gpus=1, a job that a real
    # cluster refuses or never starts.
    wd = copy_workflow(tmp_path)
    (wd / "folds.yaml").write_text("split: {folds: 2}\n")
    out = snakemake(wd, *SLURM, "--configfile", TINY, "folds.yaml", "-n").stdout
    planned = _planned_resources(out)
    assert "train_fold" in planned, out[-2000:]
    profile = yaml.safe_load(PROFILE.read_text())["set-resources"]
    for rule in ("train_fold", "predict_masks"):
        res = planned[rule]
        assert "gpu=1" in res and "slurm_partition=gpu" in res, (rule, res)
    train = profile["train_unet"]
    assert f"mem_mb={_mem_mb(train['mem_mb'], 1)}" in planned["train_fold"]
    assert f"runtime={train['runtime']}" in planned["train_fold"]
    gpu_rules = set(re.findall(r"^rule (\w+):(?:(?!^rule ).)*?\bgpu=1", _rules_text(), re.M | re.S))
    assert gpu_rules <= set(profile) | {"train_fold"}, gpu_rules - set(profile)
    assert {"train_fold", "predict_folder"} <= set(profile)


def _rules_text() -> str:
    return "\n".join(p.read_text() for p in sorted((REPO / "rules").glob("*.smk")))
