"""Stop requests from the scheduler: SLURM sends SIGUSR1/SIGTERM before the walltime."""

from __future__ import annotations

import signal


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
