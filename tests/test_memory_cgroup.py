"""The memory a whole-image forward pass may take on the CPU is capped by the process's cgroup
limit (a SLURM job's --mem, a container's): /proc/meminfo gives the node's, so a 16 GB job on
a 512 GB node passed the check and was killed by the out-of-memory killer, naming nothing."""

from __future__ import annotations

import torch

from unet.infer import memory

GB = 1 << 30


def _node(tmp_path, monkeypatch, cgroup: str, files: dict[str, str]) -> None:
    """A node of 512 GB available whose process sits in `cgroup` (/proc/self/cgroup's text),
    the cgroup tree's `files` (path under /sys/fs/cgroup: text)."""
    (tmp_path / "meminfo").write_text(f"MemTotal: {600 * GB // 1024} kB\n"
                                      f"MemAvailable: {512 * GB // 1024} kB\n")
    (tmp_path / "self_cgroup").write_text(cgroup)
    for name, text in files.items():
        (tmp_path / "fs" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "fs" / name).write_text(text)
    monkeypatch.setattr(memory, "MEMINFO", tmp_path / "meminfo")
    monkeypatch.setattr(memory, "SELF_CGROUP", tmp_path / "self_cgroup")
    monkeypatch.setattr(memory, "CGROUP_FS", tmp_path / "fs")


def test_a_cgroup_v2_limit_above_the_process_caps_the_free_memory(tmp_path, monkeypatch):
    _node(tmp_path, monkeypatch, "0::/system.slice/slurm/job_7/step_0\n", {
        "system.slice/slurm/job_7/memory.max": f"{16 * GB}\n",  # the job's --mem
        "system.slice/slurm/job_7/step_0/memory.max": "max\n"})
    assert memory.free_bytes(torch.device("cpu")) == 16 * GB


def test_a_cgroup_v1_limit_caps_it_and_no_limit_leaves_the_node_s(tmp_path, monkeypatch):
    _node(tmp_path, monkeypatch, "4:memory:/slurm/uid_1/job_7\n1:cpu:/\n",
          {"memory/slurm/uid_1/job_7/memory.limit_in_bytes": f"{8 * GB}\n"})
    assert memory.free_bytes(torch.device("cpu")) == 8 * GB
    _node(tmp_path, monkeypatch, "0::/user.slice\n", {"user.slice/memory.max": "max\n"})
    assert memory.free_bytes(torch.device("cpu")) == 512 * GB
