"""Process pools for per-image work (decoding, CRF, metrics): one place to choose how."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from unet.common.logs import progress

T = TypeVar("T")
R = TypeVar("R")
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _one_thread() -> None:
    # N processes x M library threads on N cores would oversubscribe and slow every image.
    for var in _THREAD_VARS:
        os.environ[var] = "1"


def _context() -> mp.context.BaseContext:
    # fork: Snakemake runs each script as a temporary __main__ file, which spawn would
    # re-execute in every worker. The workers only run numpy/PIL/pydensecrf code.
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


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
    with _context().Pool(min(processes, len(items)), initializer=_one_thread) as pool:
        run = pool.imap if ordered else pool.imap_unordered
        yield from progress(run(func, items, chunksize=1), desc, total=total)
