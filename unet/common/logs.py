"""One logging setup for every script, and tqdm progress that follows it."""

from __future__ import annotations

import linecache
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # unet/
_REMOTE_FRAME = re.compile(r'File "([^"]+)", line (\d+)')  # a worker's traceback
# How torch's DataLoader re-raises a worker's error in the training process: the same type,
# its message the worker's whole traceback (torch._utils.ExceptionWrapper.reraise)
_LOADER = re.compile(r"Caught \w+ in DataLoader worker process \d+\.\nOriginal (Traceback .*)",
                     re.S)
_NAMED_FILE = re.compile(r"\[Errno \d+\] .*: ('.*'|\".*\")", re.S)  # OSError's, with its file
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_file: str | os.PathLike | None = None, level: int = logging.INFO) -> None:
    """Log to `log_file` (the rule's log), and to stderr: everything without a log file, else
    warnings only, so a Snakemake run's screen is not buried under every job's progress."""
    console = logging.StreamHandler(sys.stderr)
    console.addFilter(_Only("screen"))
    handlers: list[logging.Handler] = [console]
    if log_file:
        console.setLevel(logging.WARNING)
        os.makedirs(os.path.dirname(os.path.abspath(log_file)), exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
        handlers[-1].addFilter(_Only("log"))
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


class _Only(logging.Filter):
    """Lets a handler pass the records tagged `only=` its own place, and the untagged ones."""

    def __init__(self, place: str) -> None:
        super().__init__()
        self.place = place

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "only", self.place) == self.place


def input_error(err: BaseException) -> bool:
    """Whether `err` is bad input rather than a bug: one of the project's own error classes
    (DataLayoutError, MaskValueError, CheckpointError, ...: those defined in `unet`), a plain
    ValueError, OSError or RuntimeError that a `raise` in `unet` made (its message names the
    file or key and the fix), or a failed file operation naming its file. Anything else (a
    KeyError, a ValueError from numpy or torch) is a bug, its traceback the news."""
    if not isinstance(err, Exception):
        return False
    if type(err).__module__.split(".")[0] == "unet":
        return True
    if isinstance(err, OSError) and (err.filename or _NAMED_FILE.fullmatch(message(err))):
        return True  # a DataLoader's worker's OSError comes back without its filename
    return isinstance(err, (ValueError, OSError, RuntimeError)) and _raised_by_unet(err)


def message(err: BaseException) -> str:
    """`err`'s message; for an error a DataLoader's worker raised (train.num_workers > 0), the
    worker's own, not torch's wrapping of it with the worker's traceback."""
    text = _loader_traceback(err)
    if text is None:
        return str(err)
    body = text.splitlines()
    frames = [k for k, line in enumerate(body) if line.startswith('  File "')]
    start = next((k for k in range(frames[-1] + 1 if frames else 1, len(body))
                  if body[k] and not body[k].startswith(" ")), len(body))
    last = "\n".join(body[start:])  # "module.Type: message", format_exception_only's lines
    kind = type(err)
    name = ("" if kind.__module__ == "builtins" else f"{kind.__module__}.") + kind.__qualname__
    return last.removeprefix(name).removeprefix(": ") if last.startswith(name) else str(err)


def _loader_traceback(err: BaseException) -> str | None:
    """The worker's traceback, as text, of an error torch's DataLoader re-raised; else None."""
    found = _LOADER.match(str(err)) if isinstance(err, Exception) else None
    return found.group(1) if found else None


def _raised_by_unet(err: BaseException) -> bool:
    """Whether the innermost frame of `err`'s traceback is a `raise` statement in `unet`; for
    an error a worker raised, of the worker's traceback: a pool's (concurrent.futures gives it
    as text, the cause of the error the parent re-raises) or a DataLoader's (torch gives it as
    the message of the error it re-raises)."""
    remote = str(err.__cause__) if _remote(err.__cause__) else _loader_traceback(err) or ""
    places = _REMOTE_FRAME.findall(remote)
    if places:
        path, line = places[-1]
    else:
        tb = err.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is None:
            return False
        path, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
    path = os.path.abspath(path)
    inside = path.startswith(os.path.join(_PACKAGE, ""))
    return inside and linecache.getline(path, int(line)).lstrip().startswith("raise")


def _remote(cause: BaseException | None) -> bool:
    return type(cause).__name__ == "_RemoteTraceback"


def _log_uncaught(kind, value, tb) -> None:
    """The step's end. A bug: its traceback, on screen and in the log. Bad input: its message
    alone on screen, with where the traceback is (the rule's log, for a bug report); the log
    ends with the message, so Snakemake's show-failed-logs block ends with it too."""
    log = logging.getLogger("unet")
    files = [h.baseFilename for h in logging.getLogger().handlers
             if isinstance(h, logging.FileHandler)]
    if not input_error(value) or not files:  # without a log, nowhere else to keep it
        log.critical("%s: %s", kind.__name__, value, exc_info=(kind, value, tb))
        return
    log.error("the traceback of the error below, for a bug report:", exc_info=(kind, value, tb),
             extra={"only": "log"})
    log.critical("%s: %s", kind.__name__, message(value), extra={"only": "log"})
    log.critical("%s: %s\n(the traceback, for a bug report, is in %s)", kind.__name__,
                 message(value), _shown(files[0]), extra={"only": "screen"})


def _shown(path: str) -> str:
    """`path` as the run gave it: relative to the working folder (a workflow's), where inside."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


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
