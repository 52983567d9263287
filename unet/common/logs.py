"""One logging setup for every script, and tqdm progress that follows it."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_file: str | os.PathLike | None = None, level: int = logging.INFO) -> None:
    """Log to `log_file` (the rule's log), and to stderr: everything without a log file, else
    warnings only, so a Snakemake run's screen is not buried under every job's progress."""
    console = logging.StreamHandler(sys.stderr)
    handlers: list[logging.Handler] = [console]
    if log_file:
        console.setLevel(logging.WARNING)
        os.makedirs(os.path.dirname(os.path.abspath(log_file)), exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught  # the traceback lands in the rule's log, not only on stderr
    if threading.current_thread() is threading.main_thread():
        # Python's default SIGTERM ends the process at once, running no `finally`: a step
        # stopped by SLURM (walltime, scancel, preemption) left its scratch files (a whole
        # cache) and its pool's workers. As an exit, the atomic writes drop their scratch.
        # Training keeps its own handler inside its loop (train.signals).
        signal.signal(signal.SIGTERM, _stop)


def _stop(signum: int, _frame) -> None:
    logging.getLogger("unet").warning("stopped by signal %d: unfinished outputs removed", signum)
    raise SystemExit(128 + signum)


def _log_uncaught(kind, value, tb) -> None:
    logging.getLogger("unet").critical("%s: %s", kind.__name__, value, exc_info=(kind, value, tb))


class _TqdmToLog:
    """File-like object that sends tqdm's lines to the log instead of a terminal."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.last = ""

    def write(self, text: str) -> None:
        text = text.strip("\r\n\t ")
        count = text.split("[")[0]  # desc, percent, bar and n/total, less the timings
        if text and count != self.last:  # tqdm's close repeats the last update's line
            self.logger.info(text)
            self.last = count

    def flush(self) -> None:
        pass


def progress(iterable: Iterable[T], desc: str, total: int | None = None, **kw: Any) -> Iterable[T]:
    """tqdm over `iterable`: a live bar on a terminal, a few log lines otherwise. The iterable
    is iterated once: tqdm.auto's class calls iter() on what it is given and then iterates it
    again, which drew a DataLoader's shuffle and worker seeds twice (differently for 0 and
    more train.num_workers) and started its workers' prefetching for nothing."""
    n = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
    iterable = iter(iterable)
    if sys.stderr.isatty():
        return tqdm(iterable, desc=desc, total=n, **kw)
    # Not a terminal (a Snakemake job, CI): about ten lines per loop, into the log.
    step = max(1, (n or 10) // 10)
    return tqdm(
        iterable,
        desc=desc,
        total=n,
        file=_TqdmToLog(logging.getLogger("progress")),
        miniters=step,
        mininterval=0,
        maxinterval=float("inf"),
        ascii=True,
        **kw,
    )
