"""A throwaway one-node SLURM cluster on localhost (munge, slurmctld, slurmd), for profile tests.

Not a test module: `tests/test_slurm.py` starts it. The daemons run in the foreground as our
own children, so they are stopped by PID; their state, logs and munge key live in a temporary
folder. Needs root (SlurmUser=root, and the config must sit at /etc/slurm, see below).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
DAEMONS = ("munged", "slurmctld", "slurmd")
# The slurm plugin's job-step wrapper drops SLURM_CONF from the environment, so the jobs'
# own srun reads the default path: the config cannot live only in the temporary folder.
ETC = Path("/etc/slurm")
MARK = "# Written by unet-pipeline tests/slurm_cluster.py; restored when the cluster stops.\n"


def find(binary: str) -> str | None:
    """Path of a binary, also in the sbin folders that a non-root PATH leaves out."""
    return shutil.which(binary, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def missing_binaries() -> list[str]:
    return [b for b in (*DAEMONS, "sbatch", "squeue", "sinfo") if find(b) is None]


def install_packages() -> None:
    """apt-get the Debian packages (CI runs as root on a clean Debian machine)."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
    ):
        subprocess.run(cmd, check=True, env=env, stdin=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _machine_mem_mb() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20


class SlurmCluster:
    """One node with `cpus`, `mem_mb` and one count-only GPU, in partitions `cpu` and `gpu`.

    `cpus` and `mem_mb` may exceed the machine's (SlurmdParameters=config_overrides): the
    profile's real requests must fit on a small CI machine, and without cgroups nothing is
    enforced anyway.
    """

    def __init__(self, root: Path, cpus: int | None = None, mem_mb: int | None = None) -> None:
        self.root = Path(root)
        self.cpus = max(cpus or 1, os.cpu_count() or 1)
        self.mem_mb = max(mem_mb or 1, _machine_mem_mb() - 512)
        self.host = socket.gethostname().split(".")[0]
        self.procs: dict[str, subprocess.Popen] = {}
        self._backups: dict[Path, Path | None] = {}
        self._lock = None

    # -- configuration -------------------------------------------------------------------

    def _slurm_conf(self) -> str:
        r = self.root
        return MARK + "\n".join(
            [
                "ClusterName=unettest",
                f"SlurmctldHost={self.host}(127.0.0.1)",
                f"SlurmctldPort={_free_port()}",
                f"SlurmdPort={_free_port()}",
                "SlurmUser=root",
                "SlurmdUser=root",
                "AuthType=auth/munge",
                "CredType=cred/munge",
                f"AuthInfo=socket={r}/munge/munge.socket",
                f"StateSaveLocation={r}/state",
                f"SlurmdSpoolDir={r}/spool",
                f"SlurmctldPidFile={r}/slurmctld.pid",
                f"SlurmdPidFile={r}/slurmd.pid",
                f"SlurmctldLogFile={r}/slurmctld.log",
                f"SlurmdLogFile={r}/slurmd.log",
                # No cgroups here (containers, CI): track processes by parentage, bind nothing.
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core_Memory",
                "SlurmdParameters=config_overrides",
                "GresTypes=gpu",
                "MpiDefault=none",
                "JobAcctGatherType=jobacct_gather/none",
                "AccountingStorageType=accounting_storage/none",
                "JobCompType=jobcomp/none",
                "ReturnToService=2",
                # Finished jobs stay visible to squeue/scontrol long enough for the plugin's
                # status checks (no sacct without slurmdbd) and for the tests' checks.
                "MinJobAge=600",
                # Seconds between SIGTERM and SIGKILL: time for training to leave its checkpoint.
                "KillWait=10",
                "SchedulerType=sched/backfill",
                f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={self.cpus} "
                f"RealMemory={self.mem_mb} Gres=gpu:1 State=UNKNOWN",
                f"PartitionName=cpu Nodes={self.host} Default=YES MaxTime=INFINITE State=UP",
                f"PartitionName=gpu Nodes={self.host} MaxTime=INFINITE State=UP",
                "",
            ]
        )

    def _write_etc(self, name: str, text: str) -> None:
        path = ETC / name
        backup = None
        if path.exists() and not path.read_text(errors="replace").startswith(MARK):
            backup = path.with_name(f"{name}.unet-test-backup")
            shutil.copy2(path, backup)
        self._backups[path] = backup
        path.write_text(text)

    def _restore_etc(self) -> None:
        for path, backup in self._backups.items():
            if backup is not None:
                shutil.move(backup, path)
            else:
                path.unlink(missing_ok=True)
        self._backups.clear()

    # -- life cycle -----------------------------------------------------------------------

    def _spawn(self, name: str, *args: str) -> None:
        out = open(self.root / f"{name}.out", "w")  # noqa: SIM115 - lives as long as the daemon
        self.procs[name] = subprocess.Popen(
            [find(name), *args], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def start(self, timeout: float = 60) -> SlurmCluster:
        r = self.root
        ETC.mkdir(parents=True, exist_ok=True)
        # One test cluster per machine at a time: the config path and SlurmUser are global.
        self._lock = open(ETC / ".unet-test.lock", "w")  # noqa: SIM115
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        for d in ("state", "spool", "munge"):
            (r / d).mkdir(parents=True, exist_ok=True)
        # munged refuses a socket folder others may write to, and clients must reach it.
        (r / "munge").chmod(0o711)
        key = r / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        self._write_etc("slurm.conf", self._slurm_conf())
        # A GPU gres without a device file is dropped and the node drained: /dev/null stands in.
        self._write_etc("gres.conf", MARK + "Name=gpu File=/dev/null Count=1\n")
        m = r / "munge"
        self._spawn(
            "munged",
            "--foreground",
            "--force",
            f"--socket={m}/munge.socket",
            f"--key-file={key}",
            f"--pid-file={m}/munged.pid",
            f"--log-file={m}/munged.log",
            f"--seed-file={m}/munged.seed",
        )
        self._wait(lambda: (m / "munge.socket").exists(), 15, "munged socket")
        self._spawn("slurmctld", "-D", "-c", "-i")
        self._spawn("slurmd", "-D", "-N", self.host)
        self._wait(lambda: self.node_state() == "idle", timeout, "node idle in sinfo")
        return self

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited during start-up\n{self.logs()}")
            if ready():
                return
            time.sleep(0.3)
        raise TimeoutError(f"no {what} after {timeout:.0f} s\n{self.logs()}")

    def node_state(self) -> str:
        out = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, check=False
        )
        return out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""

    def logs(self, lines: int = 20) -> str:
        """The tail of every daemon's log, for failure messages."""
        parts = []
        for f in sorted(self.root.glob("*.log")) + sorted(self.root.glob("*.out")):
            tail = f.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {f.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def job_ids(self) -> list[str]:
        out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True)
        return out.stdout.split()

    def stop(self) -> None:
        # Jobs first: their slurmstepd processes belong to slurmd, not to us.
        ids = self.job_ids() if "slurmctld" in self.procs else []
        if ids:
            subprocess.run(["scancel", *ids], check=False)
            deadline = time.monotonic() + 15
            while (
                time.monotonic() < deadline
                and subprocess.run(
                    ["squeue", "-h", "-t", "running,pending,completing", "-o", "%i"],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
            ):
                time.sleep(0.5)
        for name in reversed(list(self.procs)):
            proc = self.procs.pop(name)
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._restore_etc()
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def __enter__(self) -> SlurmCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
