"""Process pools: results in order or not, errors raised, and a worker that dies is reported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import REPO
from unet.common.parallel import parallel_map


def _square(x: int) -> int:
    return x * x


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("bad item 3")
    return x


def _die_on_two(x: int) -> int:
    if x == 2:  # as the kernel's OOM killer or a SIGBUS from a full disk under a map would
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def test_results_in_order_and_unordered():
    assert list(parallel_map(_square, range(6), 2, "t")) == [0, 1, 4, 9, 16, 25]
    assert sorted(parallel_map(_square, range(6), 2, "t", ordered=False)) == [0, 1, 4, 9, 16, 25]


def test_an_error_in_a_worker_is_raised():
    with pytest.raises(ValueError, match="bad item 3"):
        list(parallel_map(_fail_on_three, range(6), 2, "t"))


@pytest.mark.parametrize("ordered", [True, False])
def test_a_worker_that_dies_is_an_error_not_a_hang(ordered):
    # multiprocessing.Pool replaces a killed worker and waits for its task forever: the job
    # hung until its walltime. Run in a child so that a hang fails the test, not the suite.
    code = (
        "from tests.test_parallel import _die_on_two\n"
        "from unet.common.parallel import parallel_map\n"
        f"list(parallel_map(_die_on_two, range(6), 2, 'cache', ordered={ordered}))\n"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("parallel_map hung after a worker process was killed")
    assert proc.returncode != 0
    assert "worker process" in proc.stderr and "cache" in proc.stderr
    assert "out of memory" in proc.stderr


class _Big:
    """A result whose collection is seen: weakref-able, made in the worker."""


def _big(x: int) -> _Big:
    return _Big()


@pytest.mark.parametrize("ordered", [True, False])
def test_results_are_not_kept_once_yielded(ordered):
    # Pool.imap let each result go once yielded; a list of futures would keep them all.
    import gc
    import weakref

    refs = []
    for result in parallel_map(_big, range(6), 2, "t", ordered=ordered):
        refs.append(weakref.ref(result))
        del result
        gc.collect()
        assert sum(r() is not None for r in refs) <= 1


def test_a_sigterm_before_a_worker_is_set_up_still_ends_it():
    # A step's own SIGTERM handler (its scratch cleanup, a stop flag) is inherited by each
    # forked worker until the pool's initializer resets it: a worker stopped at once (an error
    # in the first item) ran the parent's handler instead, lived on, and the pool waited for it
    # for ever (a hang seen in CI). Here the SIGTERM lands in every worker right after its fork.
    code = (
        "import os, signal\n"
        "from unet.common.parallel import parallel_map\n"
        "signal.signal(signal.SIGTERM, lambda *a: print('parent handler ran in', os.getpid()))\n"
        "os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGTERM))\n"
        "print(list(parallel_map(int, ['1', '2', '3'], 2, 'cache')))\n"
    )
    proc = _run(code, 60, "parallel_map hung after a SIGTERM to a worker being set up")
    assert "parent handler ran" not in proc.stdout, proc.stdout
    assert proc.returncode != 0 and "worker process" in proc.stderr, proc.stdout + proc.stderr


def test_ctrl_c_while_a_worker_is_sending_a_result_ends_the_step():
    # Ctrl-C reaches every process of the step: a worker stopped between the two writes of a
    # large result (its length, then its bytes) left part of it in the result pipe, and the
    # executor's thread waited for the rest for ever, so did the step, and Snakemake with it
    # (5 in 25 Ctrl-Cs at random moments). Here a worker writes only a result's length, as
    # such a worker did, then Ctrl-C reaches the step.
    code = (
        "import gc, os, signal, struct, time\n"
        "from multiprocessing.queues import SimpleQueue\n"
        "from unet.common.parallel import parallel_map\n"
        "def cut(i):\n"
        "    if i == 0:\n"
        "        out = next(o for o in gc.get_objects() if isinstance(o, SimpleQueue))\n"
        "        out._wlock.acquire()\n"
        "        os.write(out._writer.fileno(), struct.pack('!i', 100000))\n"
        "        os.kill(os.getppid(), signal.SIGINT)\n"
        "    time.sleep(30)\n"
        "list(parallel_map(cut, range(4), 2, 'crf'))\n"
    )
    proc = _run(code, 20, "parallel_map hung after Ctrl-C while a worker was sending its result")
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr, proc.stderr


def _run(code: str, timeout: int, hung: str) -> subprocess.CompletedProcess:
    """`code` run by a fresh Python in the repository; the test fails with `hung` past
    `timeout` seconds."""
    try:
        return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(hung)
