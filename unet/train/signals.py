"""Stop requests from the scheduler: SLURM sends SIGUSR1/SIGTERM before the walltime."""

from __future__ import annotations

import os
import signal
import threading


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
