"""Stop requests from the scheduler: SLURM sends SIGUSR1/SIGTERM before the walltime."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections.abc import Iterator

from unet.train.settings import TrainingError

# torch's reports of a DataLoader worker that ended without a Python error (the SIGCHLD
# handler's, and the data queue's), e.g. "DataLoader worker (pid 12) is killed by signal: Killed."
_DIED = re.compile(r"DataLoader worker \(pid(?:\(s\))? [\d, ]+\) (?:is killed by signal: "
                   r"(.+?)\.? *$|exited unexpectedly)")


class StopSignals:
    """Remembers SIGTERM/SIGUSR1 (what SLURM sends before the walltime) until the loop looks."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __enter__(self) -> StopSignals:
        self.old = {s: signal.signal(s, self._on) for s in (signal.SIGTERM, signal.SIGUSR1)}
        return self

    def _on(self, signum, _frame) -> None:
        self.signal = signum

    def __exit__(self, *exc) -> None:
        for s, handler in self.old.items():
            signal.signal(s, handler)


def leave_stops_to_training(_worker_id: int) -> None:
    """DataLoader `worker_init_fn`: a SIGTERM sent to every process of the job (SLURM at the
    walltime, scancel, `kill -TERM -<group>`) no longer kills the loading workers at once, which
    made the training process fail with torch's 'DataLoader worker exited unexpectedly' (exit 1,
    a traceback) before it could stop at the next batch (exit 143). The worker ignores it and
    goes on serving batches until training stops and shuts it down; the training process's own
    SIGTERM (torch's shutdown of a stuck worker, multiprocessing's at exit) still ends it, as
    torch's handler did."""
    if not hasattr(signal, "sigwaitinfo"):  # macOS, Windows: torch's own handling stays
        return
    parent = os.getppid()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # threads started later too
    threading.Thread(target=_end_on_parents_sigterm, args=(parent,), daemon=True).start()


def _end_on_parents_sigterm(parent: int) -> None:
    """Wait for SIGTERMs (blocked, so they queue here); end the worker on its parent's."""
    while True:
        if signal.sigwaitinfo({signal.SIGTERM}).si_pid == parent:
            os._exit(0)


@contextlib.contextmanager
def worker_deaths() -> Iterator[None]:
    """Turn torch's RuntimeError for a DataLoader worker the system killed (out of memory; a
    bus error when /dev/shm, where workers hand over batches, is full) into a TrainingError
    that says so and names the fixes, in place of a traceback that reads as a bug."""
    try:
        yield
    except RuntimeError as err:
        found = [_DIED.search(str(e)) for e in (err, err.__cause__, err.__context__) if e]
        if not any(found):
            raise
        how = next((f.group(1) for f in found if f and f.group(1)), None)
        raise TrainingError(
            "a data-loading worker of training (train.num_workers) died without a Python "
            f"error{f' (signal: {how})' if how else ''}: killed by the system, most often for "
            "memory (lower train.num_workers or train.batch_size, or give the job more "
            "memory), or a bus error from a full /dev/shm, where workers hand over batches "
            "(in a container raise its shared memory, e.g. docker run --shm-size=8g, or set "
            "train.num_workers: 0); the kernel log (dmesg) says which. checkpoints/last.pt "
            "keeps the epochs done: run again to resume"
        ) from err
