"""Process pools for per-image work (decoding, CRF, metrics): one place to choose how."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TypeVar

from unet.common.logs import progress

T = TypeVar("T")
R = TypeVar("R")
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _one_thread() -> None:
    # N processes x M library threads on N cores would oversubscribe and slow every image.
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    # A worker dies of SIGTERM (the parent's handler, inherited, would raise in the task);
    # one sent before this line waited, blocked since the fork (_forking), and ends it now
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    # ... and with its parent: one killed outright (SIGKILL, the OOM killer) runs no cleanup,
    # and its workers waited for work for ever, holding their memory and the scratch files
    # they had mapped (a cache's disk space is not freed while a map of it is open).
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()


def _exit_with(parent: int, every: float = 0.5) -> None:
    """End this worker once `parent` is gone (the worker is handed to another parent)."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


def _context() -> mp.context.BaseContext:
    # fork: Snakemake runs each script as a temporary __main__ file, which spawn would
    # re-execute in every worker. The workers only run numpy/PIL/pydensecrf code.
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


@contextmanager
def _forking() -> Iterator[None]:
    """SIGTERM held back in this thread while it forks the workers: a worker inherits the
    step's own handler until _one_thread resets it, so one stopped at once (an error in the
    first item, a stop signal) ran that handler, lived on, and the pool waited for it."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # one sent meanwhile arrives now


def _results(futures: list[Future], ordered: bool) -> Iterator:
    """Each future's result, in order or as they finish, none kept once yielded (as imap)."""
    if not ordered:
        stream = as_completed(futures)  # it drops each future it yields
        head = [next(stream)] if futures else []  # from here it holds its own references
        futures.clear()
        while head:
            yield head.pop().result()
        yield from (f.result() for f in stream)
        return
    futures.reverse()
    while futures:
        yield futures.pop().result()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the items under way at once, as Pool.terminate did (the executor has no public way
    before Python 3.14), and let the executor's thread see the pool is broken."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    for process in workers:
        process.terminate()
    for process in workers:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    # A worker stopped between the two writes of a result (its length, then its bytes; Ctrl-C
    # reaches every worker) left part of it in the pipe, and the executor's thread waited for
    # the rest for ever, and shutdown with it. With this process's copy of the pipe's writing
    # end closed too, no writer is left: the read ends (EOFError), the pool is marked broken.
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()


def parallel_map(
    func: Callable[[T], R],
    items: Iterable[T],
    processes: int,
    desc: str,
    total: int | None = None,
    ordered: bool = True,
) -> Iterator[R]:
    """Yield func(item) for each item, over `processes` worker processes, with progress."""
    items = list(items)
    total = len(items) if total is None else total
    if processes <= 1 or len(items) <= 1:
        yield from progress(map(func, items), desc, total=total)
        return
    # concurrent.futures, not multiprocessing.Pool: a Pool replaces a worker that the kernel
    # kills (out of memory, SIGBUS from a full disk under a memory map) and waits forever for
    # its task, so the job hung until its walltime; an executor reports the dead worker.
    pool = ProcessPoolExecutor(min(processes, len(items)), _context(), _one_thread)
    try:
        with _forking():  # the fork context starts every worker at the first submit
            futures = [pool.submit(func, item) for item in items]
        yield from progress(_results(futures, ordered), desc, total=total)
    except BaseException as err:
        _stop_workers(pool)  # an error, a stop signal or an abandoned generator
        if not isinstance(err, BrokenProcessPool):
            raise
        raise RuntimeError(
            f"a worker process of '{desc}' died without a Python error: killed by the system, "
            "most often for being out of memory (give the job more memory, or fewer threads) "
            "or for a full disk under a memory-mapped file (free space); the kernel log "
            "(dmesg) and the job's memory use say which"
        ) from err
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
